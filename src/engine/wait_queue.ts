/**
 * A FIFO of parked processes with the time each started waiting and a small tag.
 * Grows once and then reuses its arrays, so queueing allocates nothing in steady state.
 *
 * @module
 */

import type { Process } from "./simulator.ts";

/** FIFO of waiting processes. */
export class WaitQueue {
  #processes: (Process | undefined)[] = [];
  #sinceCycles: number[] = [];
  #tags: number[] = [];
  #head = 0;

  /** Number of waiting processes. */
  get length(): number {
    return this.#processes.length - this.#head;
  }

  /** Appends `process`, waiting since `sinceCycles`, with an integer `tag`. */
  push(process: Process, sinceCycles: number, tag = 0): void {
    this.#processes.push(process);
    this.#sinceCycles.push(sinceCycles);
    this.#tags.push(tag);
  }

  /** Tag of the oldest waiter (undefined when empty). */
  peekTag(): number | undefined {
    return this.length > 0 ? this.#tags[this.#head] : undefined;
  }

  /** Time the oldest waiter started waiting. */
  peekSince(): number {
    return this.#sinceCycles[this.#head];
  }

  /** Removes and returns the oldest waiter. */
  shift(): Process {
    const process = this.#processes[this.#head]!;
    this.#processes[this.#head] = undefined;
    this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#processes.length) this.#compact();
    return process;
  }

  #compact(): void {
    this.#processes = this.#processes.slice(this.#head);
    this.#sinceCycles = this.#sinceCycles.slice(this.#head);
    this.#tags = this.#tags.slice(this.#head);
    this.#head = 0;
  }
}
