/**
 * A FIFO server with N identical servers: a mutex (N = 1), a pool of pCPUs, AMD's PSP, a
 * VMM thread. Processes acquire a server by yielding the resource and give it back with
 * {@linkcode FifoServer.release}. Waiters are served strictly in arrival order.
 *
 * @example
 * ```ts
 * const sim = new Simulator();
 * const psp = new FifoServer(sim, "psp", 1);
 * sim.process("launch", function* () {
 *   yield psp; // waits while another command holds the PSP
 *   yield 5000; // command latency
 *   psp.release();
 * });
 * ```
 *
 * @module
 */

import { ResourceStats } from "./resource_stats.ts";
import type { Process, Simulator, Waitable } from "./simulator.ts";
import { WaitQueue } from "./wait_queue.ts";

/** N identical servers with one FIFO queue. */
export class FifoServer implements Waitable {
  readonly sim: Simulator;
  readonly stats: ResourceStats;
  readonly #capacity: number;
  readonly #waiting = new WaitQueue();
  #inUse = 0;

  constructor(sim: Simulator, name: string, capacity: number, kind = "fifo-server") {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`Cannot create ${name} with capacity ${capacity}: expected ≥ 1`);
    }
    this.sim = sim;
    this.#capacity = capacity;
    this.stats = new ResourceStats(name, kind, capacity);
  }

  /** Resource name (unique per run). */
  get name(): string {
    return this.stats.name;
  }

  /** Servers currently held. */
  get inUse(): number {
    return this.#inUse;
  }

  /** Processes waiting for a server. */
  get queueLength(): number {
    return this.#waiting.length;
  }

  /** Waitable: grants a server now if one is free, else queues the process. */
  wait(process: Process): boolean {
    const now = this.sim.now;
    if (this.#inUse < this.#capacity && this.#waiting.length === 0) {
      this.#inUse++;
      this.stats.busy.set(now, this.#inUse);
      this.stats.granted(0);
      this.stats.observer?.granted(process, now);
      return true;
    }
    this.#waiting.push(process, now);
    this.stats.queue.set(now, this.#waiting.length);
    this.stats.observer?.queued(now, this.#waiting.length);
    return false;
  }

  /**
   * Takes a server without waiting; returns false (and takes nothing) if none is free.
   * `by` names the holder for an observer.
   */
  tryAcquire(by?: Process): boolean {
    if (this.#inUse >= this.#capacity || this.#waiting.length > 0) return false;
    this.#inUse++;
    this.stats.busy.set(this.sim.now, this.#inUse);
    this.stats.granted(0);
    if (by !== undefined) this.stats.observer?.granted(by, this.sim.now);
    return true;
  }

  /** Gives a server back; the oldest waiter, if any, gets it at the current time. */
  release(): void {
    if (this.#inUse === 0) {
      throw new Error(`Cannot release ${this.name}: no server is held`);
    }
    const now = this.sim.now;
    if (this.#waiting.length > 0) {
      // Hand the server straight to the next waiter: it stays busy.
      this.stats.granted(now - this.#waiting.peekSince());
      const next = this.#waiting.shift();
      this.stats.queue.set(now, this.#waiting.length);
      const observer = this.stats.observer;
      if (observer !== undefined) {
        observer.granted(next, now);
        observer.queued(now, this.#waiting.length);
      }
      next.resume();
      return;
    }
    this.#inUse--;
    this.stats.busy.set(now, this.#inUse);
    this.stats.observer?.freed(now);
  }
}

/** A FIFO mutex: a {@linkcode FifoServer} with one server. */
export class Mutex extends FifoServer {
  constructor(sim: Simulator, name: string) {
    super(sim, name, 1, "mutex");
  }
}
