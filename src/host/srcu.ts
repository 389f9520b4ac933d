/**
 * Sleepable RCU as KVM uses it (kvm->srcu): readers enter and leave read-side sections
 * without blocking; `synchronize` waits until every reader that was inside a section when
 * it started has left (a grace period). Readers that arrive later do not delay it.
 *
 * @module
 */

import type { Process, Simulator, Waitable } from "../engine/mod.ts";

/** An SRCU domain. */
export class Srcu {
  readonly name: string;
  readonly sim: Simulator;
  /** Sequence numbers of the readers inside a section, oldest first. */
  readonly #active: number[] = [];
  #nextReader = 0;
  /** Waiters and the first reader sequence they need not wait for. */
  readonly #waiters: { process: Process; before: number }[] = [];

  constructor(sim: Simulator, name: string) {
    this.sim = sim;
    this.name = name;
  }

  /** Readers currently inside a section. */
  get readers(): number {
    return this.#active.length;
  }

  /** Enters a read-side section; returns the token to leave it with. */
  readLock(): number {
    const token = this.#nextReader++;
    this.#active.push(token);
    return token;
  }

  /** Leaves the read-side section entered with `token`. */
  readUnlock(token: number): void {
    const at = this.#active.indexOf(token);
    if (at < 0) throw new Error(`Cannot leave ${this.name}: reader ${token} is not inside`);
    this.#active.splice(at, 1);
    this.#release();
  }

  /** A waitable for one grace period starting now. */
  gracePeriod(): Waitable {
    const before = this.#nextReader;
    return {
      wait: (process: Process) => {
        if (this.#oldest() >= before) return true;
        this.#waiters.push({ process, before });
        return false;
      },
    };
  }

  #oldest(): number {
    return this.#active.length > 0 ? this.#active[0] : Infinity;
  }

  #release(): void {
    const oldest = this.#oldest();
    for (let i = 0; i < this.#waiters.length;) {
      if (oldest >= this.#waiters[i].before) {
        this.#waiters.splice(i, 1)[0].process.resume();
      } else i++;
    }
  }
}
