/**
 * The workload kinds a scenario can give a guest, each declared with its schema and the
 * guest program it builds.
 *
 * - `loop`: one operation back to back, a fixed number of times (kvm-unit-tests style).
 * - `mix`: operations at given rates per vCPU, for a duration or a count.
 * - `compute`: guest compute with no operations (a phase between others).
 * - `idle`: the guest has nothing to run for a while: it halts, waking for interrupts.
 * - `accept-memory`: boot-time acceptance of guest memory in 2 MiB chunks, shared out
 *   among the vCPUs (eager acceptance, as a TD's firmware or early kernel does it).
 * - `memory`: accesses to a working set with a pattern, in batches whose cost comes from
 *   the translation model (TLB reach, two-dimensional walks, caches).
 * - `trace`: a recorded sequence of operations with the guest time before each and the
 *   halts between them (what `import` makes of a real exit trace), replayed in order or
 *   resampled.
 *
 * @module
 */

import { MAX_MEMORY_MIB } from "../host/memory.ts";
import type { Rng } from "../engine/mod.ts";
import {
  type GuestOperation,
  OP,
  OP_DONE,
  OP_IDLE,
  OP_NONE,
  OPERATION_NAMES,
} from "../host/operations.ts";
import {
  array,
  boolean,
  choice,
  either,
  type Infer,
  integer,
  number,
  object,
  optional,
  union,
} from "../scenario/schema.ts";
import type { GuestProgram, MemoryBatch } from "./program.ts";

/** The `trace` workload's pseudo-operation for a halt (HLT until the next entry). */
export const TRACE_HALT = "halt";

/** Most steps one `trace` workload may hold. */
export const MAX_TRACE_STEPS = 10_000_000;

/** Longest gap or halt of a `trace` step (1000 s). */
export const MAX_TRACE_STEP_NS = 1e12;

/** Longest a workload may run (1 hour), as `durationMs` allows. */
export const MAX_WORKLOAD_MS = 3.6e6;

/** A workload's optional run length. */
const stopAfterMs = optional(number({
  min: 0,
  exclusiveMin: true,
  max: MAX_WORKLOAD_MS,
  unit: "ms",
  doc: "Stop after this much simulated time on each vCPU.",
}));

const vcpuSelector = either(
  choice(["all"], { doc: "every vCPU" }),
  array(integer({ min: 0, max: 1023, doc: "vCPU index" }), {
    minItems: 1,
    doc: "these vCPU indices",
  }),
  { default: "all", doc: 'Which vCPUs run this workload: "all" or a list of indices.' },
);

const operation = choice(OPERATION_NAMES.filter((name) => name !== "memory"), {
  doc: "Guest operation (see docs/scenarios.md); `memory` is the memory workload's own.",
});

const pages = integer({
  min: 1,
  max: 262144,
  default: 1,
  unit: "pages",
  doc: "4 KiB pages each operation covers, for page-range operations (`protect`: pages per " +
    "HvModifyVtlProtectionMask call); other operations ignore it.",
});

