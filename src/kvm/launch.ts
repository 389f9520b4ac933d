/**
 * A VM's launch: work the VMM does after creating the VM and before its first KVM_RUN
 * (an SNP guest's SNP_LAUNCH_* sequence). It runs on a VMM thread of its own; the vCPU
 * threads sleep until it has finished.
 *
 * @module
 */

import type { Latch } from "../engine/mod.ts";
import { P } from "../host/primitives.ts";
import type { Flow, HostThread } from "../host/thread.ts";
import type { PlatformVm } from "./platform.ts";

/**
 * The VMM thread's body: take a pCPU, run the platform's launch, give the pCPU back and
 * open `launched`.
 */
export function* launchVm(thread: HostThread, platform: PlatformVm, launched: Latch): Flow {
  yield* thread.takeCpu();
  yield* platform.launch!(thread);
  yield* thread.releaseCpu(); // at the thread's own time, so the vCPUs start no earlier
  launched.countDown();
}

/** A vCPU thread sleeps (idle, without a pCPU) until its VM is launched, then runs `body`. */
export function* afterLaunch(vcpu: HostThread, launched: Latch, body: Flow): Flow {
  yield* vcpu.waitOn(launched, P.IDLE);
  yield* body;
}
