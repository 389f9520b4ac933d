/**
 * Kicking vCPUs out of guest mode and waiting for them: what KVM does for a request that
 * every vCPU must see before running guest code again (a TLB flush, a memslot change, the
 * TDX TRACK after blocking a private page).
 *
 * @module
 */

import { Latch } from "../engine/mod.ts";
import { P } from "../host/primitives.ts";
import type { Flow, HostThread } from "../host/thread.ts";
import type { Vcpu } from "./vcpu.ts";

/**
 * `by` kicks every vCPU in `targets` and waits until each has left guest mode and
 * acknowledged (a vCPU already outside guest mode acknowledges at once). The wait is
 * charged to WAIT_ACK.
 */
export function* kickAndWait(targets: readonly Vcpu[], by: HostThread): Flow {
  if (by.lagCycles > 0) yield by.lagCycles; // the kicks go out at the kicker's own time
  const acks = new Latch(targets.length);
  for (const target of targets) {
    if (target !== by) target.kick(acks, by);
    else acks.countDown();
  }
  yield* by.waitOn(acks, P.WAIT_ACK);
}
