/**
 * A countdown latch: processes that yield it wait until its count reaches zero. Used for
 * "send N requests, wait for N acknowledgements" (kicks, IPIs, TLB shootdowns).
 *
 * @example
 * ```ts
 * const acks = new Latch(3);
 * // ... each target calls acks.countDown() when it has acknowledged
 * yield acks; // resumes once all three have
 * ```
 *
 * @module
 */

import type { Process, Waitable } from "./simulator.ts";

/** Waits for a count to reach zero. */
export class Latch implements Waitable {
  #remaining: number;
  #waiters: Process[] = [];

  constructor(count: number) {
    if (!Number.isInteger(count) || count < 0) {
      throw new RangeError(`Cannot create a latch with count ${count}: expected an integer ≥ 0`);
    }
    this.#remaining = count;
  }

  /** Count still outstanding. */
  get remaining(): number {
    return this.#remaining;
  }

  /** Decrements the count; at zero every waiter resumes (at the current time). */
  countDown(): void {
    if (this.#remaining === 0) throw new Error("Cannot count down a latch that is already open");
    if (--this.#remaining > 0) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter.resume();
  }

  /** Waitable: continue at once if open, else wait for the count to reach zero. */
  wait(process: Process): boolean {
    if (this.#remaining === 0) return true;
    this.#waiters.push(process);
    return false;
  }
}
