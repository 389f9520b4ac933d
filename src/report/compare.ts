/**
 * Side-by-side comparison of one scenario under several designs: headline metrics, then
 * the time by domain and by primitive that explains the differences. The first design is
 * the baseline every delta is measured against.
 *
 * @module
 */

import { DOMAINS, PRIMITIVE_NAMES } from "../host/primitives.ts";
import { decimal, delta, integer, table, textWidth } from "./format.ts";
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

/** Widest line of the default text of a comparison, in columns (`--wide` has no limit). */
export const COMPARISON_TEXT_COLUMNS = 120;

/** Options of {@linkcode renderComparison}. */
export interface RenderComparisonOptions {
  /** One column per design whatever the width (the layout before designs could go as rows). */
  wide?: boolean;
  /** Widest line allowed unless `wide` (default {@linkcode COMPARISON_TEXT_COLUMNS}). */
  columns?: number;
}

/**
 * Renders a comparison as one table per section, deltas against the first design (the
 * baseline). The designs go side by side, one column each, when that fits `columns` (or
 * with `wide`); otherwise each design is a row and the metrics go across, in as many tables
 * per section as it takes to fit.
 */
export function renderComparison(
  comparison: Comparison,
  options: RenderComparisonOptions = {},
): string {
  if (options.wide === true) return renderSideBySide(comparison);
  const columns = options.columns ?? COMPARISON_TEXT_COLUMNS;
  const sideBySide = renderSideBySide(comparison, columns);
  return textWidth(sideBySide) <= columns ? sideBySide : renderDesignRows(comparison, columns);
}

/** The title line and what each design changes against the baseline (wrapped at `columns`). */
function preamble(comparison: Comparison, columns = Infinity): string[] {
  const out = [
    `${comparison.scenario} · seed ${comparison.seed} · baseline ${comparison.designs[0]}`,
  ];
  // What each design changes against the baseline, so a delta can be read as that choice's.
  out.push("", "Design choices that differ from the baseline");
  comparison.designs.forEach((design, i) => {
    if (i === 0) return;
    const differences = comparison.differences?.[i] ?? [];
    out.push(
      ...wrapList(`  ${design}: `, differences.length === 0 ? ["none"] : differences, columns),
    );
  });
  return out;
}

/** `items` after `lead`, each but the last followed by `separator`, broken into lines of at most `columns` where it can. */
function wrapList(lead: string, items: string[], columns: number, separator = ";"): string[] {
  const lines: string[] = [];
  let line = lead;
  items.forEach((item, i) => {
    const piece = i < items.length - 1 ? `${item}${separator}` : item;
    const atStart = line === lead || line === CONTINUATION;
    if (!atStart && line.length + 1 + piece.length > columns) {
      lines.push(line);
      line = CONTINUATION;
    }
    line += line === lead || line === CONTINUATION ? piece : ` ${piece}`;
  });
  lines.push(line);
  return lines;
}

/** Indent of a wrapped list's later lines. */
const CONTINUATION = "    ";

/** A row's label: the metric and its unit. */
function metricLabel(row: CompareRow): string {
  return row.unit === "" ? row.metric : `${row.metric} (${row.unit})`;
}

/** A row's value under design `i`, and its delta against the baseline ("" for the baseline). */
function cellParts(row: CompareRow, i: number): { value: string; change: string } {
  const digits = UNIT_DIGITS[row.unit] ?? 0;
  const v = row.values[i];
  const value = v === null ? "-" : digits > 0 ? decimal(v, digits) : integer(v);
  const base = row.values[0];
  const change = i === 0 || v === null || base === null ? "" : delta(v, base, digits);
  return { value, change };
}

function sections(comparison: Comparison): [CompareRow["section"], CompareRow[]][] {
  return (Object.keys(SECTION_TITLES) as CompareRow["section"][])
    .map((section) => [section, comparison.rows.filter((row) => row.section === section)]);
}

