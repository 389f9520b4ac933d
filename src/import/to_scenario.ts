/**
 * Turns a parsed exit trace or `perf kvm stat` report into a scenario: the recorded guest
 * behaviour as workloads (a `trace` workload per vCPU from a trace, a `mix` from a stat
 * report), with designs of the recorded platform and of TDX, SNP and VSM to compare, and a
 * summary of what was imported, guessed and left out.
 *
 * @module
 */

import { MAX_TRACE_STEP_NS, MAX_WORKLOAD_MS, TRACE_HALT } from "../workloads/workloads.ts";
import { type ImportedStep, type Isa, isaOf, resolveExit, TSC_DEADLINE_MSR } from "./exit_map.ts";
import type { LineProblem, StatReport } from "./perf_kvm_stat.ts";
import type { TraceText } from "./trace_text.ts";

/** Options of an import. */
export interface ImportOptions {
  /** Name of the scenario (default: from the file name). */
  name: string;
  /** The file imported (for the description). */
  source: string;
  /** Replay the steps in order (default: resample them). */
  replay: boolean;
  /** For a perf kvm stat report: how long it recorded, and how many vCPUs. */
  seconds?: number;
  vcpus?: number;
  seed: number;
}

/** Per reason: how many exits, what they became, and how long the host took. */
export interface ReasonCount {
  reason: string;
  exits: number;
  /** The operation (or "halt"), or "not imported" / "unknown reason". */
  became: string;
  /** Exits whose direction was not recorded and taken as writes. */
  guessed: number;
  /** Exits that went to userspace (kvm_userspace_exit), for traces. */
  toUserspace: number;
  /** Mean time from the exit to the next entry, ns (NaN when unknown). */
  meanHandlingNs: number;
}

/** What an import produced. */
export interface Imported {
  scenario: Record<string, unknown>;
  isa: Isa;
  format: string;
  reasons: ReasonCount[];
  /** Exits imported as steps, per operation (all vCPUs). */
  steps: Record<string, number>;
  /** Recorded span per vCPU, ms. */
  spanMs: number;
  vcpus: number;
  problems: LineProblem[];
  /** Everything a user should know, one line each. */
  notes: string[];
}

/** The highest rate a mix operation accepts (per second of guest time). */
const MAX_RATE_PER_SEC = 1e9;

/** A problem that stops the import (the file says too little). */
export class ImportError extends Error {}

/** The designs an imported scenario compares: the recorded platform's, then the others. */
function designsFor(isa: Isa, ioInUserspace: boolean): string[] {
  const plain = isa === "vmx"
    ? (ioInUserspace ? "vmx.io-in-vmm" : "vmx.io-in-kernel")
    : (ioInUserspace ? "svm.io-in-vmm" : "svm.io-in-kernel");
  return [plain, "tdx.upstream", "snp.upstream", "vsm.in-kernel"];
}

