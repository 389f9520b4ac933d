/**
 * An auto-reset signal: a process that yields it waits until someone calls
 * {@linkcode Signal.fire}. A fire with nobody waiting is remembered, so the next wait
 * returns at once (no lost wake-ups). Used for "sleep until there is work" (a blocked vCPU
 * thread, an idle backend thread).
 *
 * @example
 * ```ts
 * const work = new Signal();
 * sim.process("worker", function* () {
 *   for (;;) {
 *     yield work; // sleeps until fired
 *     // ... drain the queue
 *   }
 * }());
 * work.fire();
 * ```
 *
 * @module
 */

import type { Process, Waitable } from "./simulator.ts";

/** Wakes one waiting process per fire; remembers a fire nobody waited for. */
export class Signal implements Waitable {
  #waiter: Process | undefined;
  #fired = false;

  /** True while a process waits on this signal. */
  get waiting(): boolean {
    return this.#waiter !== undefined;
  }

  /** Waitable: continue at once if fired since the last wait, else sleep until fired. */
  wait(process: Process): boolean {
    if (this.#fired) {
      this.#fired = false;
      return true;
    }
    if (this.#waiter !== undefined) {
      throw new Error(`Cannot wait on a signal twice: ${this.#waiter.name} already waits`);
    }
    this.#waiter = process;
    return false;
  }

  /**
   * Wakes the waiting process after `delayCycles` (a waker ahead of the simulator's time
   * wakes it at its own time), or remembers the fire (only with no delay: a remembered
   * fire has no time).
   */
  fire(delayCycles = 0): void {
    const waiter = this.#waiter;
    if (waiter === undefined) {
      if (delayCycles !== 0) {
        throw new Error(`Cannot fire a signal ${delayCycles} cycles ahead: nobody waits on it`);
      }
      this.#fired = true;
      return;
    }
    this.#waiter = undefined;
    waiter.resume(undefined, delayCycles);
  }

  /** Forgets a remembered fire (fires that one wake-up already answers). */
  forget(): void {
    this.#fired = false;
  }
}
