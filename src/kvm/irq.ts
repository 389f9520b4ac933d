/**
 * Guest-visible interrupts and guest-memory flags.
 *
 * An {@linkcode IrqSource} is one interrupt vector of a vCPU (its LAPIC timer, IPIs, a
 * virtio queue). Raising it makes it pending; the guest runs the source's handler once it
 * is delivered (posted while running, or injected at the next entry).
 *
 * A {@linkcode GuestFlag} is a word in guest memory one vCPU waits on (an IPI
 * acknowledgement, a request's completion). Setting it needs no exit: a vCPU spinning on it
 * simply sees it.
 *
 * @module
 */

import type { Flow } from "../host/thread.ts";
import type { Vcpu } from "./vcpu.ts";

/** One interrupt vector of a vCPU. */
export interface IrqSource {
  readonly name: string;
  /**
   * The guest's handler, run on `vcpu` in guest mode once the interrupt is delivered;
   * returns a flow when the handler must wait or exit, or nothing when it only charges steps.
   */
  guestHandler(vcpu: Vcpu): Flow | void;
}

/** A guest-memory flag one vCPU may wait on. */
export class GuestFlag {
  #set = false;
  #spinner: Vcpu | undefined;

  /** True once set (until cleared). */
  get isSet(): boolean {
    return this.#set;
  }

  /** Clears the flag for reuse. */
  clear(): void {
    this.#set = false;
  }

  /** Sets the flag (at the caller's synced time); a vCPU spinning on it stops spinning. */
  set(): void {
    this.#set = true;
    const spinner = this.#spinner;
    if (spinner !== undefined) {
      this.#spinner = undefined;
      spinner.flagSet();
    }
  }

  /** @internal Records the vCPU spinning on this flag. */
  spinBy(vcpu: Vcpu | undefined): void {
    this.#spinner = vcpu;
  }
}
