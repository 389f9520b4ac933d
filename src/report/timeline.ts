/**
 * The timeline of a run: what every host thread, pCPU and shared resource was doing when.
 *
 * Recorded data (all times in cycles):
 * - step spans: one per charged step of a thread (its primitive, so its domain, and the
 *   guest operation it belongs to), on the thread's lane;
 * - operation spans: a guest operation from start to end, the parent of its steps;
 * - occupancy spans: which thread held a pCPU or a lock, on the pCPU's or lock's lane;
 * - instants: exits (with their reason) and other point events;
 * - counters: run-queue and lock-queue lengths as they change;
 * - flows: causal links, such as an IPI or a kick from one vCPU to another;
 * - outcomes: what a failure did (a process killed by SIGBUS, a guest terminated, service
 *   lost), on the lane of the thread it hit, or on every lane of the VM, or the whole host.
 *
 * Memory stays bounded: only a window of simulated time is recorded, and recording stops
 * (and says so) once `maxSpans` spans are held. Outcomes are the exception: they are few
 * (a failure ends what it hits) and what a reader looks for, so every one is kept, even
 * outside the window or after the cut. Columns are typed arrays, so a million
 * spans take about 24 MB. When recording is off no Timeline exists and the hot path pays
 * one `undefined` check per step.
 *
 * @module
 */

import type { Process, ResourceObserver } from "../engine/mod.ts";

/** What a lane shows. */
export type LaneKind = "vcpu" | "thread" | "pcpu" | "resource";

/** One horizontal track of the timeline. */
export interface Lane {
  name: string;
  kind: LaneKind;
  /** Grouping for display (the VM, or "host"). */
  group: string;
}

/** Options of a recording. */
export interface TimelineOptions {
  /** Record from this time... */
  startCycles: number;
  /** ...to this time (Infinity: to the end). */
  endCycles: number;
  /** Stop recording once this many spans (steps, operations, occupancy) are held. */
  maxSpans: number;
}

/**
 * A failure's effect, placed on the timeline: on the lane named after its subject (a
 * thread: `sigbus`), else on every lane of the group named after it (a VM:
 * `guest-terminated`, `service-lost`), else (and always for `host-panic`) on everything.
 */
export interface TimelineOutcome {
  timeCycles: number;
  /** An OutcomeKind of the recorder (`sigbus`, `guest-terminated`, ...). */
  kind: string;
  /** The kind as a reader names it ("SIGBUS", "guest terminated"). */
  label: string;
  subject: string;
  cause: string;
  /** The subject's lane, or null when the subject is not a thread. */
  lane: number | null;
  /** The subject's lane group (a VM), or null when it is the whole host. */
  group: string | null;
}

/** How a reader names each outcome kind (the kind itself when not listed). */
export const OUTCOME_LABELS: Record<string, string> = {
  "sigbus": "SIGBUS",
  "host-panic": "host panic",
  "guest-vc": "#VC",
  "guest-terminated": "guest terminated",
  "service-lost": "service lost",
  "service-restored": "service restored",
};

/** Kinds of instant events. */
export const INSTANT_EXIT = 0;

/** Flow kinds: an interrupt sent to a vCPU (an IPI, a completion), and a kick. */
export const FLOW_INTERRUPT = 0;
export const FLOW_KICK = 1;
const FLOW_KIND_NAMES = ["interrupt", "kick"];

/** Default limits of a recording. */
export const DEFAULT_TIMELINE: TimelineOptions = {
  startCycles: 0,
  endCycles: Infinity,
  maxSpans: 200_000,
};

/** A growable set of numeric columns. */
export class Columns {
  count = 0;
  readonly #kinds: ("i32" | "f64")[];
  columns: (Int32Array | Float64Array)[];

  constructor(kinds: ("i32" | "f64")[]) {
    this.#kinds = kinds;
    this.columns = kinds.map((k) => k === "i32" ? new Int32Array(1024) : new Float64Array(1024));
  }

