/**
 * The discrete-event simulator: an integer-cycle clock, the future-event list and the
 * run loop, plus generator-based processes.
 *
 * A process is a generator that yields what it waits for:
 * - a non-negative integer: resume after that many cycles;
 * - a {@linkcode Waitable} (a resource request, a latch, another process): resume when it
 *   fires. A waitable that is already available lets the process continue at once, without
 *   a trip through the event queue;
 * - another generator (a sub-flow): run it now, as `yield*` would, and resume with what it
 *   returns (or with what it throws). The process keeps the callers on a stack, so waking
 *   it resumes only the innermost generator: with `yield*`, every wake-up would pass
 *   through each delegating frame (about 15 ns a level in V8), and flows nest deep.
 *
 * @example
 * ```ts
 * const sim = new Simulator();
 * sim.process("ping", function* () {
 *   yield 10; // sim.now === 10 afterwards
 * });
 * sim.run({ untilCycles: 100 });
 * ```
 *
 * @module
 */

import { EventQueue, PRIORITY_NORMAL, PRIORITY_URGENT, type Wakeable } from "./event_queue.ts";

/** Something a process can wait on by yielding it. */
export interface Waitable {
  /**
   * Called when `process` yields this object. Returns `true` if the process may continue
   * immediately, or `false` after arranging to call `process.resume()` later.
   */
  wait(process: Process): boolean;
}

/** A generator a process runs as a sub-flow (see the module doc). */
// deno-lint-ignore no-explicit-any
export type SubFlow = Generator<any, unknown, unknown>;

/** What a process body may yield. */
export type Yieldable = number | Waitable | SubFlow;

/** A process body: a generator that yields waits and receives resume values. */
export type ProcessBody = Generator<Yieldable, void, unknown>;

/** Why {@linkcode Simulator.run} returned. */
export type StopReason = "until" | "stopped" | "empty" | "max-events";

/** Options of {@linkcode Simulator.run}. */
export interface RunOptions {
  /** Process events up to and including this time; later events stay queued. */
  untilCycles?: number;
  /** Return after this many events (a safety limit). */
  maxEvents?: number;
  /** Called every `progressEveryEvents` events with the current time (for progress bars). */
  onProgress?: (nowCycles: number) => void;
  /** How often `onProgress` is called; default 1 048 576 events. */
  progressEveryEvents?: number;
}

/** What {@linkcode Simulator.run} reports. */
export interface RunResult {
  reason: StopReason;
  /** Simulated time when the run returned. */
  nowCycles: number;
  /** Events processed by this call. */
  events: number;
}

/** The simulation clock and event loop. */
export class Simulator {
  /** Current simulated time in cycles. Models read it; only the loop advances it. */
  now = 0;
  /** Events processed so far over all runs. */
  eventsProcessed = 0;
  readonly #queue = new EventQueue();
  #stopRequested = false;

  /** Number of pending events. */
  get pendingEvents(): number {
    return this.#queue.size;
  }

