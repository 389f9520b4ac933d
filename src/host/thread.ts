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

import type { Process, Signal, Simulator, Waitable, Yieldable } from "../engine/mod.ts";
import type { Timeline } from "../report/timeline.ts";
import type { CpuClient, CpuPool } from "./cpu_pool.ts";
import { P, PRIMITIVE_COUNT } from "./primitives.ts";

/**
 * A flow: a generator run inside a thread's process. A flow calls a short flow with
 * `yield*` (`yield* vcpu.halt()`): no trip through the engine, and the few wake-ups inside
 * pass through each delegating frame (about 15 ns a level). It calls a long one, which
 * loops over a range of pages, a batch or every vCPU and waits many times inside, by
 * yielding it (`yield this.#accept(vcpu, first, 512)`): the process runs it from its stack
 * (src/engine/simulator.ts), so each wake-up resumes only the innermost generator, for one
 * trip through the engine per call (about 100 ns). `yield* returnOf(flow)` is the latter
 * with the flow's return value typed.
 */
export type Flow<T = void> = Generator<Yieldable, T, unknown>;

/** A waitable that only parks the process: whoever it asked resumes it. */
const PARKED: Waitable = { wait: () => false };

/** Runs `flow` as a sub-flow and gives back what it returns, typed (use with `yield*`). */
export function* returnOf<T>(flow: Flow<T>): Flow<T> {
  return (yield flow) as T;
}

/** What a host thread is for. */
export type ThreadKind = "vcpu" | "vmm" | "daemon" | "kernel";

/** A host thread with per-primitive time accounts, scheduled on the host's pCPUs. */
export class HostThread implements CpuClient {
  readonly name: string;
  readonly kind: ThreadKind;
  /** Cycles charged per primitive id. */
  readonly primCycles: Float64Array = new Float64Array(PRIMITIVE_COUNT);
  /** Occurrences per primitive id. */
  readonly primCounts: Float64Array = new Float64Array(PRIMITIVE_COUNT);
  /** Local time: every cycle before it has been charged. Never behind the simulator. */
  cursorCycles = 0;
  /** True while the thread holds a pCPU (at the simulator's time). */
  get onCpu(): boolean {
    return this.sim.now < this.#offCpuAtCycles;
  }
  /** The thread's process once started. */
  process: Process | undefined;
  /** End of the current time slice (set by the pCPU pool). */
  sliceEndCycles = 0;
  /** When it gives up (or gave up) its pCPU: +∞ while it holds one. */
  #offCpuAtCycles = 0;
  /** When its last {@linkcode sleep} began (it may be ahead of the simulator's time). */
  #asleepSinceCycles = 0;
  /** The scheduler asked this thread to yield its pCPU at the next preemption point. */
  needResched = false;
  /** The pCPU it runs on (kept by the pool), or -1. */
  cpuId = -1;
  /** The pCPU it last ran on (kept by the pool), or -1. */
  lastCpuId = -1;
  /** Kept by the pool (its list of running threads). */
  runningPrev: CpuClient | undefined;
  runningNext: CpuClient | undefined;
  inRunning = false;
  /** Set by the pool with each grant (see {@linkcode CpuClient}). */
  grantIdleCycles = 0;
  grantPrevious: CpuClient | undefined;
  /** What its caches share with other threads (its process: a VM's, or its own). */
  addressSpace: string;
  /** Where its steps are recorded, when a timeline is being recorded. */
  timeline: Timeline | undefined;
  /** Its lane on the timeline, or -1. */
  lane = -1;
  /** The guest operation in progress (its steps belong to it), or -1. */
  currentOp = -1;
  readonly sim: Simulator;
  /** Cycles by primitive id (the resolved profile). */
  readonly costs: Float64Array;
  protected readonly pool: CpuPool;
  /** Primitive of the interruptible activity in progress while yielded, or -1. */
  #openPrim = -1;

  /**
   * @param costs cycles by primitive id (the resolved profile)
   * @param pool the host's pCPUs
   */
  constructor(
    sim: Simulator,
    costs: Float64Array,
    pool: CpuPool,
    name: string,
    kind: ThreadKind,
  ) {
    this.sim = sim;
    this.costs = costs;
    this.pool = pool;
    this.name = name;
    this.kind = kind;
    this.addressSpace = name;
  }

  /** Starts the thread's process running `body`. */
  start(body: Flow): void {
    this.process = this.sim.process(this.name, body);
  }

  /** Charges one occurrence of a fixed-cost primitive at the local time. */
  step(prim: number): void {
    const cycles = this.costs[prim];
    if (this.timeline !== undefined) this.#record(prim, this.cursorCycles, cycles);
    this.cursorCycles += cycles;
    this.primCycles[prim] += cycles;
    this.primCounts[prim]++;
  }

