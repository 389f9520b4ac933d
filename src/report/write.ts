/**
 * Writing reports: every file goes to a temporary name first and is renamed into place,
 * so a reader (the dashboard, a script) never sees a half-written file.
 *
 * A report directory holds summary.json, run-info.json, tables/*.csv, and when recorded
 * timeline.bin (and trace.json, the Perfetto export, when asked for).
 *
 * @module
 */

import { join } from "node:path";
import { CSV_TABLES, summaryCsv } from "./csv.ts";
import { traceCmdText } from "./trace_cmd.ts";
import { chromeTraceChunks } from "./perfetto.ts";
import type { Summary } from "./summary.ts";
import type { Timeline } from "./timeline.ts";
import { decodeTimeline, encodeTimeline } from "./timeline_file.ts";

/** Wall-clock facts about a run, kept out of summary.json so that stays reproducible. */
export interface RunInfo {
  startedAt: string;
  wallMs: number;
  events: number;
  eventsPerSec: number;
  exitsPerSec: number;
  deno: string;
  v8: string;
  os: string;
  scenarioFile: string;
  /** Present when the run was cut short, so its summary covers only part of it: why. */
  partial?: "interrupted" | "event-limit";
  /**
   * What made the report, for `deno task start` to reuse it: hashes of the scenario file
   * and of the code, the design and the seed.
   */
  identity?: string;
  /**
   * What the timeline holds (the summary's accounts always cover the whole run): the
   * simulated-time window recorded, its span limit, the spans kept, and where recording
   * stopped when the limit was reached.
   */
  timeline?: {
    fromMs: number;
    toMs: number | null;
    maxSpans: number;
    spans: number;
    truncatedAtMs: number | null;
  };
}

let tempCounter = 0;

function tempName(path: string): string {
  return `${path}.${Deno.pid}.${tempCounter++}.tmp`;
}

/** Writes `content` to `path` atomically (temp file in the same directory, then rename). */
export function writeFileAtomic(path: string, content: string | Uint8Array): void {
  const temp = tempName(path);
  try {
    if (typeof content === "string") Deno.writeTextFileSync(temp, content);
    else Deno.writeFileSync(temp, content);
    Deno.renameSync(temp, path);
  } catch (error) {
    removeQuietly(temp);
    throw error;
  }
}

/** Writes text produced in chunks to `path` atomically, without holding it all in memory. */
export function writeChunksAtomic(path: string, chunks: Iterable<string>): void {
  const temp = tempName(path);
  const encoder = new TextEncoder();
  try {
    const file = Deno.openSync(temp, { write: true, create: true, truncate: true });
    try {
      for (const chunk of chunks) {
        const bytes = encoder.encode(chunk);
        for (let written = 0; written < bytes.length;) {
          written += file.writeSync(bytes.subarray(written));
        }
      }
    } finally {
      file.close();
    }
    Deno.renameSync(temp, path);
  } catch (error) {
    removeQuietly(temp);
    throw error;
  }
}

function removeQuietly(path: string): void {
  try {
    Deno.removeSync(path);
  } catch {
    // the temp file may not exist; the original error is what matters
  }
}

/** The directory name of a run's report. */
export function reportId(summary: Summary): string {
  return `${summary.scenario.name}--${summary.design.name}--seed${summary.seed}`;
}

/** What else to write besides the summary. */
export interface ReportExtras {
  /** The recorded timeline (written as timeline.bin). */
  timeline?: Timeline;
  /** Also write the Perfetto export, trace.json. */
  trace?: boolean;
  /** Also write trace-cmd.txt, the kvm events as trace-cmd report text. */
  traceCmd?: boolean;
}

/** Writes a report under `reportsDir/<id>/`; returns the directory. */
export function writeReport(
  reportsDir: string,
  summary: Summary,
  info: RunInfo,
  extras: ReportExtras = {},
): string {
  const dir = join(reportsDir, reportId(summary));
  Deno.mkdirSync(join(dir, "tables"), { recursive: true });
  writeFileAtomic(join(dir, "summary.json"), JSON.stringify(summary, null, 2) + "\n");
  writeFileAtomic(join(dir, "run-info.json"), JSON.stringify(info, null, 2) + "\n");
  for (const table of CSV_TABLES) {
    if (table === "memory" && !summary.workloads.some((w) => w.memory !== undefined)) continue;
    writeFileAtomic(join(dir, "tables", `${table}.csv`), summaryCsv(summary, table));
  }
  const timelineFile = join(dir, "timeline.bin");
  if (extras.timeline !== undefined) {
    const bytes = encodeTimeline(
      extras.timeline,
      summary.scenario.host.clockGHz,
      summary.run.simulatedCycles,
    );
    writeFileAtomic(timelineFile, bytes);
    if (extras.trace === true) {
      writeChunksAtomic(join(dir, "trace.json"), chromeTraceChunks(decodeTimeline(bytes)));
    }
    if (extras.traceCmd === true) {
      const isa = ["svm", "snp"].includes(summary.design.platform) ? "svm" : "vmx";
      writeFileAtomic(join(dir, "trace-cmd.txt"), traceCmdText(decodeTimeline(bytes), isa));
    }
  } else {
    // A rerun without a timeline must not leave an older run's timeline behind.
    removeQuietly(timelineFile);
  }
  if (extras.trace !== true) removeQuietly(join(dir, "trace.json"));
  if (extras.traceCmd !== true) removeQuietly(join(dir, "trace-cmd.txt"));
  return dir;
}