  /**
   * Calls `callback` after `delayCycles`.
   * @throws if the delay is negative or not an integer.
   */
  call(delayCycles: number, callback: () => void, priority: number = PRIORITY_NORMAL): void {
    checkDelay(delayCycles, this.now, "a callback");
    new OneShot(this.#queue, this.now + delayCycles, priority, callback);
  }

  /** A reusable timer that calls `callback` when it fires (see {@linkcode Timer}). */
  timer(callback: () => void): Timer {
    return new Timer(this, this.#queue, callback);
  }

  /** Starts a process now (it runs its first step at the current time, after older events). */
  process(name: string, body: ProcessBody): Process {
    return new Process(this, this.#queue, name, body);
  }

  /** Makes the running {@linkcode run} call return after the current event. */
  stop(): void {
    this.#stopRequested = true;
  }

  /** Processes events in (time, priority, sequence) order until a stop condition holds. */
  run(options: RunOptions = {}): RunResult {
    const until = options.untilCycles ?? Infinity;
    const maxEvents = options.maxEvents ?? Infinity;
    const onProgress = options.onProgress;
    const progressEvery = onProgress === undefined
      ? Infinity
      : (options.progressEveryEvents ?? 1 << 20);
    const queue = this.#queue;
    this.#stopRequested = false;
    let events = 0;
    // One comparison per event covers both the event limit and the progress callback.
    let nextCheck = Math.min(maxEvents, progressEvery);
    let reason: StopReason;
    // Event times are integers, so `time > until` is `time >= firstExcluded`; an empty
    // queue peeks as Infinity, which also stops the loop when there is no `until`.
    const firstExcluded = Math.floor(until) + 1;
    for (;;) {
      const time = queue.peekTime();
      if (time >= firstExcluded) {
        reason = time === Infinity ? "empty" : "until";
        break;
      }
      if (events >= nextCheck) {
        if (events >= maxEvents) {
          reason = "max-events";
          break;
        }
        onProgress!(this.now);
        nextCheck = Math.min(maxEvents, events + progressEvery);
      }
      this.now = time;
      const key = queue.topKey();
      queue.takeTop().wake(key);
      queue.settle();
      events++;
      if (this.#stopRequested) {
        reason = "stopped";
        break;
      }
    }
    if (reason === "empty" && until !== Infinity) reason = "until";
    if (reason === "until" && this.now < until) this.now = until;
    this.eventsProcessed += events;
    return { reason, nowCycles: this.now, events };
  }
}

function checkDelay(delayCycles: number, nowCycles: number, what: string): void {
  if (!(delayCycles >= 0) || Math.floor(delayCycles) !== delayCycles) {
    throw new RangeError(
      `Cannot schedule ${what} at cycle ${nowCycles + delayCycles}: current time is ` +
        `${nowCycles} and delays must be non-negative integers`,
    );
  }
}

/**
 * A reusable timer: {@linkcode Timer.set} (re)arms it, replacing any pending firing, and
 * {@linkcode Timer.cancel} disarms it. It keeps one queue slot for life, so re-arming
 * allocates nothing (unlike {@linkcode Simulator.call}).
 */
export class Timer implements Wakeable {
  readonly #sim: Simulator;
  readonly #queue: EventQueue;
  readonly #slot: number;
  readonly #callback: () => void;
  #key = -1;

  /** @internal Use {@linkcode Simulator.timer}. */
  constructor(sim: Simulator, queue: EventQueue, callback: () => void) {
    this.#sim = sim;
    this.#queue = queue;
    this.#callback = callback;
    this.#slot = queue.register(this);
  }

  /** True while armed. */
  get armed(): boolean {
    return this.#key >= 0;
  }

  /** Arms the timer to fire after `delayCycles` (a pending firing is cancelled). */
  set(delayCycles: number, priority: number = PRIORITY_NORMAL): void {
    checkDelay(delayCycles, this.#sim.now, "a timer");
    if (this.#key >= 0) this.#queue.noteStale();
    this.#key = this.#queue.pushSlot(this.#sim.now + delayCycles, priority, this.#slot);
  }

  /** Disarms the timer. */
  cancel(): void {
    if (this.#key >= 0) this.#queue.noteStale();
    this.#key = -1;
  }

  /** @internal Called by the event loop; stale firings are ignored. */
  wake(entryKey: number): void {
    if (entryKey !== this.#key) return;
    this.#key = -1;
    this.#callback();
  }

  /** @internal */
  pending(entryKey: number): boolean {
    return entryKey === this.#key;
  }
}

/** A callback run once at a given time; frees its queue slot when it runs. */
class OneShot implements Wakeable {
  readonly #queue: EventQueue;
  readonly #slot: number;
  readonly #key: number;
  readonly #callback: () => void;

  constructor(queue: EventQueue, time: number, priority: number, callback: () => void) {
    this.#queue = queue;
    this.#callback = callback;
    this.#slot = queue.register(this);
    this.#key = queue.pushSlot(time, priority, this.#slot);
  }

  wake(entryKey: number): void {
    if (entryKey !== this.#key) return; // a stale entry of a slot's previous owner
    this.#queue.unregister(this.#slot);
    this.#callback();
  }

  pending(entryKey: number): boolean {
    return entryKey === this.#key;
  }
}

const READY = 0;
const TIMER = 1;
const PARKED = 2;
const DONE = 3;
const STATE_NAMES = ["ready", "waiting on a timer", "parked", "done"];

/**
 * A simulated activity: drives a generator, waking it on timers and waitables.
 * Create processes with {@linkcode Simulator.process}.
 */
export class Process implements Wakeable, Waitable {
  readonly name: string;
  readonly sim: Simulator;
  readonly #queue: EventQueue;
  /** The generator running now: the body, or the innermost sub-flow it started. */
  #body: SubFlow;
  /** The callers of `#body`, outermost first (empty while the body itself runs). */
  readonly #callers: SubFlow[] = [];
  /** Key of the one queue entry that may wake this process; others are stale. */
  #wakeKey = -1;
  readonly #slot: number;
  #state = READY;
  #resumeValue: unknown = undefined;
  /** When the pending interrupt resumes it, or -1 when none is pending. */
  #interruptAtCycles = -1;
  #joiners: Process[] | undefined;

  /** @internal Use {@linkcode Simulator.process}. */
  constructor(sim: Simulator, queue: EventQueue, name: string, body: ProcessBody) {
    this.sim = sim;
    this.#queue = queue;
    this.name = name;
    this.#body = body;
    this.#slot = queue.register(this);
    this.#wakeKey = queue.pushSlot(sim.now, PRIORITY_URGENT, this.#slot);
  }

  /** True once the body has returned. */
  get done(): boolean {
    return this.#state === DONE;
  }

  /** True while waiting on a timer (the only state {@linkcode interrupt} accepts). */
  get waitingOnTimer(): boolean {
    return this.#state === TIMER;
  }

  /** @internal */
  pending(entryKey: number): boolean {
    return entryKey === this.#wakeKey;
  }

  /** @internal Called by the event loop. Stale entries (cancelled timers) are ignored. */
  wake(entryKey: number): void {
    if (entryKey !== this.#wakeKey) return;
    this.#interruptAtCycles = -1;
    this.#advance();
  }

  /**
   * Resumes a parked process after `delayCycles` (at once by default); `value` is what
   * its `yield` returns.
   */
  resume(value?: unknown, delayCycles = 0): void {
    if (this.#state !== PARKED) {
      throw new Error(
        `Cannot resume process ${this.name}: it is ${STATE_NAMES[this.#state]}, not parked`,
      );
    }
    if (delayCycles !== 0) checkDelay(delayCycles, this.sim.now, `the resumption of ${this.name}`);
    this.#state = READY;
    this.#resumeValue = value;
    this.#wakeKey = this.#queue.pushSlot(this.sim.now + delayCycles, PRIORITY_URGENT, this.#slot);
  }

  /**
   * Cuts short the timer this process is waiting on: it resumes after `delayCycles` with
   * `cause` as the value of its `yield`. A process already interrupted, to resume later than
   * this one would, resumes at the earlier time instead (with this `cause`).
   * @throws if the process is neither waiting on a timer nor interrupted for later.
   */
  interrupt(cause: unknown, delayCycles = 0): void {
    const earlier = this.#state === READY && this.#interruptAtCycles > this.sim.now + delayCycles;
    if (this.#state !== TIMER && !earlier) {
      throw new Error(
        `Cannot interrupt process ${this.name}: it is ${
          STATE_NAMES[this.#state]
        }, not waiting on a timer`,
      );
    }
    checkDelay(delayCycles, this.sim.now, `the interrupt of ${this.name}`);
    this.#state = READY;
    this.#resumeValue = cause;
    this.#interruptAtCycles = this.sim.now + delayCycles;
    this.#queue.noteStale(); // the entry it waited on (its timer, or a later interrupt)
    // The new key makes the pending timer entry stale.
    this.#wakeKey = this.#queue.pushSlot(this.sim.now + delayCycles, PRIORITY_URGENT, this.#slot);
  }

  /** Waitable: waiting on a process means waiting until it finishes. */
  wait(waiter: Process): boolean {
    if (this.#state === DONE) return true;
    (this.#joiners ??= []).push(waiter);
    return false;
  }

  #advance(): void {
    let value = this.#resumeValue;
    if (value !== undefined) this.#resumeValue = undefined;
    let result: IteratorResult<Yieldable, unknown>;
    let body = this.#body;
    for (;;) {
      try {
        result = body.next(value);
      } catch (error) {
        // A sub-flow threw: its caller gets the error, as with `yield*`.
        if (this.#callers.length === 0) throw error;
        body = this.#popCaller();
        result = this.#throwInto(body, error);
      }
      for (;;) {
        const waitFor = result.value;
        if (result.done === true) {
          if (this.#callers.length === 0) {
            this.#finish();
            return;
          }
          // A sub-flow returned: its caller goes on with the value.
          body = this.#popCaller();
          value = waitFor;
          break;
        }
        if (typeof waitFor === "number") {
          if (!(waitFor >= 0) || Math.floor(waitFor) !== waitFor) this.#badDelay(waitFor);
          this.#state = TIMER;
          this.#wakeKey = this.#queue.pushSlot(
            this.sim.now + waitFor,
            PRIORITY_NORMAL,
            this.#slot,
          );
          return;
        }
        if (typeof (waitFor as Waitable).wait !== "function") {
          // A sub-flow: run it now; the caller waits for it on the stack.
          this.#callers.push(body);
          body = this.#body = waitFor as SubFlow;
          value = undefined;
          break;
        }
        // Parked before asking, so a waitable may resume us from inside wait() if it must.
        this.#state = PARKED;
        if (!(waitFor as Waitable).wait(this)) return;
        this.#state = READY;
        value = undefined;
        break;
      }
    }
  }

  #popCaller(): SubFlow {
    const caller = this.#callers.pop()!;
    this.#body = caller;
    return caller;
  }

  /** Throws `error` into `body` (a caller whose sub-flow threw), unwinding further up. */
  #throwInto(body: SubFlow, error: unknown): IteratorResult<Yieldable, unknown> {
    for (;;) {
      try {
        return body.throw(error);
      } catch (next) {
        if (this.#callers.length === 0) throw next;
        error = next;
        body = this.#popCaller();
      }
    }
  }

  #badDelay(delayCycles: number): never {
    throw new RangeError(
      `Process ${this.name} cannot wait ${delayCycles} cycles at cycle ${this.sim.now}: ` +
        `delays must be non-negative integers`,
    );
  }

  #finish(): void {
    this.#state = DONE;
    // Stale entries may still name the slot; its next owner ignores them by key.
    this.#queue.unregister(this.#slot);
    const joiners = this.#joiners;
    if (joiners === undefined) return;
    this.#joiners = undefined;
    for (const joiner of joiners) joiner.resume();
  }
}
