/**
 * Writing reports: every file goes to a temporary name first and is renamed into place,
 * so a reader (the dashboard, a script) never sees a half-written file.
 *
 * @module
 */

import { join } from "node:path";
import type { Summary } from "./summary.ts";

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
}

let tempCounter = 0;

/** Writes `text` to `path` atomically (temp file in the same directory, then rename). */
export function writeFileAtomic(path: string, text: string): void {
  const temp = `${path}.${Deno.pid}.${tempCounter++}.tmp`;
  try {
    Deno.writeTextFileSync(temp, text);
    Deno.renameSync(temp, path);
  } catch (error) {
    try {
      Deno.removeSync(temp);
    } catch {
      // the temp file may not exist; the original error is what matters
    }
    throw error;
  }
}

/** The directory name of a run's report. */
export function reportId(summary: Summary): string {
  return `${summary.scenario.name}--${summary.design.name}--seed${summary.seed}`;
}

/** Writes summary.json and run-info.json under `reportsDir/<id>/`; returns the directory. */
export function writeReport(reportsDir: string, summary: Summary, info: RunInfo): string {
  const dir = join(reportsDir, reportId(summary));
  Deno.mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, "summary.json"), JSON.stringify(summary, null, 2) + "\n");
  writeFileAtomic(join(dir, "run-info.json"), JSON.stringify(info, null, 2) + "\n");
  return dir;
}