  /** Charges `times` back-to-back occurrences of a fixed-cost primitive. */
  stepTimes(prim: number, times: number): void {
    const cycles = this.costs[prim] * times;
    if (this.timeline !== undefined) this.#record(prim, this.cursorCycles, cycles);
    this.cursorCycles += cycles;
    this.primCycles[prim] += cycles;
    this.primCounts[prim] += times;
  }

  /** Charges one occurrence of a primitive whose duration is given. */
  stepCycles(prim: number, cycles: number): void {
    if (this.timeline !== undefined) this.#record(prim, this.cursorCycles, cycles);
    this.cursorCycles += cycles;
    this.primCycles[prim] += cycles;
    this.primCounts[prim]++;
  }

  /**
   * Records a step on the timeline. Once the thread's time is past what the timeline
   * still takes (it stopped at its span limit, or its window ended) and no guest operation
   * it belongs to is open, the thread stops offering it spans: a long run then pays for
   * its timeline only while it is being recorded.
   */
  #record(prim: number, start: number, cycles: number): void {
    const timeline = this.timeline!;
    timeline.step(this.lane, prim, this.currentOp, start, cycles);
    if (start >= timeline.closedFromCycles && this.currentOp < 0) this.timeline = undefined;
  }

  /** A yield point that charges nothing: lets a pending stop of the run take effect. */
  *pause(): Flow {
    yield 0;
  }

  /**
   * How far the local time is ahead of the simulator's. Before touching shared state a
   * flow lets the simulator catch up: `if (t.lagCycles > 0) yield t.lagCycles;`.
   */
  get lagCycles(): number {
    return this.cursorCycles - this.sim.now;
  }

  /**
   * Spends `cycles` in an activity such as guest execution, starting at the local time.
   * Returns the interrupt cause if the thread's process was interrupted first (the
   * activity is then charged only up to the interruption), else undefined.
   */
  *spend(prim: number, cycles: number): Flow<unknown> {
    const cause = yield this.beginActivity(prim, cycles);
    this.endActivity();
    return cause;
  }

  /**
   * The first half of {@linkcode spend}, for hot paths that yield themselves: marks the
   * activity open and returns the delay to yield. Call {@linkcode endActivity} after.
   */
  beginActivity(prim: number, cycles: number): number {
    this.#openPrim = prim;
    return this.cursorCycles - this.sim.now + cycles;
  }

  /** The second half of {@linkcode spend}: charges the activity up to the current time. */
  endActivity(): void {
    const prim = this.#openPrim;
    this.#openPrim = -1;
    const start = this.cursorCycles;
    // An interrupt never lands before the activity starts (senders respect local time).
    const end = Math.max(this.sim.now, start);
    if (this.timeline !== undefined) this.#record(prim, start, end - start);
    this.primCycles[prim] += end - start;
    this.primCounts[prim]++;
    this.cursorCycles = end;
  }

  /** Waits on `waitable` from the local time, charging the wait to `prim`. */
  *waitOn(waitable: Waitable, prim: number): Flow {
    const lag = this.cursorCycles - this.sim.now;
    if (lag > 0) yield lag;
    this.#openPrim = prim;
    // Asked directly (a free resource costs no trip through the engine and the flows
    // above); the waitable resumes the process later when it says to wait.
    if (!waitable.wait(this.process!)) yield PARKED;
    this.#endWait();
  }

  /**
   * True if, while it waits in {@linkcode sleep}, it had gone to sleep by `atCycles`: a
   * thread that parks ahead of the simulator's time is still on its way to sleep before
   * then, and a wake-up then costs the waker nothing.
   */
  asleepBy(atCycles: number): boolean {
    return this.#asleepSinceCycles <= atCycles;
  }

  /** Charges the wait that just ended to the open primitive. */
  #endWait(): void {
    const prim = this.#openPrim;
    this.#openPrim = -1;
    const waited = this.sim.now - this.cursorCycles;
    if (waited > 0) {
      if (this.timeline !== undefined) this.#record(prim, this.cursorCycles, waited);
      this.primCycles[prim] += waited;
      this.primCounts[prim]++;
      this.cursorCycles = this.sim.now;
    }
  }

  /**
   * Gets a pCPU (queueing if none is free, charged as WAIT_PCPU) and is switched in;
   * `woken`: the thread was asleep (see {@linkcode switchIn}).
   */
  *takeCpu(woken = false): Flow {
    const lag = this.cursorCycles - this.sim.now;
    if (lag > 0) yield lag;
    this.#openPrim = P.WAIT_PCPU;
    // (Asked here, not by yielding a waitable: a free pCPU then costs no trip through
    // the engine and the flows above; the pool resumes the process when it queued.)
    if (!this.pool.take(this)) yield PARKED;
    this.#endWait();
    this.#offCpuAtCycles = Infinity;
    this.switchIn(woken);
  }

  /**
   * The scheduler's costs of getting onto the granted pCPU. A thread woken onto an idle
   * pCPU waits for the wake-up (SCHED_WAKEUP, drawn from the profile's distribution) and
   * for the pCPU to leave its idle state (CSTATE_EXIT); otherwise it is switched in from
   * the thread that ran there (CONTEXT_SWITCH). It then refills its caches (CACHE_COLD)
   * if an unrelated thread ran there before or the idle state flushed them.
   */
  switchIn(woken: boolean): void {
    const idle = this.grantIdleCycles;
    let flushed = false;
    if (woken && idle > 0) {
      const prim = P.SCHED_WAKEUP;
      this.stepCycles(prim, this.pool.wakeupCycles(this.costs[prim], this.pool.p99Of(prim)));
      const exit = this.pool.idleExit(idle);
      if (exit.exitCycles > 0) this.stepCycles(P.CSTATE_EXIT, exit.exitCycles);
      flushed = exit.flushesCaches;
    } else {
      this.step(P.CONTEXT_SWITCH);
    }
    const previous = this.grantPrevious;
    if (flushed || (previous !== undefined && previous.addressSpace !== this.addressSpace)) {
      this.step(P.CACHE_COLD);
    }
  }

  /**
   * This thread runs KVM vCPU `key` on its pCPU now: with mitigations on, KVM issues an
   * IBPB if the pCPU last ran a different vCPU.
   */
  loadVcpu(key: object): void {
    if (this.pool.switchesVcpu(this.cpuId, key) && this.pool.config.mitigations) {
      this.step(P.IBPB);
    }
  }

  /** Gives the pCPU back at the local time. */
  *releaseCpu(): Flow {
    const lag = this.cursorCycles - this.sim.now;
    if (lag > 0) yield lag;
    this.#offCpuAtCycles = this.sim.now;
    this.pool.release(this);
  }

  /** True while the thread only polls for work (see {@linkcode CpuClient.polling}). */
  get polling(): boolean {
    return false;
  }

  /** Asks the thread to yield its pCPU at its next preemption point (see {@linkcode reschedule}). */
  requestResched(): void {
    this.needResched = true;
  }

  /** A preemption point: if the scheduler asked, go to the back of the run queue. */
  *reschedule(): Flow {
    if (!this.needResched) return;
    yield* this.releaseCpu();
    yield* this.takeCpu(false);
  }

  /**
   * Gives up the pCPU and sleeps until `wake` fires (charged to `prim`), then waits for a
   * pCPU and is switched in. (One flat generator: this is on every backend's hot path.)
   *
   * The thread may be ahead of the simulator (its local time): it goes to sleep then. A
   * wake-up that comes before then found it on its way: with `working`, it was still at
   * work then (it checked for more work at its own time), so it does not sleep at all and
   * returns false at its local time, with the fire remembered as a fire that came while it
   * worked is; otherwise it sleeps and wakes at once, as after a fire that came just before
   * it slept. Returns true once it has slept.
   */
  *sleep(wake: Signal, prim: number, working = false): Flow<boolean> {
    // The pCPU goes back at the local time, without waiting for the simulator to get there
    // (the pool keeps it held until then), unless a thread queued for it must get it then.
    const lag = this.cursorCycles - this.sim.now;
    if (!this.pool.releaseAt(this, this.cursorCycles)) {
      yield lag;
      this.pool.release(this);
    }
    this.#offCpuAtCycles = this.cursorCycles;
    this.#asleepSinceCycles = this.cursorCycles;
    this.#openPrim = prim;
    yield wake;
    // Woken before its local time: the wake-up came while it was on its way to sleep, and
    // it sees it when it gets there, with any others that came meanwhile.
    if (this.cursorCycles > this.sim.now) {
      if (working && this.pool.keep(this)) {
        this.#openPrim = -1;
        this.#offCpuAtCycles = Infinity;
        wake.fire();
        yield this.cursorCycles - this.sim.now;
        return false;
      }
      yield this.cursorCycles - this.sim.now;
      wake.forget();
    }
    this.#endWait();
    this.#openPrim = P.WAIT_PCPU;
    // (Asked here, not by yielding a waitable: a free pCPU then costs no trip through
    // the engine and the flows above; the pool resumes the process when it queued.)
    if (!this.pool.take(this)) yield PARKED;
    this.#endWait();
    this.#offCpuAtCycles = Infinity;
    this.switchIn(true);
    return true;
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
      this.timeline?.step(this.lane, prim, this.currentOp, this.cursorCycles, tail);
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
