/**
 * The versioned summary of one run: what `summary.json` holds. It carries everything
 * needed to reproduce the run (resolved scenario, design, profile, seed, tool version)
 * and nothing that varies between identical runs (no wall-clock times).
 *
 * @module
 */

import type { HistogramSummary, ResourceReport } from "../engine/mod.ts";
import type { CostSpec, ResolvedProfile } from "../host/profile.ts";
import { OPERATION_NAMES } from "../host/operations.ts";
import { EXIT_REASON_NAMES } from "../host/exit_reasons.ts";
import { LINE_BYTES } from "../host/translation.ts";
import {
  type Domain,
  DOMAINS,
  PRIMITIVE_COUNT,
  PRIMITIVE_DOMAIN,
  PRIMITIVE_NAMES,
} from "../host/primitives.ts";
import type { DesignSpec } from "../kvm/platform.ts";
import type { ResolvedScenario } from "../scenario/load.ts";
import type { MemoryTotals, Recorder } from "./recorder.ts";
import config from "../../deno.json" with { type: "json" };

/** Version of the summary format; bumped on any incompatible change. */
export const SCHEMA_VERSION = 1;

/** The cvmsim version that wrote a summary. */
export const CVMSIM_VERSION: string = config.version;

/** Why a run ended. */
/**
 * Why a run ended: every workload finished, the stop time came (`time`, or `time-limit`
 * while waiting for workloads), the host panicked; or it was cut short and its report is
 * partial: Ctrl-C (`interrupted`) or the event limit (`event-limit`).
 */
export type StopOutcome =
  | "workloads-complete"
  | "time"
  | "time-limit"
  | "host-panic"
  | "interrupted"
  | "event-limit";

/** Count and cycles of one primitive. */
export interface PrimitiveTotal {
  count: number;
  cycles: number;
}

/** Where one thread's (or all threads') time went. */
export interface TimeAccount {
  /** Cycles per domain; every domain is present. */
  byDomain: Record<Domain, number>;
  /** Count and cycles per primitive that occurred, in catalogue order. */
  byPrimitive: Record<string, PrimitiveTotal>;
  /** Exits per reason that occurred. */
  exitsByReason: Record<string, number>;
  exits: number;
}

/** One vCPU's account. */
export interface VcpuAccount extends TimeAccount {
  name: string;
  vm: string;
  index: number;
}

/** A host thread other than a vCPU (a backend, a VMM I/O thread, a daemon). */
export interface ThreadAccount {
  name: string;
  kind: string;
  byDomain: Record<Domain, number>;
  byPrimitive: Record<string, PrimitiveTotal>;
}

/** Latency of one guest operation, in cycles. */
export interface OperationLatency {
  count: number;
  meanCycles: number;
  minCycles: number;
  p50Cycles: number;
  p90Cycles: number;
  p99Cycles: number;
  p999Cycles: number;
  maxCycles: number;
  /** Non-empty histogram buckets: [lowest cycles, highest cycles, count]. */
  histogram: [number, number, number][];
}

/** One workload's progress. */
export interface WorkloadSummary {
  guest: string;
  index: number;
  kind: string;
  vcpus: number;
  finishedVcpus: number;
  operations: number;
  /** Operations per simulated second over the whole run. */
  throughputPerSec: number;
  /** A `memory` workload's accesses: throughput, latency and the translation behind it. */
  memory?: MemorySummary;
}

/**
 * What a memory workload's accesses achieved, measured over its batches (not the touching
 * in before them); rates and shares are per access.
 */
export interface MemorySummary {
  accesses: number;
  /** Accesses per second of every vCPU running it together. */
  accessesPerSec: number;
  /** The same in bytes (an access is one 64-byte line). */
  bytesPerSec: number;
  /** Guest cycles per access, with what interrupted the batches. */
  meanAccessCycles: number;
  meanAccessNs: number;
  /** Page-walk cycles per access, and their share of the accesses' own cycles. */
  walkCyclesPerAccess: number;
  walkShare: number;
  /** L1 dTLB misses and STLB misses (walks) per access. */
  l1MissRate: number;
  stlbMissRate: number;
  /** Cycles of one walk. */
  cyclesPerWalk: number;
  /** Share of accesses to pages under 2 MiB host leaves. */
  hugeShare: number;
  /** Simulated time the vCPUs spent touching their working sets in, per vCPU. */
  warmupMs: number;
}

/** Contents of summary.json. */
export interface Summary {
  schemaVersion: number;
  cvmsimVersion: string;
  scenario: ResolvedScenario;
  design: DesignSpec;
  profile: {
    name: string;
    description: string;
    clockGHz: number;
    clockBasis: string;
    chain: string[];
    costs: Record<string, CostSpec & { from: string }>;
  };
  seed: number;
  run: {
    stop: StopOutcome;
    simulatedCycles: number;
    simulatedMs: number;
    /** Engine events processed (deterministic for a seed). */
    events: number;
  };
  /** Over every thread: vCPUs and host threads. */
  totals: TimeAccount;
  vcpus: VcpuAccount[];
  threads: ThreadAccount[];
  operations: Record<string, OperationLatency>;
  resources: (Omit<ResourceReport, "waitCycles"> & { waitCycles: HistogramSummary })[];
  workloads: WorkloadSummary[];
  /** Reliability: what failures did (empty lists when nothing failed). */
  outcomes: OutcomesSummary;
}

