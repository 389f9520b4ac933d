/**
 * Side-by-side comparison of one scenario under several designs: headline metrics, then
 * the time by domain and by primitive that explains the differences. The first design is
 * the baseline every delta is measured against.
 *
 * @module
 */

import { DOMAINS, PRIMITIVE_NAMES } from "../host/primitives.ts";
import { decimal, delta, integer, table } from "./format.ts";
import type { Summary } from "./summary.ts";
import type { DesignSpec } from "../kvm/platform.ts";

/** One compared metric. */
export interface CompareRow {
  section: "run" | "outcomes" | "latency" | "throughput" | "memory" | "domain" | "primitive";
  metric: string;
  unit: string;
  /** One value per design (null when the metric does not apply to it). */
  values: (number | null)[];
}

/** A comparison, as printed with --json. */
export interface Comparison {
  scenario: string;
  seed: number;
  designs: string[];
  /** Per design (the baseline's empty): how its design choices differ from the baseline's. */
  differences: string[][];
  rows: CompareRow[];
}

/**
 * How `design` differs from `baseline`: each choice they both have with another option, as
 * "id: baseline's option → this one's", or the platform when the two are of different ones.
 */
export function choiceDifferences(design: DesignSpec, baseline: DesignSpec): string[] {
  if (design.platform !== baseline.platform) {
    return [`platform: ${baseline.platform} → ${design.platform}`];
  }
  return Object.entries(design.choices)
    .filter(([id, option]) => baseline.choices[id] !== option)
    .map(([id, option]) => `${id}: ${baseline.choices[id] ?? "-"} → ${option}`);
}

/** Compares summaries of the same scenario and seed. */
export function compareSummaries(summaries: Summary[]): Comparison {
  const rows: CompareRow[] = [];
  const add = (
    section: CompareRow["section"],
    metric: string,
    unit: string,
    pick: (s: Summary) => number | undefined,
  ) => rows.push({ section, metric, unit, values: summaries.map((s) => pick(s) ?? null) });
  add("run", "simulated time", "ms", (s) => s.run.simulatedMs);
  add("run", "exits", "", (s) => s.totals.exits);
  // Reliability next to cycles, when anything failed under any design (older reports have
  // no outcomes).
  if (summaries.some((s) => (s.outcomes?.events.length ?? 0) > 0)) {
    add("outcomes", "host panicked", "", (s) => s.outcomes?.hostPanicked ? 1 : 0);
    add(
      "outcomes",
      "host processes killed (SIGBUS)",
      "",
      (s) => s.outcomes?.killedProcesses.length,
    );
    add("outcomes", "guests that took #VC", "", (s) => s.outcomes?.guestsWithVc.length);
    add("outcomes", "guests terminated", "", (s) => s.outcomes?.terminatedGuests.length);
    add("outcomes", "VMs that lost service", "", (s) => s.outcomes?.serviceLoss.length);
    add(
      "outcomes",
      "service lost, summed over VMs",
      "ms",
      (s) => s.outcomes?.serviceLoss.reduce((sum, loss) => sum + loss.downMs, 0),
    );
  }
  const operations = union(summaries.map((s) => Object.keys(s.operations)));
  for (const op of operations) {
    add("latency", `${op} mean`, "cycles", (s) => s.operations[op]?.meanCycles);
    add("latency", `${op} p99`, "cycles", (s) => s.operations[op]?.p99Cycles);
  }
  summaries[0].workloads.forEach((w, i) => {
    add(
      "throughput",
      `${w.guest} workload ${w.index} (${w.kind})`,
      "ops/s",
      (s) => s.workloads[i]?.throughputPerSec,
    );
  });
  summaries[0].workloads.forEach((w, i) => {
    if (w.memory === undefined) return;
    const name = `${w.guest} workload ${w.index}`;
    const memory = (s: Summary) => s.workloads[i]?.memory;
    add("memory", `${name} accesses/s`, "1/s", (s) => memory(s)?.accessesPerSec);
    // Against the first design of the same platform: the page-size ratio when a compare
    // lists each platform's 4 KiB design before its 2 MiB one.
    const firstOf = (platform: string) => summaries.find((s) => s.design.platform === platform)!;
    add(
      "memory",
      `${name} accesses/s against the platform's first design`,
      "ratio",
      (s) => {
        const base = memory(firstOf(s.design.platform))?.accessesPerSec;
        const own = memory(s)?.accessesPerSec;
        return base === undefined || own === undefined || base === 0 ? undefined : own / base;
      },
    );
    add("memory", `${name} access latency`, "ns", (s) => memory(s)?.meanAccessNs);
    add(
      "memory",
      `${name} walk cycles per access`,
      "cycles",
      (s) => memory(s)?.walkCyclesPerAccess,
    );
    add("memory", `${name} STLB misses`, "per access", (s) => memory(s)?.stlbMissRate);
    add("memory", `${name} cycles per walk`, "cycles", (s) => memory(s)?.cyclesPerWalk);
    add("memory", `${name} under 2 MiB leaves`, "share", (s) => memory(s)?.hugeShare);
  });
  for (const domain of DOMAINS) {
    if (summaries.every((s) => s.totals.byDomain[domain] === 0)) continue;
    add("domain", domain, "cycles", (s) => s.totals.byDomain[domain]);
  }
  for (const name of PRIMITIVE_NAMES) {
    if (summaries.every((s) => s.totals.byPrimitive[name] === undefined)) continue;
    add("primitive", name, "cycles", (s) => s.totals.byPrimitive[name]?.cycles ?? 0);
    add("primitive", `${name} count`, "", (s) => s.totals.byPrimitive[name]?.count ?? 0);
  }
  return {
    scenario: summaries[0].scenario.name,
    seed: summaries[0].seed,
    designs: summaries.map((s) => s.design.name),
    differences: summaries.map((s) => choiceDifferences(s.design, summaries[0].design)),
    rows,
  };
}

