/**
 * A vCPU: a host thread that runs guest code, with exit counts by reason.
 *
 * @module
 */

import type { Simulator } from "../engine/mod.ts";
import { EXIT_REASON_NAMES } from "../host/exit_reasons.ts";
import { HostThread } from "../host/thread.ts";

/** A vCPU thread of some VM. */
export class Vcpu extends HostThread {
  /** Name of its VM. */
  readonly vmName: string;
  /** Index within its VM. */
  readonly index: number;
  /** Exits by exit-reason id. */
  readonly exitCounts: Float64Array = new Float64Array(EXIT_REASON_NAMES.length);

  constructor(sim: Simulator, costs: Float64Array, vmName: string, index: number) {
    super(sim, costs, `${vmName}/vcpu${index}`, "vcpu");
    this.vmName = vmName;
    this.index = index;
  }

  /** Counts one exit with reason id `reason`. */
  countExit(reason: number): void {
    this.exitCounts[reason]++;
  }
}