/** Schema of one workload entry. */
export const WORKLOAD_SCHEMA = union("kind", {
  loop: object({
    operation,
    iterations: integer({ min: 1, max: 1e9, doc: "Times each vCPU performs the operation." }),
    pages,
    guestCyclesBetween: integer({
      min: 0,
      max: 1e12,
      default: 0,
      unit: "cycles",
      doc: "Guest compute between two operations (the benchmark loop's own overhead).",
    }),
    vcpus: vcpuSelector,
  }, { doc: "One operation back to back, like a kvm-unit-tests vmexit test." }),
  mix: object({
    operations: array(
      object({
        operation,
        ratePerSec: number({
          min: 0,
          exclusiveMin: true,
          max: 1e9,
          unit: "1/s",
          doc: "Operations per second of guest execution on each vCPU.",
        }),
        pages,
      }, { doc: "One operation of the mix and its rate." }),
      { minItems: 1, maxItems: 64, doc: "The operations and their rates." },
    ),
    halts: optional(object({
      ratePerSec: number({
        min: 0,
        exclusiveMin: true,
        max: 1e9,
        unit: "1/s",
        doc: "Halts per second of guest execution on each vCPU, drawn among the operations.",
      }),
      meanNs: number({
        min: 0,
        max: 1e12,
        unit: "ns",
        doc: "How long a halt lasts on average (exponentially distributed).",
      }),
    }, {
      doc: "The guest also halts (HLT), idling for a while each time, as `import` makes of " +
        "a perf kvm stat report's HLT row.",
    })),
    spacing: choice(["exponential", "fixed"], {
      default: "exponential",
      doc: "Guest compute between operations: exponentially distributed (Poisson arrivals) " +
        "or fixed, with mean clock / total rate.",
    }),
    durationMs: optional(number({
      min: 0,
      exclusiveMin: true,
      max: 3.6e6,
      unit: "ms",
      doc:
        "Stop after this much simulated time on each vCPU (default: run until the scenario stops).",
    })),
    count: optional(integer({
      min: 1,
      max: 1e12,
      doc: "Stop after this many operations on each vCPU (default: no limit).",
    })),
    vcpus: vcpuSelector,
  }, { doc: "Operations at given rates, as a guest with steady activity produces them." }),
  compute: object({
    durationMs: number({
      min: 0,
      exclusiveMin: true,
      max: 3.6e6,
      unit: "ms",
      doc: "Guest compute time on each vCPU.",
    }),
    vcpus: vcpuSelector,
  }, { doc: "Guest compute with no exits (a phase between other workloads)." }),
  idle: object({
    durationMs: number({
      min: 0,
      exclusiveMin: true,
      max: 3.6e6,
      unit: "ms",
      doc: "How long each vCPU idles (rounded up to its next tick when the guest ticks).",
    }),
    vcpus: vcpuSelector,
  }, {
    doc: "Nothing to run: the vCPU arms its timer for the end, halts, and handles the " +
      "interrupts that wake it (ticks, IPIs) meanwhile.",
  }),
  "accept-memory": object({
    memoryMiB: optional(integer({
      min: 2,
      max: MAX_MEMORY_MIB,
      unit: "MiB",
      doc: "How much memory to accept, from the start of guest memory (default: all of it).",
    })),
    guestCyclesPerChunk: integer({
      min: 0,
      max: 1e12,
      default: 0,
      unit: "cycles",
      doc: "Guest work between two chunks (the accept loop's own overhead).",
    }),
    vcpus: vcpuSelector,
  }, {
    doc: "Accept memory eagerly in 2 MiB chunks, the selected vCPUs taking every n-th chunk " +
      "(on a plain guest: first-touch it).",
  }),
  memory: object({
    workingSetMiB: number({
      min: 0.0625,
      max: MAX_MEMORY_MIB,
      unit: "MiB",
      doc: "Memory each vCPU accesses (with `shared`, all of them together).",
    }),
    offsetMiB: number({
      min: 0,
      max: MAX_MEMORY_MIB,
      default: 0,
      unit: "MiB",
      doc: "Where the first working set starts in guest memory; each vCPU's own set follows " +
        "the previous one.",
    }),
    shared: boolean({
      default: false,
      doc: "All selected vCPUs access one working set (default: each its own, side by side).",
    }),
    pattern: choice(["random", "sequential", "hot-set"], {
      default: "random",
      doc: "`random`: uniform over the set; `sequential`: a stream of 64-byte lines through " +
        "it, over and over; `hot-set`: `hotShare` of the accesses go to the first " +
        "`hotFraction` of the set, the rest uniformly to the rest.",
    }),
    hotFraction: number({
      min: 0.0001,
      max: 0.9999,
      default: 0.1,
      doc: "For `hot-set`: the share of the set that is hot.",
    }),
    hotShare: number({
      min: 0,
      max: 1,
      default: 0.9,
      doc: "For `hot-set`: the share of accesses that go to the hot part.",
    }),
    writeShare: number({
      min: 0,
      max: 1,
      default: 0,
      doc: "Share of accesses that write. A write costs what a read does in this model (no " +
        "write-back traffic, no dirty-bit updates): the share is recorded with the scenario " +
        "in the report, not charged.",
    }),
    guestPageSize: choice(["4K", "2M", "1G"], {
      default: "4K",
      doc: "The guest's page size over the set (2M: the guest kernel's THP, 1G: hugetlbfs).",
    }),
    accessesPerSec: optional(number({
      min: 0,
      exclusiveMin: true,
      max: 1e12,
      unit: "1/s",
      doc: "Accesses per second of guest time on each vCPU (default: back to back, as fast " +
        "as the translation model allows).",
    })),
    vtl: integer({
      min: 0,
      max: 1,
      default: 0,
      doc: "Hyper-V VSM only: 1 runs each batch in VTL1 (the secure kernel, reached by a VTL " +
        "call and returning after it), through VTL1's mappings.",
    }),
    durationMs: stopAfterMs,
    count: optional(integer({
      min: 1,
      max: 1e15,
      doc: "Stop after this many accesses on each vCPU.",
    })),
    vcpus: vcpuSelector,
  }, {
    doc: "Memory accesses to a working set, latency-bound (each access waits for the last), " +
      "charged per batch from the translation model: throughput, access latency, TLB misses " +
      "and walk cycles in the reports. Needs `durationMs` or `count`.",
  }),
  trace: object({
    operations: array(
      choice([...OPERATION_NAMES.filter((name) => name !== "memory"), TRACE_HALT], {
        doc: 'A guest operation, or "halt": the guest halts (HLT) for its next `haltNs`.',
      }),
      { minItems: 1, maxItems: 64, doc: "The operations `sequence` refers to, by index." },
    ),
    sequence: array(integer({ min: 0, max: 63, doc: "Index into `operations`." }), {
      minItems: 1,
      maxItems: MAX_TRACE_STEPS,
      doc: "The recorded steps in order, each an index into `operations`.",
    }),
    gapNs: array(number({ min: 0, max: MAX_TRACE_STEP_NS, unit: "ns", doc: "Guest time." }), {
      minItems: 1,
      maxItems: MAX_TRACE_STEPS,
      doc: "Guest execution before each step (from the previous entry to this exit), one per " +
        "step of `sequence`.",
    }),
    haltNs: array(number({ min: 0, max: MAX_TRACE_STEP_NS, unit: "ns", doc: "Halted time." }), {
      default: [],
      maxItems: MAX_TRACE_STEPS,
      doc: "How long each halt step halted (from its exit to the next entry), in the order " +
        "the halts occur in `sequence`.",
    }),
    order: choice(["replay", "resample"], {
      default: "replay",
      doc: "`replay`: the steps once, in order; `resample`: steps drawn at random from the " +
        "recorded ones (each with its own gap and halt), until `durationMs` or `count`.",
    }),
    durationMs: stopAfterMs,
    count: optional(integer({
      min: 1,
      max: 1e12,
      doc: "Stop after this many steps on each vCPU.",
    })),
    vcpus: vcpuSelector,
  }, {
    doc: "A recorded exit sequence (`import` writes these from perf script or trace-cmd " +
      "text): each step is guest time, then an operation or a halt. The sequence, gaps and " +
      "halts must line up (checked when the scenario loads).",
  }),
}, { doc: "A workload: what the guest's vCPUs do." });