  /** Makes room for one more row; returns its index. */
  reserve(): number {
    if (this.count === this.columns[0].length) {
      this.columns = this.columns.map((column, i) => {
        const grown = this.#kinds[i] === "i32"
          ? new Int32Array(column.length * 2)
          : new Float64Array(column.length * 2);
        grown.set(column);
        return grown;
      });
    }
    return this.count++;
  }

  /** The filled part of column `i`. */
  column(i: number): Int32Array | Float64Array {
    return this.columns[i].subarray(0, this.count);
  }
}

/** A recording in progress. */
export class Timeline {
  readonly options: TimelineOptions;
  readonly lanes: Lane[] = [];
  /** Step spans: lane, primitive, operation (-1: none), start, duration. */
  readonly steps = new Columns(["i32", "i32", "i32", "f64", "f64"]);
  /** Operation spans: lane, operation, start, duration. */
  readonly operations = new Columns(["i32", "i32", "f64", "f64"]);
  /** Occupancy spans: lane (pCPU or lock), holder lane, start, duration. */
  readonly occupancy = new Columns(["i32", "i32", "f64", "f64"]);
  /** Instants: lane, kind, detail (e.g. exit reason), time. */
  readonly instants = new Columns(["i32", "i32", "i32", "f64"]);
  /** Counter samples: counter, time, value. */
  readonly samples = new Columns(["i32", "f64", "f64"]);
  /** Flows: kind, from lane, from time, to lane, to time. */
  readonly flows = new Columns(["i32", "i32", "f64", "i32", "f64"]);
  /** Counter names by id. */
  readonly counters: string[] = [];
  /** Flow kind names by id. */
  readonly flowKinds: string[] = [...FLOW_KIND_NAMES];
  /** Failures' effects, in the order they were recorded (all of them; see the module doc). */
  readonly outcomes: TimelineOutcome[] = [];
  /** Set once recording stopped because maxSpans was reached (the time it stopped). */
  truncatedAtCycles: number | undefined;
  /**
   * No span that starts at or after this time will be recorded (the window's end, or
   * where recording stopped): a thread past it may stop offering spans.
   */
  closedFromCycles: number;

  constructor(options: TimelineOptions) {
    this.options = options;
    this.closedFromCycles = Math.floor(options.endCycles) + 1;
  }

  /** Adds a lane; returns its id. */
  addLane(lane: Lane): number {
    return this.lanes.push(lane) - 1;
  }

  /** Adds a counter; returns its id. */
  addCounter(name: string): number {
    return this.counters.push(name) - 1;
  }

  /** Spans held (steps, operations, occupancy). */
  get spanCount(): number {
    return this.steps.count + this.operations.count + this.occupancy.count;
  }

