/**
 * Access to the reports directory for the server: listing, reading a report's files, and
 * loading its timeline. Report ids are checked twice: against a strict pattern, and by
 * resolving the real path (symlinks included) and requiring it inside the directory, so a
 * request can never read outside it.
 *
 * @module
 */

import { join } from "node:path";
import { decodeTimeline } from "../report/timeline_file.ts";
import type { Summary } from "../report/summary.ts";
import type { SweepFile } from "../sweep/report.ts";
import { TimelineIndex } from "./timeline_query.ts";

/** A report id: letters, digits, '.', '_' and '-', no "..", at most 200 characters. */
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/** A request that names something that is not (or may not be) a report. */
export class NotFoundError extends Error {
  override name = "NotFoundError";
}

/** One row of the report list. */
export interface ReportListing {
  id: string;
  scenario: string;
  description: string;
  design: string;
  platform: string;
  seed: number;
  simulatedMs: number;
  exits: number;
  stop: string;
  vcpus: number;
  /** Mean latency (cycles) per guest operation. */
  operations: Record<string, number>;
  hasTimeline: boolean;
}

/** One row of the sweep list. */
export interface SweepListing {
  id: string;
  scenario: string;
  params: string[];
  designs: string[];
  points: number;
}

/** The reports directory as the server sees it. */
export class ReportStore {
  readonly dir: string;
  readonly #realDir: string;
  readonly #timelines = new Map<string, { mtime: number; index: TimelineIndex }>();
  readonly #summaries = new Map<string, { mtime: number; summary: Summary }>();

  constructor(dir: string) {
    this.dir = dir;
    Deno.mkdirSync(dir, { recursive: true });
    this.#realDir = Deno.realPathSync(dir);
  }

  /** Checks `id` and returns the real path of its directory. @throws NotFoundError */
  reportDir(id: string): string {
    if (!ID_PATTERN.test(id) || id.includes("..")) {
      throw new NotFoundError(`no report ${JSON.stringify(id)}`);
    }
    let real: string;
    try {
      real = Deno.realPathSync(join(this.#realDir, id));
    } catch {
      throw new NotFoundError(`no report ${JSON.stringify(id)}`);
    }
    if (!real.startsWith(this.#realDir + "/") || !Deno.statSync(real).isDirectory) {
      throw new NotFoundError(`no report ${JSON.stringify(id)}`);
    }
    return real;
  }

  /** The real path of `file` in report `id`, which must be a regular file inside it. */
  #file(id: string, file: string): string {
    const dir = this.reportDir(id);
    let real: string;
    try {
      real = Deno.realPathSync(join(dir, file));
    } catch {
      throw new NotFoundError(`report ${id} has no ${file}`);
    }
    if (!real.startsWith(dir + "/") || !Deno.statSync(real).isFile) {
      throw new NotFoundError(`report ${id} has no ${file}`);
    }
    return real;
  }

  /** Every report with a readable summary, newest scenario names first by name order. */
  list(): ReportListing[] {
    const out: ReportListing[] = [];
    for (
      const entry of [...Deno.readDirSync(this.#realDir)].sort((a, b) =>
        a.name.localeCompare(b.name)
      )
    ) {
      if (!entry.isDirectory || !ID_PATTERN.test(entry.name)) continue;
      let summary: Summary;
      try {
        summary = this.summary(entry.name);
      } catch {
        continue; // a directory without a (valid) summary is not a report
      }
      out.push({
        id: entry.name,
        scenario: summary.scenario.name,
        description: summary.scenario.description,
        design: summary.design.name,
        platform: summary.design.platform,
        seed: summary.seed,
        simulatedMs: summary.run.simulatedMs,
        exits: summary.totals.exits,
        stop: summary.run.stop,
        vcpus: summary.vcpus.length,
        operations: Object.fromEntries(
          Object.entries(summary.operations).map(([name, op]) => [name, op.meanCycles]),
        ),
        hasTimeline: this.#exists(entry.name, "timeline.bin"),
      });
    }
    return out;
  }

  /** Every sweep report (a directory with a sweep.json), by name. */
  listSweeps(): SweepListing[] {
    const out: SweepListing[] = [];
    for (const entry of [...Deno.readDirSync(this.#realDir)]) {
      if (!entry.isDirectory || !ID_PATTERN.test(entry.name)) continue;
      let sweep: SweepFile;
      try {
        sweep = this.sweep(entry.name);
      } catch {
        continue;
      }
      out.push({
        id: entry.name,
        scenario: sweep.identity.scenario,
        params: sweep.identity.params.map((p) => p.path),
        designs: sweep.identity.designs,
        points: sweep.points.length,
      });
    }
    return out.sort((a, b) => a.id.localeCompare(b.id));
  }

  /** A sweep report's sweep.json. @throws NotFoundError */
  sweep(id: string): SweepFile {
    const path = this.#file(id, "sweep.json");
    const sweep = JSON.parse(Deno.readTextFileSync(path)) as SweepFile;
    if (sweep?.kind !== "cvmsim-sweep" || !Array.isArray(sweep.points)) {
      throw new NotFoundError(`report ${id} has no valid sweep`);
    }
    return sweep;
  }

  /** A sweep report's sweep.csv. @throws NotFoundError */
  sweepCsv(id: string): string {
    return Deno.readTextFileSync(this.#file(id, "sweep.csv"));
  }

  #exists(id: string, file: string): boolean {
    try {
      this.#file(id, file);
      return true;
    } catch {
      return false;
    }
  }

  /** A report's summary (cached until the file changes). @throws NotFoundError */
  summary(id: string): Summary {
    const path = this.#file(id, "summary.json");
    const mtime = Deno.statSync(path).mtime?.getTime() ?? 0;
    const cached = this.#summaries.get(id);
    if (cached !== undefined && cached.mtime === mtime) return cached.summary;
    const summary = JSON.parse(Deno.readTextFileSync(path)) as Summary;
    if (typeof summary?.schemaVersion !== "number" || summary.scenario === undefined) {
      throw new NotFoundError(`report ${id} has no valid summary`);
    }
    this.#summaries.set(id, { mtime, summary });
    return summary;
  }

  /** A report's timeline, indexed (a few are kept in memory). @throws NotFoundError */
  timeline(id: string): TimelineIndex {
    const path = this.#file(id, "timeline.bin");
    const mtime = Deno.statSync(path).mtime?.getTime() ?? 0;
    const cached = this.#timelines.get(id);
    if (cached !== undefined && cached.mtime === mtime) {
      // Most recently used last.
      this.#timelines.delete(id);
      this.#timelines.set(id, cached);
      return cached.index;
    }
    let index: TimelineIndex;
    try {
      index = new TimelineIndex(decodeTimeline(Deno.readFileSync(path)));
    } catch (error) {
      throw new NotFoundError(
        `report ${id} has an unreadable timeline: ${(error as Error).message}`,
      );
    }
    this.#timelines.set(id, { mtime, index });
    while (this.#timelines.size > 4) this.#timelines.delete(this.#timelines.keys().next().value!);
    return index;
  }
}
