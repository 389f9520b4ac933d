/**
 * A fair reader-writer lock (like the kernel's queued rwlock and `mmu_lock` in its rwlock
 * form): readers share, a writer excludes everyone, and arrivals are served in FIFO order,
 * so a waiting writer holds back readers that arrive after it.
 *
 * @example
 * ```ts
 * const mmuLock = new RwLock(sim, "mmu_lock");
 * sim.process("fault", function* () {
 *   yield mmuLock.read;
 *   yield 300;
 *   mmuLock.read.release();
 * });
 * ```
 *
 * @module
 */

import { ResourceStats } from "./resource_stats.ts";
import type { Process, Simulator, Waitable } from "./simulator.ts";
import { WaitQueue } from "./wait_queue.ts";

const READ = 0;
const WRITE = 1;

/** One mode of a {@linkcode RwLock}: yield it to acquire, call release() to give it back. */
export interface RwLockMode extends Waitable {
  /** Gives the lock back in this mode. */
  release(): void;
  /**
   * Takes the lock in this mode if that needs no wait; returns false (taking nothing) if
   * not. `by` names the holder for an observer.
   */
  tryAcquire(by?: Process): boolean;
  /** Statistics of acquisitions in this mode. */
  readonly stats: ResourceStats;
}

/** Fair FIFO reader-writer lock. */
export class RwLock {
  readonly sim: Simulator;
  readonly name: string;
  /** Acquire for reading. */
  readonly read: RwLockMode;
  /** Acquire for writing. */
  readonly write: RwLockMode;
  /** Held in any mode (utilization) and queue length over both modes. */
  readonly stats: ResourceStats;
  readonly #waiting = new WaitQueue();
  #readers = 0;
  #writer = false;

  constructor(sim: Simulator, name: string) {
    this.sim = sim;
    this.name = name;
    this.stats = new ResourceStats(name, "rwlock", 1);
    this.read = this.#mode(READ, new ResourceStats(`${name}.read`, "rwlock-read", 1));
    this.write = this.#mode(WRITE, new ResourceStats(`${name}.write`, "rwlock-write", 1));
  }

  /** Current readers. */
  get readers(): number {
    return this.#readers;
  }

  /** Processes waiting for the lock, in either mode (rwlock_needbreak() asks this). */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** True while a writer holds the lock. */
  get writerHeld(): boolean {
    return this.#writer;
  }

  #mode(mode: number, stats: ResourceStats): RwLockMode {
    return {
      stats,
      wait: (process: Process) => this.#acquire(process, mode, stats),
      release: () => this.#release(mode),
      tryAcquire: (by?: Process) => this.#tryAcquire(mode, stats, by),
    };
  }

  #canGrant(mode: number): boolean {
    return mode === READ ? !this.#writer : !this.#writer && this.#readers === 0;
  }

  #acquire(process: Process, mode: number, stats: ResourceStats): boolean {
    const now = this.sim.now;
    if (this.#waiting.length === 0 && this.#canGrant(mode)) {
      this.#take(mode, now, process);
      stats.granted(0);
      this.stats.granted(0);
      return true;
    }
    this.#waiting.push(process, now, mode);
    this.stats.queue.set(now, this.#waiting.length);
    this.stats.observer?.queued(now, this.#waiting.length);
    return false;
  }

  #tryAcquire(mode: number, stats: ResourceStats, by: Process | undefined): boolean {
    if (this.#waiting.length > 0 || !this.#canGrant(mode)) return false;
    const now = this.sim.now;
    if (mode === READ) this.#readers++;
    else {
      this.#writer = true;
      if (by !== undefined) this.stats.observer?.granted(by, now);
    }
    this.stats.busy.set(now, 1);
    stats.busy.set(now, 1);
    stats.granted(0);
    this.stats.granted(0);
    return true;
  }

  #take(mode: number, now: number, process: Process): void {
    if (mode === READ) this.#readers++;
    else {
      this.#writer = true;
      this.stats.observer?.granted(process, now);
    }
    this.stats.busy.set(now, 1);
    (mode === READ ? this.read : this.write).stats.busy.set(now, 1);
  }

  #release(mode: number): void {
    const now = this.sim.now;
    if (mode === READ) {
      if (this.#readers === 0) {
        throw new Error(`Cannot release ${this.name} for reading: no reader holds it`);
      }
      this.#readers--;
      if (this.#readers === 0) this.read.stats.busy.set(now, 0);
    } else {
      if (!this.#writer) {
        throw new Error(`Cannot release ${this.name} for writing: no writer holds it`);
      }
      this.#writer = false;
      this.write.stats.busy.set(now, 0);
    }
    // Grant in arrival order: one writer, or every reader up to the next writer.
    while (this.#waiting.length > 0) {
      const mode = this.#waiting.peekTag()!;
      if (!this.#canGrant(mode)) break;
      const waited = now - this.#waiting.peekSince();
      const process = this.#waiting.shift();
      this.#take(mode, now, process);
      (mode === READ ? this.read : this.write).stats.granted(waited);
      this.stats.granted(waited);
      process.resume();
      if (mode === WRITE) break;
    }
    this.stats.queue.set(now, this.#waiting.length);
    const observer = this.stats.observer;
    if (observer !== undefined) {
      if (mode === WRITE && !this.#writer) observer.freed(now); // no writer took over
      observer.queued(now, this.#waiting.length);
    }
    if (this.#readers === 0 && !this.#writer) this.stats.busy.set(now, 0);
  }
}