/** Metrics as rows, one column per design ("value delta" against the first). */
function renderSideBySide(comparison: Comparison, columns?: number): string {
  const out = preamble(comparison, columns);
  const headers = [
    "metric",
    ...comparison.designs.map((d, i) => i === 0 ? d : `${d} (vs baseline)`),
  ];
  for (const [section, rows] of sections(comparison)) {
    if (rows.length === 0) continue;
    out.push("", SECTION_TITLES[section]);
    out.push(table(
      headers,
      rows.map((row) => [
        metricLabel(row),
        ...row.values.map((_, i) => {
          const { value, change } = cellParts(row, i);
          return change === "" ? value : `${value} ${change}`;
        }),
      ]),
    ));
  }
  return out.join("\n");
}

/** Sections whose rows come in pairs (mean and p99; cycles and count) kept in one table. */
const PAIRED_SECTIONS: ReadonlySet<CompareRow["section"]> = new Set(["latency", "primitive"]);

/**
 * One row per design (the baseline first, so marked) and the metrics across, each column
 * "value delta" with the values aligned; a section whose metrics do not fit `columns` goes
 * on in further tables.
 */
function renderDesignRows(comparison: Comparison, columns: number): string {
  const out = preamble(comparison, columns);
  const labels = comparison.designs.map((d, i) => i === 0 ? `${d} (baseline)` : d);
  const labelWidth = Math.max("design".length, ...labels.map((l) => l.length));
  const note = `(${comparison.designs.length} designs do not fit side by side in ${columns} ` +
    "columns: one row each, the baseline first; --wide puts them side by side)";
  out.push("", ...wrapList("", note.split(" "), columns, ""));
  for (const [section, all] of sections(comparison)) {
    if (all.length === 0) continue;
    out.push("", SECTION_TITLES[section]);
    let rows = all;
    if (section === "primitive") {
      // Where the difference comes from: a primitive the same under every design is named only.
      const same = (name: string) =>
        all.filter((row) => row.metric === name || row.metric === `${name} count`)
          .every((row) => row.values.every((value) => value === row.values[0]));
      const unchanged = all.filter((row) => row.unit === "cycles" && same(row.metric))
        .map((row) => row.metric);
      if (unchanged.length > 0) {
        out.push(
          ...wrapList("the same under every design (--wide shows them): ", unchanged, columns, ","),
          "",
        );
        rows = all.filter((row) => !unchanged.includes(row.metric.replace(/ count$/, "")));
      }
    }
    // Each metric is a column: values right-aligned, then the delta against the baseline.
    const metricColumns = rows.map((row) => {
      const parts = comparison.designs.map((_, i) => cellParts(row, i));
      const valueWidth = Math.max(...parts.map((p) => p.value.length));
      const cells = parts.map((p) =>
        p.change === ""
          ? p.value.padStart(valueWidth)
          : `${p.value.padStart(valueWidth)} ${p.change}`
      );
      const header = metricLabel(row);
      return { header, cells, width: Math.max(header.length, ...cells.map((c) => c.length)) };
    });
    const step = PAIRED_SECTIONS.has(section) ? 2 : 1;
    const tables: (typeof metricColumns)[] = [];
    let current: typeof metricColumns = [];
    let width = labelWidth;
    const widthOf = (group: typeof metricColumns) =>
      group.reduce((sum, column) => sum + 2 + column.width, 0);
    for (let at = 0; at < metricColumns.length; at += step) {
      const pair = metricColumns.slice(at, at + step);
      // A pair too wide for a table of its own goes one column at a time.
      const groups = labelWidth + widthOf(pair) > columns ? pair.map((c) => [c]) : [pair];
      for (const group of groups) {
        if (current.length > 0 && width + widthOf(group) > columns) {
          tables.push(current);
          current = [];
          width = labelWidth;
        }
        current.push(...group);
        width += widthOf(group);
      }
    }
    if (current.length > 0) tables.push(current);
    tables.forEach((chunk, n) => {
      if (n > 0) out.push("");
      out.push(table(
        ["design", ...chunk.map((column) => column.header)],
        labels.map((label, i) => [label, ...chunk.map((column) => column.cells[i])]),
        ["left", ...chunk.map(() => "left" as const)],
      ));
    });
  }
  return out.join("\n");
}

function union(lists: string[][]): string[] {
  const seen: string[] = [];
  for (const list of lists) for (const item of list) if (!seen.includes(item)) seen.push(item);
  return seen;
}