function detectIsa(reasons: Iterable<string>): Isa {
  const seen = { vmx: 0, svm: 0 };
  for (const reason of reasons) {
    const isa = isaOf(reason);
    if (isa !== undefined) seen[isa]++;
  }
  if (seen.vmx === 0 && seen.svm === 0) {
    throw new ImportError(
      "no exit reason in the file is a known VMX or SVM reason (see docs/import.md)",
    );
  }
  if (seen.vmx > 0 && seen.svm > 0) {
    throw new ImportError(
      `the file mixes VMX reasons (${seen.vmx} kinds) and SVM reasons (${seen.svm} kinds)`,
    );
  }
  return seen.vmx > 0 ? "vmx" : "svm";
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;
/** Six significant digits: rates and means stay non-zero however small. */
const sig = (n: number) => Number(n.toPrecision(6));
/** A run length in ms a workload and a stop accept: from 1 µs to an hour. */
const runMs = (ms: number) => Math.min(Math.max(sig(ms), 0.001), MAX_WORKLOAD_MS);
/** A gap or halt a trace step accepts (longer ones are cut, and counted). */
const stepNs = (ns: number, cut: { count: number }) => {
  if (ns <= MAX_TRACE_STEP_NS) return Math.max(0, Math.round(ns));
  cut.count++;
  return MAX_TRACE_STEP_NS;
};

/** Builds a scenario from a trace. */
export function traceToScenario(trace: TraceText, options: ImportOptions): Imported {
  const usable = trace.vcpus.filter((vcpu) => vcpu.exits.length > 0);
  if (usable.length === 0) {
    const first = trace.problems[0];
    throw new ImportError(
      "no kvm_exit event could be read" +
        (first === undefined
          ? ""
          : ` (${trace.problems.length} lines not read; line ${first.line}: ${first.why})`),
    );
  }
  const isa = detectIsa(usable.flatMap((vcpu) => vcpu.exits.map((exit) => exit.reason)));
  const reasons = new Map<string, ReasonCount & { handledNs: number; handled: number }>();
  const steps: Record<string, number> = {};
  let ioExits = 0;
  let ioToUserspace = 0;
  let folded = 0;
  let eois = 0;
  const cut = { count: 0 };
  const workloads = usable.map((vcpu, index) => {
    const operations: ImportedStep[] = [];
    const sequence: number[] = [];
    const gapNs: number[] = [];
    const haltNs: number[] = [];
    let pendingGuestNs = 0;
    let lastWasDeadline = false;
    for (const exit of vcpu.exits) {
      const resolved = resolveExit(isa, exit.reason, exit.detail);
      const handling = exit.entryNs - exit.exitNs;
      let entry = reasons.get(exit.reason);
      if (entry === undefined) {
        entry = {
          reason: exit.reason,
          exits: 0,
          became: "",
          guessed: 0,
          toUserspace: 0,
          meanHandlingNs: NaN,
          handledNs: 0,
          handled: 0,
        };
        reasons.set(exit.reason, entry);
      }
      entry.exits++;
      if (resolved.guessed) entry.guessed++;
      if (exit.userspace !== undefined) entry.toUserspace++;
      if (!Number.isNaN(handling)) {
        entry.handledNs += handling;
        entry.handled++;
      }
      const step = resolved.step;
      if (resolved.skipped === "EOI") eois++;
      entry.became = resolved.skipped !== undefined
        ? mergeBecame(entry.became, `not imported (${resolved.skipped})`)
        : step === undefined
        ? (resolved.unknown ? "unknown reason" : "not imported")
        : mergeBecame(entry.became, step);
      if (step?.startsWith("pio") || step?.startsWith("mmio")) {
        ioExits++;
        if (exit.userspace !== undefined) ioToUserspace++;
      }
      // Guest time before an exit that is not imported stays guest time of the next step.
      if (!Number.isNaN(exit.guestNs)) pendingGuestNs += exit.guestNs;
      if (step === undefined) continue;
      if (step === TRACE_HALT && lastWasDeadline) {
        // Idle entry: the guest armed its timer, then halted; cvmsim's halt does both.
        sequence.pop();
        pendingGuestNs += gapNs.pop()!;
        steps["msr-write"]--;
        folded++;
      }
      lastWasDeadline = step === "msr-write" && exit.detail.msr === TSC_DEADLINE_MSR;
      let opIndex = operations.indexOf(step);
      if (opIndex < 0) opIndex = operations.push(step) - 1;
      sequence.push(opIndex);
      gapNs.push(stepNs(pendingGuestNs, cut));
      pendingGuestNs = 0;
      if (step === TRACE_HALT) haltNs.push(Number.isNaN(handling) ? 0 : stepNs(handling, cut));
      steps[step] = (steps[step] ?? 0) + 1;
    }
    if (sequence.length === 0) return undefined;
    const spanNs = vcpuSpanNs(vcpu.exits, trace);
    return {
      kind: "trace",
      vcpus: [index],
      operations,
      sequence,
      gapNs,
      haltNs,
      order: options.replay ? "replay" : "resample",
      ...(options.replay ? {} : { durationMs: runMs(spanNs / 1e6) }),
    };
  });
  const present = workloads.filter((w) => w !== undefined);
  if (present.length === 0) {
    throw new ImportError("no exit of the trace maps to a guest operation (see docs/import.md)");
  }
  const spanMs = (trace.lastNs - trace.firstNs) / 1e6;
  const counts = [...reasons.values()].map(({ handledNs, handled, ...rest }) => ({
    ...rest,
    meanHandlingNs: handled === 0 ? NaN : handledNs / handled,
  }));
  const ioInUserspace = ioExits > 0 && ioToUserspace * 2 >= ioExits;
  const notes = commonNotes(counts, isa, ioInUserspace, ioExits, ioToUserspace);
  if (folded > 0) {
    notes.push(
      `${folded} TSC_DEADLINE writes right before a HLT are part of the halt (cvmsim's halt ` +
        "arms the timer and halts)",
    );
  }
  if (eois > 0) {
    notes.push(`${eois} EOI writes are left to cvmsim's interrupt handler (a virtualized EOI)`);
  }
  if (cut.count > 0) {
    notes.push(
      `${cut.count} gaps or halts longer than ${MAX_TRACE_STEP_NS / 1e9} s were cut to it`,
    );
  }
  if (spanMs > MAX_WORKLOAD_MS && !options.replay) {
    notes.push(`the recorded span is cut to ${MAX_WORKLOAD_MS / 60000} min, the longest run`);
  }
  const describedVcpus = usable.map((v) => `${v.idIsThread ? "thread " : "vCPU "}${v.id}`);
  return assemble(options, {
    what: `${trace.format === "perf-script" ? "perf script" : "trace-cmd report"} text of ` +
      `${usable.length} vCPU${usable.length === 1 ? "" : "s"} (${describedVcpus.join(", ")}), ` +
      `${round3(spanMs)} ms`,
    isa,
    ioInUserspace,
    vcpus: usable.length,
    workloads: present,
    stopMs: options.replay ? undefined : runMs(spanMs),
    notes,
    format: trace.format,
    reasons: counts,
    steps,
    spanMs,
    problems: trace.problems,
  });
}

/** A vCPU's recorded span: first exit to last entry (or the trace's end). */
function vcpuSpanNs(exits: TraceText["vcpus"][number]["exits"], trace: TraceText): number {
  const first = exits[0];
  const start = Number.isNaN(first.guestNs) ? first.exitNs : first.exitNs - first.guestNs;
  return Math.max(1, trace.lastNs - start);
}

function mergeBecame(before: string, step: string): string {
  if (before === "" || before === step) return step;
  const parts = new Set(before.split(" / "));
  parts.add(step);
  return [...parts].sort().join(" / ");
}

/** Builds a scenario from a perf kvm stat report (rates; no order, no inter-arrival times). */
export function statToScenario(report: StatReport, options: ImportOptions): Imported {
  if (report.rows.length === 0) throw new ImportError("the report has no VM-EXIT rows");
  const seconds = options.seconds ?? report.durationSeconds;
  if (seconds === undefined) {
    throw new ImportError(
      "a perf kvm stat report does not say how long it recorded: give --seconds (the " +
        "duration of `perf kvm stat record`), or put `perf report --header-only` of the same " +
        'perf.data before it (its "sample duration" line)',
    );
  }
  const vcpus = report.vcpu === "all" ? options.vcpus : 1;
  if (vcpus === undefined) {
    throw new ImportError(
      'the report is "for all VCPUs" and does not say how many: give --vcpus (the guest\'s ' +
        "vCPU count)",
    );
  }
  const isa = detectIsa(report.rows.map((row) => row.reason));
  const vcpuSeconds = seconds * vcpus;
  const handledUs = report.rows.reduce((sum, row) => sum + row.samples * row.avgUs, 0);
  const guestSeconds = vcpuSeconds - handledUs / 1e6;
  if (guestSeconds <= 0) {
    throw new ImportError(
      `the exits' handling time (${round3(handledUs / 1e6)} s) is more than the recorded ` +
        `vCPU time (${seconds} s x ${vcpus} vCPUs): check --seconds and --vcpus`,
    );
  }
  const fastest = Math.max(...report.rows.map((row) => row.samples)) / guestSeconds;
  if (fastest > MAX_RATE_PER_SEC) {
    throw new ImportError(
      `${sig(fastest)} exits per second of guest time on a vCPU is beyond what a mix runs ` +
        `(${MAX_RATE_PER_SEC}): check --seconds and --vcpus`,
    );
  }
  const counts: ReasonCount[] = [];
  const steps: Record<string, number> = {};
  const rates = new Map<string, number>();
  let halts = 0;
  let haltUs = 0;
  for (const row of report.rows) {
    if (row.samples === 0) continue;
    const resolved = resolveExit(isa, row.reason, {});
    const step = resolved.step;
    counts.push({
      reason: row.reason,
      exits: row.samples,
      became: step ?? (resolved.unknown ? "unknown reason" : "not imported"),
      guessed: resolved.guessed ? row.samples : 0,
      toUserspace: 0,
      meanHandlingNs: row.avgUs * 1000,
    });
    if (step === undefined) continue;
    steps[step] = (steps[step] ?? 0) + row.samples;
    if (step === TRACE_HALT) {
      halts += row.samples;
      haltUs += row.samples * row.avgUs;
      continue;
    }
    rates.set(step, (rates.get(step) ?? 0) + row.samples);
  }
  // A NOHZ guest programs its timer (a TSC_DEADLINE write) as it goes idle, and cvmsim's
  // halt does that itself: take one MSR write per halt out of the writes (a trace's
  // kvm_msr events tell them apart exactly; a stat report cannot).
  const writes = rates.get("msr-write") ?? 0;
  const folded = Math.min(writes, halts);
  if (folded > 0) {
    if (writes === folded) rates.delete("msr-write");
    else rates.set("msr-write", writes - folded);
    steps["msr-write"] -= folded;
  }
  if (rates.size === 0) {
    throw new ImportError(
      halts === 0
        ? "no exit of the report maps to a guest operation (see docs/import.md)"
        : "the report's only imported exits are halts: the guest did nothing but idle",
    );
  }
  // Rates per second of guest execution on each vCPU (the mix workload's unit): handling
  // time excluded; guestSeconds sums every vCPU's.
  const perGuestSecond = (samples: number) => samples / guestSeconds;
  const mix: Record<string, unknown> = {
    kind: "mix",
    operations: [...rates].map(([operation, samples]) => ({
      operation,
      ratePerSec: sig(perGuestSecond(samples)),
    })),
    durationMs: runMs(seconds * 1000),
  };
  if (halts > 0) {
    mix.halts = {
      ratePerSec: sig(perGuestSecond(halts)),
      meanNs: Math.min(Math.round(haltUs * 1000 / halts), MAX_TRACE_STEP_NS),
    };
  }
  const notes = commonNotes(counts, isa, false, 0, 0);
  if (folded > 0) {
    notes.push(
      `${folded} MSR writes are taken as the timer writes of the ${halts} halts' idle entries ` +
        "(cvmsim's halt arms the timer itself); a trace with kvm_msr events splits them exactly",
    );
  }
  notes.push(
    "a perf kvm stat report has counts, not order: arrivals are Poisson at the recorded " +
      "rates, and halts last their recorded mean",
  );
  return assemble(options, {
    what: `perf kvm stat report (${report.vcpu === "all" ? "all vCPUs" : `vCPU ${report.vcpu}`}` +
      `, ${seconds} s, ${vcpus} vCPU${vcpus === 1 ? "" : "s"})`,
    isa,
    ioInUserspace: false,
    vcpus,
    workloads: [mix],
    stopMs: runMs(seconds * 1000),
    notes,
    format: report.format,
    reasons: counts,
    steps,
    spanMs: seconds * 1000,
    problems: report.problems,
  });
}

function commonNotes(
  counts: ReasonCount[],
  isa: Isa,
  ioInUserspace: boolean,
  ioExits: number,
  ioToUserspace: number,
): string[] {
  const notes: string[] = [];
  const left = counts.filter((c) => c.became === "not imported" || c.became === "unknown reason");
  if (left.length > 0) {
    notes.push(
      "not imported (no guest operation; their guest time stays guest time): " +
        left.map((c) =>
          `${c.reason} ${c.exits}${c.became === "unknown reason" ? " (unknown)" : ""}`
        )
          .join(", "),
    );
  }
  const guessed = counts.filter((c) => c.guessed > 0);
  if (guessed.length > 0) {
    notes.push(
      "direction not recorded, taken as writes: " +
        guessed.map((c) => `${c.reason} ${c.guessed}`).join(", "),
    );
  }
  if (ioExits > 0) {
    notes.push(
      `${ioToUserspace} of ${ioExits} port and MMIO exits went to userspace, so the ` +
        `recorded host is compared as ${isa}.io-in-${ioInUserspace ? "vmm" : "kernel"}`,
    );
  }
  notes.push(
    "host-caused exits (interrupts, KVM's timer) are left to cvmsim's host model; the guest " +
      "has no periodic tick (timerHz 0) unless you add one",
  );
  return notes;
}

interface ScenarioParts {
  what: string;
  isa: Isa;
  ioInUserspace: boolean;
  vcpus: number;
  workloads: unknown[];
  stopMs: number | undefined;
  notes: string[];
  format: string;
  reasons: ReasonCount[];
  steps: Record<string, number>;
  spanMs: number;
  problems: LineProblem[];
}

/** The scenario and what the import tells about it. */
function assemble(options: ImportOptions, parts: ScenarioParts): Imported {
  const scenario = {
    name: options.name,
    description: "What would this guest's recorded exits cost as a TD, an SNP guest, a VSM " +
      `guest? Imported from ${options.source}: ${parts.what}. ${
        parts.notes.map((n) => n[0].toUpperCase() + n.slice(1)).join(". ")
      }.`,
    seed: options.seed,
    guests: [{ name: "imported", vcpus: parts.vcpus, workloads: parts.workloads }],
    designs: designsFor(parts.isa, parts.ioInUserspace),
    stop: parts.stopMs === undefined
      ? { when: "workloads-complete", simulatedMs: MAX_WORKLOAD_MS }
      : { when: "time", simulatedMs: parts.stopMs },
  };
  return {
    scenario,
    isa: parts.isa,
    format: parts.format,
    reasons: parts.reasons.sort((a, b) => b.exits - a.exits || a.reason.localeCompare(b.reason)),
    steps: parts.steps,
    spanMs: parts.spanMs,
    vcpus: parts.vcpus,
    problems: parts.problems,
    notes: parts.notes,
  };
}
