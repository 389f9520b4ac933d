/**
 * A host thread (a vCPU thread, a VMM I/O thread, a host daemon) and its time accounts.
 *
 * Flows are written as sequences of steps: `thread.step(P.VMEXIT)` charges one primitive
 * at the thread's local time. Steps that touch nothing shared run back to back without
 * going through the event queue: the thread's local clock (`cursorCycles`) runs ahead of
 * the simulator's, and the thread only yields where it interacts — a resource, a wait, a
 * stretch of guest execution — after first letting the simulator catch up. Every step is
 * still charged with its own cost, so the accounts (and, later, the timeline) see each one.
 *
 * Invariant: all of a thread's time before `cursorCycles` has been charged to exactly one
 * primitive (and so one domain). At the end of a run {@linkcode HostThread.finalize}
 * charges the activity in progress and any idle tail, so every thread's charges add up to
 * the simulated span.
 *
 * @module
 */

import type { Process, Simulator, Waitable, Yieldable } from "../engine/mod.ts";
import { P, PRIMITIVE_COUNT } from "./primitives.ts";

/** A flow: a generator run inside a thread's process (use with `yield*`). */
export type Flow<T = void> = Generator<Yieldable, T, unknown>;

/** What a host thread is for. */
export type ThreadKind = "vcpu" | "vmm" | "daemon";

/** A host thread with per-primitive time accounts. */
export class HostThread {
  readonly name: string;
  readonly kind: ThreadKind;
  /** Cycles charged per primitive id. */
  readonly primCycles: Float64Array = new Float64Array(PRIMITIVE_COUNT);
  /** Occurrences per primitive id. */
  readonly primCounts: Float64Array = new Float64Array(PRIMITIVE_COUNT);
  /** Local time: every cycle before it has been charged. Never behind the simulator. */
  cursorCycles = 0;
  /** The thread's process once started. */
  process: Process | undefined;
  protected readonly sim: Simulator;
  protected readonly costs: Float64Array;
  /** Primitive of the interruptible activity in progress while yielded, or -1. */
  #openPrim = -1;

  /**
   * @param costs cycles by primitive id (the resolved profile)
   */
  constructor(sim: Simulator, costs: Float64Array, name: string, kind: ThreadKind) {
    this.sim = sim;
    this.costs = costs;
    this.name = name;
    this.kind = kind;
  }

  /** Starts the thread's process running `body`. */
  start(body: Flow): void {
    this.process = this.sim.process(this.name, body);
  }

  /** Charges one occurrence of a fixed-cost primitive at the local time. */
  step(prim: number): void {
    const cycles = this.costs[prim];
    this.cursorCycles += cycles;
    this.primCycles[prim] += cycles;
    this.primCounts[prim]++;
  }

  /** Charges `times` back-to-back occurrences of a fixed-cost primitive. */
  stepTimes(prim: number, times: number): void {
    const cycles = this.costs[prim] * times;
    this.cursorCycles += cycles;
    this.primCycles[prim] += cycles;
    this.primCounts[prim] += times;
  }

  /** Charges one occurrence of a primitive whose duration is given. */
  stepCycles(prim: number, cycles: number): void {
    this.cursorCycles += cycles;
    this.primCycles[prim] += cycles;
    this.primCounts[prim]++;
  }

  /** Lets the simulator catch up with the local time (before touching shared state). */
  *sync(): Flow {
    const lag = this.cursorCycles - this.sim.now;
    if (lag > 0) yield lag;
  }

  /**
   * Spends `cycles` in an activity such as guest execution, starting at the local time.
   * Returns the interrupt cause if the thread's process was interrupted first (the
   * activity is then charged only up to the interruption), else undefined.
   */
  *spend(prim: number, cycles: number): Flow<unknown> {
    const start = this.cursorCycles;
    this.#openPrim = prim;
    const cause = yield start - this.sim.now + cycles;
    this.#openPrim = -1;
    // An interrupt never lands before the activity starts (senders respect local time).
    const end = Math.max(this.sim.now, start);
    this.primCycles[prim] += end - start;
    this.primCounts[prim]++;
    this.cursorCycles = end;
    return cause;
  }

  /** Acquires `resource` at the local time, charging any wait to `waitPrim`. */
  *acquire(resource: Waitable, waitPrim: number): Flow {
    const lag = this.cursorCycles - this.sim.now;
    if (lag > 0) yield lag;
    this.#openPrim = waitPrim;
    yield resource;
    this.#openPrim = -1;
    const waited = this.sim.now - this.cursorCycles;
    if (waited > 0) {
      this.primCycles[waitPrim] += waited;
      this.primCounts[waitPrim]++;
      this.cursorCycles = this.sim.now;
    }
  }

  /**
   * Closes the accounts at `endCycles` (≥ every thread's local time): the activity in
   * progress is charged up to the end, and time after the thread's last step is idle.
   */
  finalize(endCycles: number): void {
    if (endCycles < this.cursorCycles) {
      throw new Error(
        `Cannot close ${this.name} at cycle ${endCycles}: it has charged up to ${this.cursorCycles}`,
      );
    }
    const tail = endCycles - this.cursorCycles;
    if (tail > 0) {
      const prim = this.#openPrim >= 0 ? this.#openPrim : P.IDLE;
      this.primCycles[prim] += tail;
      this.primCounts[prim]++;
    }
    this.#openPrim = -1;
    this.cursorCycles = endCycles;
  }

  /** Sum of all charged cycles (equals `cursorCycles` while the invariant holds). */
  chargedCycles(): number {
    let total = 0;
    for (let i = 0; i < PRIMITIVE_COUNT; i++) total += this.primCycles[i];
    return total;
  }
}