  /**
   * True when a span [start, start + duration) should be recorded. Once the span limit
   * is reached at time T, only spans that began before T are still taken (a lane has at
   * most an operation and a step or hold in progress at T, so this stays bounded): the
   * timeline is then complete up to T.
   */
  #wanted(start: number, duration: number): boolean {
    if (start + duration < this.options.startCycles || start > this.options.endCycles) {
      return false;
    }
    if (this.truncatedAtCycles !== undefined) return start < this.truncatedAtCycles;
    if (this.spanCount >= this.options.maxSpans) {
      this.truncatedAtCycles = start;
      this.closedFromCycles = Math.min(this.closedFromCycles, start);
      return false;
    }
    return true;
  }

  /** Records a step of `lane` (zero-length steps are left out). */
  step(lane: number, prim: number, op: number, start: number, duration: number): void {
    if (duration === 0 || !this.#wanted(start, duration)) return;
    const row = this.steps.reserve();
    const c = this.steps.columns;
    c[0][row] = lane;
    c[1][row] = prim;
    c[2][row] = op;
    c[3][row] = start;
    c[4][row] = duration;
  }

  /** Records a guest operation of `lane` (the parent of its steps). */
  operation(lane: number, op: number, start: number, duration: number): void {
    if (!this.#wanted(start, duration)) return;
    const row = this.operations.reserve();
    const c = this.operations.columns;
    c[0][row] = lane;
    c[1][row] = op;
    c[2][row] = start;
    c[3][row] = duration;
  }

  /** Records that `holder` occupied `lane` (a pCPU or a lock) for a while. */
  occupied(lane: number, holder: number, start: number, duration: number): void {
    if (!this.#wanted(start, duration)) return;
    const row = this.occupancy.reserve();
    const c = this.occupancy.columns;
    c[0][row] = lane;
    c[1][row] = holder;
    c[2][row] = start;
    c[3][row] = duration;
  }

  /** Records a point event. */
  instant(lane: number, kind: number, detail: number, time: number): void {
    if (time < this.options.startCycles || time > this.options.endCycles) return;
    if (this.truncatedAtCycles !== undefined) return;
    const row = this.instants.reserve();
    const c = this.instants.columns;
    c[0][row] = lane;
    c[1][row] = kind;
    c[2][row] = detail;
    c[3][row] = time;
  }

  /**
   * Records what a failure did at `time` to `subject` (a thread's, a VM's or the host's
   * name; see {@linkcode TimelineOutcome} for where it goes). Call after the lanes exist.
   */
  outcome(time: number, kind: string, subject: string, cause: string): void {
    // A host panic takes everything with it, whatever lane group is called "host".
    const lane = kind === "host-panic" ? -1 : this.lanes.findIndex((l) => l.name === subject);
    const group = lane >= 0
      ? this.lanes[lane].group
      : kind !== "host-panic" && this.lanes.some((l) => l.group === subject)
      ? subject
      : null;
    this.outcomes.push({
      timeCycles: time,
      kind,
      label: OUTCOME_LABELS[kind] ?? kind,
      subject,
      cause,
      lane: lane >= 0 ? lane : null,
      group,
    });
  }

  /** Records a counter's new value. */
  sample(counter: number, time: number, value: number): void {
    if (time < this.options.startCycles || time > this.options.endCycles) return;
    if (this.truncatedAtCycles !== undefined) return;
    const row = this.samples.reserve();
    const c = this.samples.columns;
    c[0][row] = counter;
    c[1][row] = time;
    c[2][row] = value;
  }

  /** Records a causal link from one lane to another. */
  flow(kind: number, fromLane: number, fromTime: number, toLane: number, toTime: number): void {
    if (fromTime < this.options.startCycles || toTime > this.options.endCycles) return;
    if (this.truncatedAtCycles !== undefined) return;
    const row = this.flows.reserve();
    const c = this.flows.columns;
    c[0][row] = kind;
    c[1][row] = fromLane;
    c[2][row] = fromTime;
    c[3][row] = toLane;
    c[4][row] = toTime;
  }
}

/**
 * Follows an exclusive resource (a mutex, a rwlock's writers) on its own lane: which
 * thread held it when, and its queue length as a counter. Returns a function that closes
 * the hold still open at the end of the run.
 */
export function recordExclusive(
  timeline: Timeline,
  name: string,
  group: string,
  stats: { observer: ResourceObserver | undefined },
  laneOf: (process: Process) => number,
): (endCycles: number) => void {
  const lane = timeline.addLane({ name, kind: "resource", group });
  const counter = timeline.addCounter(`${name} queue`);
  let holder = -1;
  let since = 0;
  const close = (now: number) => {
    if (holder >= 0) timeline.occupied(lane, holder, since, now - since);
    holder = -1;
    // Past what the timeline still takes, with no hold open: stop following the resource.
    if (now >= timeline.closedFromCycles) stats.observer = undefined;
  };
  const observer: ResourceObserver = {
    granted(process, now) {
      close(now);
      if (stats.observer !== observer) return;
      holder = laneOf(process);
      since = now;
    },
    freed: close,
    queued(now, length) {
      timeline.sample(counter, now, length);
    },
  };
  stats.observer = observer;
  return close;
}