/** The blast radius of the run's failures. */
export interface OutcomesSummary {
  hostPanicked: boolean;
  /** Host processes killed by SIGBUS. */
  killedProcesses: string[];
  /** VMs that took an unexpected #VC. */
  guestsWithVc: string[];
  /** VMs that terminated or were killed. */
  terminatedGuests: string[];
  /** Per VM that lost service: when, and for how long (to its restoration or the run's end). */
  serviceLoss: { vm: string; lostAtMs: number; downMs: number }[];
  /** Every outcome in time order. */
  events: { atMs: number; kind: string; subject: string; cause: string }[];
}

/** A thread's raw accounts, as the models keep them. */
export interface ThreadAccounts {
  name: string;
  kind: string;
  primCycles: Float64Array;
  primCounts: Float64Array;
}

/** A vCPU's raw accounts. */
export interface VcpuAccounts extends ThreadAccounts {
  vmName: string;
  index: number;
  exitCounts: Float64Array;
}

/** Everything {@linkcode buildSummary} reads. */
export interface SummaryInput {
  scenario: ResolvedScenario;
  design: DesignSpec;
  profile: ResolvedProfile;
  vcpus: VcpuAccounts[];
  threads: ThreadAccounts[];
  recorder: Recorder;
  endCycles: number;
  stop: StopOutcome;
  events: number;
}

/** Builds the summary of a finished run. */
export function buildSummary(input: SummaryInput): Summary {
  const { scenario, recorder, endCycles } = input;
  const clockHz = scenario.host.clockGHz * 1e9;
  const seconds = endCycles / clockHz;
  const totalCycles = new Float64Array(PRIMITIVE_COUNT);
  const totalCounts = new Float64Array(PRIMITIVE_COUNT);
  const totalExits = new Float64Array(EXIT_REASON_NAMES.length);
  const add = (thread: ThreadAccounts) => {
    for (let i = 0; i < PRIMITIVE_COUNT; i++) {
      totalCycles[i] += thread.primCycles[i];
      totalCounts[i] += thread.primCounts[i];
    }
  };
  const noExits = new Float64Array(EXIT_REASON_NAMES.length);
  const threads = input.threads.map((thread) => {
    add(thread);
    const { byDomain, byPrimitive } = account(thread.primCycles, thread.primCounts, noExits);
    return { name: thread.name, kind: thread.kind, byDomain, byPrimitive };
  });
  const vcpus = input.vcpus.map((thread) => {
    add(thread);
    thread.exitCounts.forEach((count, i) => totalExits[i] += count);
    return {
      name: thread.name,
      vm: thread.vmName,
      index: thread.index,
      ...account(thread.primCycles, thread.primCounts, thread.exitCounts),
    };
  });
  const operations: Record<string, OperationLatency> = {};
  recorder.operationLatency.forEach((histogram, op) => {
    if (histogram.count === 0) return;
    const s = histogram.summary();
    operations[OPERATION_NAMES[op]] = {
      count: s.count,
      meanCycles: round(s.mean, 3),
      minCycles: s.min,
      p50Cycles: s.p50,
      p90Cycles: s.p90,
      p99Cycles: s.p99,
      p999Cycles: s.p999,
      maxCycles: s.max,
      histogram: histogram.buckets(),
    };
  });
  return {
    schemaVersion: SCHEMA_VERSION,
    cvmsimVersion: CVMSIM_VERSION,
    scenario,
    design: input.design,
    profile: {
      name: input.profile.name,
      description: input.profile.description,
      clockGHz: input.profile.clockGHz,
      clockBasis: input.profile.clockBasis,
      chain: input.profile.chain,
      costs: input.profile.costs as Record<string, CostSpec & { from: string }>,
    },
    seed: scenario.seed,
    run: {
      stop: input.stop,
      simulatedCycles: endCycles,
      simulatedMs: round(endCycles / (clockHz / 1000), 6),
      events: input.events,
    },
    totals: account(totalCycles, totalCounts, totalExits),
    vcpus,
    threads,
    operations,
    resources: recorder.resources.map((stats) => {
      const report = stats.report(endCycles);
      return {
        ...report,
        utilization: round(report.utilization, 6),
        meanQueueLength: round(report.meanQueueLength, 6),
        waitCycles: { ...report.waitCycles, mean: round(report.waitCycles.mean, 3) },
      };
    }),
    workloads: recorder.workloads.map((w) => ({
      guest: w.guest,
      index: w.index,
      kind: w.kind,
      vcpus: w.vcpus,
      finishedVcpus: w.finishedVcpus,
      operations: w.operations,
      throughputPerSec: seconds > 0 ? round(w.operations / seconds, 3) : 0,
      ...(w.memory === undefined ? {} : { memory: summarizeMemory(w.memory, w.vcpus, clockHz) }),
    })),
    outcomes: summarizeOutcomes(recorder, endCycles, clockHz / 1000),
  };
}

