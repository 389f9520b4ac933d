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
    durationMs: optional(number({
      min: 0,
      exclusiveMin: true,
      max: 3.6e6,
      unit: "ms",
      doc: "Stop after this much simulated time on each vCPU.",
    })),
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
  }
}

/** True when the workload ends by itself (it has an iteration count, count or duration). */
export function workloadIsFinite(spec: WorkloadSpec): boolean {
  return (spec.kind !== "mix" && spec.kind !== "memory") || spec.durationMs !== undefined ||
    spec.count !== undefined;
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
  #remaining: number;
  #endCycles = -1;

  constructor(spec: Extract<WorkloadSpec, { kind: "mix" }>, env: ProgramEnv) {
    const totalRate = spec.operations.reduce((sum, entry) => sum + entry.ratePerSec, 0);
    this.#ops = Int32Array.from(spec.operations.map((entry) => OP[entry.operation]));
    this.#pages = Int32Array.from(spec.operations.map((entry) => entry.pages));
    let running = 0;
    this.#cumulative = Float64Array.from(spec.operations.map((entry) => {
      running += entry.ratePerSec / totalRate;
      return running;
    }));
    this.#meanGapCycles = (env.cyclesPerMs * 1000) / totalRate;
    this.#exponential = spec.spacing === "exponential";
    this.#durationCycles = spec.durationMs === undefined
      ? Infinity
      : Math.round(spec.durationMs * env.cyclesPerMs);
    this.#remaining = spec.count ?? Infinity;
    this.#rng = env.rng;
  }

  next(nowCycles: number): number {
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