/** A validated workload entry. */
export type WorkloadSpec = NonNullable<Infer<typeof WORKLOAD_SCHEMA>>;

/** What building a program needs. */
export interface ProgramEnv {
  rng: Rng;
  /** Cycles per millisecond of the host clock. */
  cyclesPerMs: number;
  /** This vCPU's rank among the vCPUs the workload runs on, and their number. */
  rank: number;
  ranks: number;
  /** The guest's memory (MiB). */
  guestMemoryMiB: number;
}

/** Guest operations a workload performs. */
export function workloadOperations(spec: WorkloadSpec): GuestOperation[] {
  switch (spec.kind) {
    case "loop":
      return [spec.operation];
    case "mix":
      return spec.operations.map((entry) => entry.operation);
    case "compute":
    case "idle":
      return [];
    case "accept-memory":
      return ["accept-2m"];
    case "memory":
      return ["memory"];
    case "trace":
      return spec.operations.filter((name): name is GuestOperation => name !== TRACE_HALT);
  }
}

/** True when the workload ends by itself (it has an iteration count, count or duration). */
export function workloadIsFinite(spec: WorkloadSpec): boolean {
  if (spec.kind === "trace" && spec.order === "replay") return true;
  return (spec.kind !== "mix" && spec.kind !== "memory" && spec.kind !== "trace") ||
    spec.durationMs !== undefined || spec.count !== undefined;
}

