/**
 * The summary's tables as CSV, for spreadsheets: one file per table.
 *
 * @module
 */

import { DOMAINS } from "../host/primitives.ts";
import type { Summary } from "./summary.ts";

/** Names of the CSV tables. */
export const CSV_TABLES = [
  "threads",
  "primitives",
  "exits",
  "operations",
  "resources",
  "memory",
] as const;

/** One of {@linkcode CSV_TABLES}. */
export type CsvTable = typeof CSV_TABLES[number];

/** Renders one table of `summary` as CSV text (RFC 4180 quoting, header row first). */
export function summaryCsv(summary: Summary, table: CsvTable): string {
  const rows = csvRows(summary, table);
  return rows.map((row) => row.map(cell).join(",")).join("\r\n") + "\r\n";
}

function csvRows(summary: Summary, table: CsvTable): (string | number)[][] {
  switch (table) {
    case "threads":
      return [
        ["thread", "kind", ...DOMAINS.map((d) => `${d}_cycles`), "exits"],
        ...summary.vcpus.map((
          v,
        ) => [v.name, "vcpu", ...DOMAINS.map((d) => v.byDomain[d]), v.exits]),
        ...summary.threads.map((t) => [t.name, t.kind, ...DOMAINS.map((d) => t.byDomain[d]), 0]),
      ];
    case "primitives":
      return [
        ["primitive", "count", "cycles"],
        ...Object.entries(summary.totals.byPrimitive).map(([name, p]) => [name, p.count, p.cycles]),
      ];
    case "exits":
      return [
        ["reason", "exits"],
        ...Object.entries(summary.totals.exitsByReason),
      ];
    case "operations":
      return [
        [
          "operation",
          "count",
          "mean_cycles",
          "min_cycles",
          "p50_cycles",
          "p90_cycles",
          "p99_cycles",
          "p999_cycles",
          "max_cycles",
        ],
        ...Object.entries(summary.operations).map(([name, o]) => [
          name,
          o.count,
          o.meanCycles,
          o.minCycles,
          o.p50Cycles,
          o.p90Cycles,
          o.p99Cycles,
          o.p999Cycles,
          o.maxCycles,
        ]),
      ];
    case "resources":
      return [
        [
          "resource",
          "kind",
          "capacity",
          "utilization",
          "acquisitions",
          "contended",
          "mean_wait_cycles",
          "p99_wait_cycles",
          "max_queue",
        ],
        ...summary.resources.map((r) => [
          r.name,
          r.kind,
          r.capacity,
          r.utilization,
          r.acquisitions,
          r.contended,
          r.waitCycles.mean,
          r.waitCycles.p99,
          r.maxQueueLength,
        ]),
      ];
    case "memory":
      return [
        [
          "guest",
          "workload",
          "accesses",
          "accesses_per_sec",
          "bytes_per_sec",
          "mean_access_cycles",
          "mean_access_ns",
          "walk_cycles_per_access",
          "walk_share",
          "l1_miss_rate",
          "stlb_miss_rate",
          "cycles_per_walk",
          "huge_share",
          "warmup_ms",
        ],
        ...summary.workloads.flatMap((w) => {
          const m = w.memory;
          if (m === undefined) return [];
          return [[
            w.guest,
            w.index,
            m.accesses,
            m.accessesPerSec,
            m.bytesPerSec,
            m.meanAccessCycles,
            m.meanAccessNs,
            m.walkCyclesPerAccess,
            m.walkShare,
            m.l1MissRate,
            m.stlbMissRate,
            m.cyclesPerWalk,
            m.hugeShare,
            m.warmupMs,
          ]];
        }),
      ];
  }
}

function cell(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