/** A memory workload's totals as rates and shares. */
function summarizeMemory(m: MemoryTotals, vcpus: number, clockHz: number): MemorySummary {
  const perVcpuSeconds = m.batchCycles / Math.max(1, vcpus) / clockHz;
  const per = (value: number) => (m.accesses > 0 ? value / m.accesses : 0);
  const accessesPerSec = perVcpuSeconds > 0 ? m.accesses / perVcpuSeconds : 0;
  return {
    accesses: m.accesses,
    accessesPerSec: round(accessesPerSec, 3),
    bytesPerSec: round(accessesPerSec * LINE_BYTES, 3),
    meanAccessCycles: round(per(m.batchCycles), 3),
    meanAccessNs: round(per(m.batchCycles) / (clockHz / 1e9), 3),
    walkCyclesPerAccess: round(per(m.walkCycles), 3),
    walkShare: round(m.accessCycles > 0 ? m.walkCycles / m.accessCycles : 0, 6),
    l1MissRate: round(per(m.l1Misses), 6),
    stlbMissRate: round(per(m.stlbMisses), 6),
    cyclesPerWalk: round(m.stlbMisses > 0 ? m.walkCycles / m.stlbMisses : 0, 3),
    hugeShare: round(per(m.hugeAccesses), 6),
    warmupMs: round(m.warmupCycles / Math.max(1, vcpus) / (clockHz / 1000), 6),
  };
}

/** Folds the recorded outcomes into the blast radius: who was hit, and service lost per VM. */
export function summarizeOutcomes(
  recorder: Recorder,
  endCycles: number,
  cyclesPerMs: number,
): OutcomesSummary {
  const ms = (cycles: number) => round(cycles / cyclesPerMs, 6);
  const events = [...recorder.outcomes].sort((a, b) => a.atCycles - b.atCycles);
  const subjects = (kind: string) => [
    ...new Set(events.filter((e) => e.kind === kind).map((e) => e.subject)),
  ];
  const serviceLoss: OutcomesSummary["serviceLoss"] = [];
  const downSince = new Map<string, number>();
  const downCycles = new Map<string, number>();
  const firstLost = new Map<string, number>();
  for (const event of events) {
    if (event.kind === "service-lost" && !downSince.has(event.subject)) {
      downSince.set(event.subject, event.atCycles);
      if (!firstLost.has(event.subject)) firstLost.set(event.subject, event.atCycles);
    } else if (event.kind === "service-restored" && downSince.has(event.subject)) {
      const since = downSince.get(event.subject)!;
      downCycles.set(event.subject, (downCycles.get(event.subject) ?? 0) + event.atCycles - since);
      downSince.delete(event.subject);
    }
  }
  for (const [vm, since] of downSince) {
    downCycles.set(vm, (downCycles.get(vm) ?? 0) + Math.max(0, endCycles - since));
  }
  for (const [vm, lostAt] of firstLost) {
    serviceLoss.push({ vm, lostAtMs: ms(lostAt), downMs: ms(downCycles.get(vm) ?? 0) });
  }
  return {
    hostPanicked: events.some((e) => e.kind === "host-panic"),
    killedProcesses: subjects("sigbus"),
    guestsWithVc: subjects("guest-vc"),
    terminatedGuests: subjects("guest-terminated"),
    serviceLoss,
    events: events.map((e) => ({
      atMs: ms(e.atCycles),
      kind: e.kind,
      subject: e.subject,
      cause: e.cause,
    })),
  };
}

function account(cycles: Float64Array, counts: Float64Array, exits: Float64Array): TimeAccount {
  const byDomain = Object.fromEntries(DOMAINS.map((d) => [d, 0])) as Record<Domain, number>;
  const byPrimitive: Record<string, PrimitiveTotal> = {};
  for (let i = 0; i < PRIMITIVE_COUNT; i++) {
    byDomain[DOMAINS[PRIMITIVE_DOMAIN[i]]] += cycles[i];
    if (counts[i] > 0 || cycles[i] > 0) {
      byPrimitive[PRIMITIVE_NAMES[i]] = { count: counts[i], cycles: cycles[i] };
    }
  }
  const exitsByReason: Record<string, number> = {};
  let total = 0;
  exits.forEach((count, i) => {
    if (count === 0) return;
    exitsByReason[EXIT_REASON_NAMES[i]] = count;
    total += count;
  });
  return { byDomain, byPrimitive, exitsByReason, exits: total };
}

/** Rounds to `digits` decimals (keeps summaries short and stable to read). */
export function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