/** Builds the program one vCPU runs for `spec`. */
export function createProgram(spec: WorkloadSpec, env: ProgramEnv): GuestProgram {
  switch (spec.kind) {
    case "loop":
      return new LoopProgram(
        OP[spec.operation],
        spec.iterations,
        spec.guestCyclesBetween,
        spec.pages,
      );
    case "mix":
      return new MixProgram(spec, env);
    case "compute":
      return new SingleStretch(OP_NONE, Math.round(spec.durationMs * env.cyclesPerMs));
    case "idle":
      return new SingleStretch(OP_IDLE, Math.round(spec.durationMs * env.cyclesPerMs));
    case "memory":
      return new MemoryProgram(spec, env);
    case "trace":
      return new TraceProgram(spec, env);
    case "accept-memory": {
      const chunks = Math.floor((spec.memoryMiB ?? env.guestMemoryMiB) / 2);
      return new ChunkProgram(
        OP["accept-2m"],
        env.rank,
        env.ranks,
        chunks,
        spec.guestCyclesPerChunk,
      );
    }
  }
}

/** One operation on every n-th 2 MiB chunk, from this vCPU's rank. */
class ChunkProgram implements GuestProgram {
  gapCycles = 0;
  arg = -1;
  readonly #op: number;
  readonly #stride: number;
  readonly #chunks: number;
  readonly #gap: number;
  #next: number;

  constructor(op: number, rank: number, ranks: number, chunks: number, gapCycles: number) {
    this.#op = op;
    this.#next = rank;
    this.#stride = ranks;
    this.#chunks = chunks;
    this.#gap = gapCycles;
  }

  next(): number {
    if (this.#next >= this.#chunks) {
      this.gapCycles = 0;
      return OP_DONE;
    }
    this.arg = this.#next;
    this.#next += this.#stride;
    this.gapCycles = this.#gap;
    return this.#op;
  }
}

class LoopProgram implements GuestProgram {
  gapCycles = 0;
  readonly arg = -1;
  readonly pages: number;
  readonly #op: number;
  readonly #gap: number;
  #remaining: number;

  constructor(op: number, iterations: number, gapCycles: number, pages: number) {
    this.#op = op;
    this.#remaining = iterations;
    this.#gap = gapCycles;
    this.pages = pages;
  }

  next(): number {
    if (this.#remaining === 0) {
      this.gapCycles = 0;
      return OP_DONE;
    }
    this.#remaining--;
    this.gapCycles = this.#gap;
    return this.#op;
  }
}

class MixProgram implements GuestProgram {
  gapCycles = 0;
  readonly arg = -1;
  pages = 1;
  readonly #ops: Int32Array;
  /** Pages of each operation (page-range operations). */
  readonly #pages: Int32Array;
  /** Cumulative share of each operation, ending at 1. */
  readonly #cumulative: Float64Array;
  readonly #meanGapCycles: number;
  readonly #exponential: boolean;
  readonly #durationCycles: number;
  readonly #rng: Rng;
  /** Mean halt length (cycles), when the mix halts. */
  readonly #meanHaltCycles: number;
  #remaining: number;
  #endCycles = -1;
  #halting = false;