/** Decimals shown for values of a unit (others are whole numbers). */
const UNIT_DIGITS: Record<string, number> = {
  ms: 3,
  ns: 1,
  share: 3,
  ratio: 3,
  "per access": 3,
};

const SECTION_TITLES: Record<CompareRow["section"], string> = {
  run: "Run",
  outcomes: "Outcomes (blast radius)",
  latency: "Guest operation latency",
  throughput: "Workload throughput",
  memory: "Memory workloads: throughput and the translation behind it",
  domain: "Time by domain, all threads (vCPUs and host threads)",
  primitive: "Time by primitive, all threads (where the difference comes from)",
};

/** Renders a comparison as one table per section, deltas against the first design. */
export function renderComparison(comparison: Comparison): string {
  const out = [
    `${comparison.scenario} · seed ${comparison.seed} · baseline ${comparison.designs[0]}`,
  ];
  const headers = [
    "metric",
    ...comparison.designs.map((d, i) => i === 0 ? d : `${d} (vs baseline)`),
  ];
  // What each design changes against the baseline, so a delta can be read as that choice's.
  out.push("", "Design choices that differ from the baseline");
  comparison.designs.forEach((design, i) => {
    if (i === 0) return;
    const differences = comparison.differences?.[i] ?? [];
    out.push(`  ${design}: ${differences.length === 0 ? "none" : differences.join("; ")}`);
  });
  for (const section of Object.keys(SECTION_TITLES) as CompareRow["section"][]) {
    const rows = comparison.rows.filter((row) => row.section === section);
    if (rows.length === 0) continue;
    out.push("", SECTION_TITLES[section]);
    out.push(table(
      headers,
      rows.map((row) => {
        const digits = UNIT_DIGITS[row.unit] ?? 0;
        const show = (v: number | null) =>
          v === null ? "-" : digits > 0 ? decimal(v, digits) : integer(v);
        const base = row.values[0];
        return [
          row.unit === "" ? row.metric : `${row.metric} (${row.unit})`,
          ...row.values.map((value, i) =>
            i === 0 || value === null || base === null
              ? show(value)
              : `${show(value)} ${delta(value, base, digits)}`
          ),
        ];
      }),
    ));
  }
  return out.join("\n");
}

function union(lists: string[][]): string[] {
  const seen: string[] = [];
  for (const list of lists) for (const item of list) if (!seen.includes(item)) seen.push(item);
  return seen;
}