  constructor(spec: Extract<WorkloadSpec, { kind: "mix" }>, env: ProgramEnv) {
    // A halt is one more entry of the draw, after the operations.
    const entries = spec.operations.map((entry) => ({
      op: OP[entry.operation],
      ratePerSec: entry.ratePerSec,
      pages: entry.pages,
    }));
    if (spec.halts !== undefined) {
      entries.push({ op: OP_IDLE, ratePerSec: spec.halts.ratePerSec, pages: 1 });
    }
    const totalRate = entries.reduce((sum, entry) => sum + entry.ratePerSec, 0);
    this.#ops = Int32Array.from(entries, (entry) => entry.op);
    this.#meanHaltCycles = ((spec.halts?.meanNs ?? 0) * env.cyclesPerMs) / 1e6;
    this.#pages = Int32Array.from(entries, (entry) => entry.pages);
    let running = 0;
    this.#cumulative = Float64Array.from(entries, (entry) => {
      running += entry.ratePerSec / totalRate;
      return running;
    });
    this.#meanGapCycles = (env.cyclesPerMs * 1000) / totalRate;
    this.#exponential = spec.spacing === "exponential";
    this.#durationCycles = spec.durationMs === undefined
      ? Infinity
      : Math.round(spec.durationMs * env.cyclesPerMs);
    this.#remaining = spec.count ?? Infinity;
    this.#rng = env.rng;
  }

  next(nowCycles: number): number {
    if (this.#halting) {
      // The guest time before a halt has run: now the halt itself.
      this.#halting = false;
      this.gapCycles = this.#rng.exponentialInt(this.#meanHaltCycles);
      return OP_IDLE;
    }
    if (this.#endCycles < 0) this.#endCycles = nowCycles + this.#durationCycles;
    if (this.#remaining === 0 || nowCycles >= this.#endCycles) {
      this.gapCycles = 0;
      return OP_DONE;
    }
    const gap = this.#exponential
      ? this.#rng.exponentialInt(this.#meanGapCycles)
      : Math.round(this.#meanGapCycles);
    if (nowCycles + gap >= this.#endCycles) {
      // The duration ends during this stretch of compute: run up to the end, no operation.
      this.gapCycles = this.#endCycles - nowCycles;
      this.#remaining = 0;
      return OP_NONE;
    }
    this.#remaining--;
    this.gapCycles = gap;
    const ops = this.#ops;
    if (ops.length === 1) {
      this.pages = this.#pages[0];
      return ops[0];
    }
    const draw = this.#rng.float();
    const cumulative = this.#cumulative;
    let chosen = ops.length - 1;
    for (let i = 0; i < ops.length - 1; i++) {
      if (draw < cumulative[i]) {
        chosen = i;
        break;
      }
    }
    this.pages = this.#pages[chosen];
    if (ops[chosen] === OP_IDLE) {
      this.#halting = true;
      return OP_NONE;
    }
    return ops[chosen];
  }
}

/** One stretch of compute (OP_NONE) or idling (OP_IDLE), then done. */
class SingleStretch implements GuestProgram {
  gapCycles = 0;
  readonly arg = -1;
  #done = false;
  readonly #op: number;
  readonly #cycles: number;

  constructor(op: number, cycles: number) {
    this.#op = op;
    this.#cycles = cycles;
  }

  next(): number {
    if (this.#done) {
      this.gapCycles = 0;
      return OP_DONE;
    }
    this.#done = true;
    this.gapCycles = this.#cycles;
    return this.#op;
  }
}

/** Accesses a batch targets; a batch is charged as one pair of guest stretches. */
export const ACCESSES_PER_BATCH = 4096;

/** The `memory` workload: batches of accesses to this vCPU's (or the shared) working set. */
class MemoryProgram implements GuestProgram {
  gapCycles = 0;
  readonly arg = -1;
  readonly batch: MemoryBatch;
  readonly #durationCycles: number;
  readonly #cyclesPerAccess: number;
  #remaining: number;
  /** 0: the warm-up batch is still to come; 1: the first measured one; 2: measuring. */
  #phase = 0;
  #endCycles = Infinity;

  constructor(spec: Extract<WorkloadSpec, { kind: "memory" }>, env: ProgramEnv) {
    const pages = Math.max(1, Math.round(spec.workingSetMiB * 256));
    const offset = Math.round(spec.offsetMiB * 256) + (spec.shared ? 0 : env.rank * pages);
    this.batch = {
      firstPage: offset,
      pages,
      pattern: spec.pattern === "hot-set"
        ? { kind: "hot-set", hotFraction: spec.hotFraction, hotShare: spec.hotShare }
        : { kind: spec.pattern },
      guestPage: spec.guestPageSize,
      accesses: ACCESSES_PER_BATCH,
      writeShare: spec.writeShare,
      minCycles: 0,
      vtl: spec.vtl,
    };
    this.#cyclesPerAccess = spec.accessesPerSec === undefined
      ? 0
      : (env.cyclesPerMs * 1000) / spec.accessesPerSec;
    this.#durationCycles = spec.durationMs === undefined
      ? Infinity
      : Math.round(spec.durationMs * env.cyclesPerMs);
    this.#remaining = spec.count ?? Infinity;
  }

  next(nowCycles: number): number {
    if (this.#phase === 0) {
      // First a batch of no accesses: the guest touches its working set in (faults,
      // accepts) before the measured accesses, and their duration, start.
      this.#phase = 1;
      this.batch.accesses = 0;
      this.batch.minCycles = 0;
      return OP.memory;
    }
    if (this.#phase === 1) {
      this.#phase = 2;
      this.#endCycles = nowCycles + this.#durationCycles;
    }
    if (this.#remaining <= 0 || nowCycles >= this.#endCycles) return OP_DONE;
    const accesses = Math.min(ACCESSES_PER_BATCH, this.#remaining);
    this.#remaining -= accesses;
    this.batch.accesses = accesses;
    this.batch.minCycles = Math.round(accesses * this.#cyclesPerAccess);
    return OP.memory;
  }
}

/**
 * The `trace` workload: recorded steps, each guest time and then an operation or a halt. A
 * halt step runs its guest time first (OP_NONE) and halts on the next call (OP_IDLE).
 */
class TraceProgram implements GuestProgram {
  gapCycles = 0;
  readonly arg = -1;
  readonly haltOnce = true;
  readonly #ops: Int32Array;
  readonly #sequence: readonly number[];
  readonly #gapCycles: Float64Array;
  /** Halted cycles of each step (0 for steps that are not halts). */
  readonly #haltCycles: Float64Array;
  readonly #isHalt: Uint8Array;
  readonly #resample: boolean;
  readonly #durationCycles: number;
  readonly #rng: Rng;
  #remaining: number;
  #next = 0;
  #pendingHaltCycles = -1;
  #endCycles = -1;

  constructor(spec: Extract<WorkloadSpec, { kind: "trace" }>, env: ProgramEnv) {
    const cyclesPerNs = env.cyclesPerMs / 1e6;
    this.#ops = Int32Array.from(
      spec.operations.map((name) => name === TRACE_HALT ? OP_IDLE : OP[name as GuestOperation]),
    );
    this.#sequence = spec.sequence;
    this.#gapCycles = Float64Array.from(spec.gapNs, (ns) => Math.round(ns * cyclesPerNs));
    this.#isHalt = Uint8Array.from(spec.sequence, (i) => +(spec.operations[i] === TRACE_HALT));
    this.#haltCycles = new Float64Array(spec.sequence.length);
    let halt = 0;
    for (let step = 0; step < spec.sequence.length; step++) {
      if (this.#isHalt[step] === 1) {
        this.#haltCycles[step] = Math.round((spec.haltNs[halt++] ?? 0) * cyclesPerNs);
      }
    }
    this.#resample = spec.order === "resample";
    this.#durationCycles = spec.durationMs === undefined
      ? Infinity
      : Math.round(spec.durationMs * env.cyclesPerMs);
    this.#remaining = spec.count ?? (this.#resample ? Infinity : spec.sequence.length);
    this.#rng = env.rng;
  }

  next(nowCycles: number): number {
    if (this.#pendingHaltCycles >= 0) {
      this.gapCycles = this.#pendingHaltCycles;
      this.#pendingHaltCycles = -1;
      return OP_IDLE;
    }
    if (this.#endCycles < 0) this.#endCycles = nowCycles + this.#durationCycles;
    if (this.#remaining <= 0 || nowCycles >= this.#endCycles) {
      this.gapCycles = 0;
      return OP_DONE;
    }
    const steps = this.#sequence.length;
    const step = this.#resample ? this.#rng.int(0, steps - 1) : this.#next++ % steps;
    this.#remaining--;
    const gap = this.#gapCycles[step];
    if (nowCycles + gap >= this.#endCycles) {
      // The duration ends during this stretch of compute: run up to the end, no operation.
      this.gapCycles = this.#endCycles - nowCycles;
      this.#remaining = 0;
      return OP_NONE;
    }
    this.gapCycles = gap;
    if (this.#isHalt[step] === 1) {
      this.#pendingHaltCycles = this.#haltCycles[step];
      return OP_NONE;
    }
    return this.#ops[this.#sequence[step]];
  }
}
