/**
 * Sweep reports: `sweep.json` (every point with its flat metrics), `sweep.csv`, a text
 * table aggregated over repetitions, and merging shard files into one sweep.
 *
 * A sweep report lives in the reports directory as `<scenario>--sweep--<digest>/`, where
 * the digest names what was swept (scenario, parameters, designs, repetitions), so the
 * same study run again, or in shards, lands in the same place.
 *
 * @module
 */

import { join } from "node:path";
import { decimal, integer, table } from "../report/format.ts";
import { CVMSIM_VERSION } from "../report/summary.ts";
import { writeFileAtomic } from "../report/write.ts";
import { digest, type PointResult } from "./point.ts";
import type { Shard } from "./run.ts";
import { type CrossoverSpec, SweepError, type SweepSpec } from "./spec.ts";

/** Version of the sweep.json layout. */
export const SWEEP_SCHEMA_VERSION = 1;

/** What was swept: equal identities mean shards of the same sweep. */
export interface SweepIdentity {
  scenario: string;
  scenarioFile: string;
  /** Digest of the scenario JSON as read. */
  scenarioDigest: string;
  params: { path: string; values: (number | string | boolean)[] }[];
  designs: string[];
  repetitions: number;
  totalPoints: number;
}

/** The content of sweep.json (or of one shard's file). */
export interface SweepFile {
  schemaVersion: number;
  kind: "cvmsim-sweep";
  cvmsimVersion: string;
  identity: SweepIdentity;
  /** Present in a shard's file; absent once complete. */
  shard?: Shard;
  points: PointResult[];
  /** The crossover study, when the sweep asked for one. */
  crossover?: Crossover;
  /** In a shard's file: the crossover study `merge` computes. */
  crossoverSpec?: CrossoverSpec;
}

/** Where each design's overhead against the baseline crosses each threshold. */
export interface Crossover extends CrossoverSpec {
  /** The parameter the crossings are along (the sweep's first). */
  along: string;
  designs: {
    design: string;
    /** Overhead (%) against the baseline at each value of `along`. */
    overheadPercent: { x: number; value: number }[];
    /** Per threshold: the interpolated value of `along` where it is first reached, or null. */
    crossings: { thresholdPercent: number; x: number | null }[];
  }[];
}

/** The identity of `spec` with `totalPoints` points. */
export function sweepIdentity(spec: SweepSpec, totalPoints: number): SweepIdentity {
  return {
    scenario: String(spec.scenario.name ?? "scenario"),
    scenarioFile: spec.scenarioFile,
    scenarioDigest: digest(JSON.stringify(spec.scenario)),
    params: spec.params.map((p) => ({ path: p.path, values: p.values })),
    designs: spec.designs,
    repetitions: spec.repetitions,
    totalPoints,
  };
}

/** The report directory name of a sweep. */
export function sweepId(identity: SweepIdentity): string {
  const { scenarioFile: _file, ...what } = identity;
  return `${identity.scenario}--sweep--${digest(JSON.stringify(what)).slice(0, 8)}`;
}

/** Builds the file content (with the crossover study when `crossover` asks for one). */
export function sweepFile(
  identity: SweepIdentity,
  points: PointResult[],
  shard?: Shard,
  crossover?: CrossoverSpec,
): SweepFile {
  const file: SweepFile = {
    schemaVersion: SWEEP_SCHEMA_VERSION,
    kind: "cvmsim-sweep",
    cvmsimVersion: CVMSIM_VERSION,
    identity,
    points,
  };
  if (shard !== undefined) {
    file.shard = shard;
    if (crossover !== undefined) file.crossoverSpec = crossover;
  } else if (crossover !== undefined) {
    file.crossover = crossovers(file, crossover);
  }
  return file;
}

/**
 * The crossover study: along the first parameter (numeric), each design's overhead in
 * `metric` against `baseline` (means over repetitions and any other parameters), and where
 * it first reaches each threshold, interpolated linearly between the two points around it
 * (in log scale when every value is positive, as for rates swept geometrically).
 */
export function crossovers(file: SweepFile, spec: CrossoverSpec): Crossover {
  const along = file.identity.params[0].path;
  const mean = (design: string, x: number) => {
    const values = file.points
      .filter((p) => p.design === design && p.values[along] === x)
      .map((p) => p.metrics[spec.metric])
      .filter((v) => v !== undefined);
    return values.length === 0 ? NaN : values.reduce((s, v) => s + v, 0) / values.length;
  };
  const xs = [...new Set(file.points.map((p) => p.values[along]))]
    .filter((x): x is number => typeof x === "number")
    .sort((a, b) => a - b);
  const logScale = xs.every((x) => x > 0);
  const scale = (x: number) => logScale ? Math.log(x) : x;
  const designs = file.identity.designs.filter((d) => d !== spec.baseline).map((design) => {
    const overheadPercent = xs.map((x) => {
      const base = mean(spec.baseline, x);
      const value = mean(design, x);
      const change = spec.higherIsBetter ? base - value : value - base;
      return {
        x,
        value: base === 0 ? NaN : Math.round(1e6 * (100 * change) / Math.abs(base)) / 1e6,
      };
    });
    const crossings = spec.thresholdsPercent.map((threshold) => {
      for (let i = 0; i < overheadPercent.length; i++) {
        const here = overheadPercent[i];
        if (!(here.value >= threshold)) continue;
        if (i === 0) return { thresholdPercent: threshold, x: here.x };
        const before = overheadPercent[i - 1];
        const t = (threshold - before.value) / (here.value - before.value);
        const at = scale(before.x) + t * (scale(here.x) - scale(before.x));
        const x = logScale ? Math.exp(at) : at;
        return { thresholdPercent: threshold, x: Math.round(x * 1000) / 1000 };
      }
      return { thresholdPercent: threshold, x: null };
    });
    return { design, overheadPercent, crossings };
  });
  return { ...spec, along, designs };
}

/** The crossover table: per design, where each threshold is crossed. */
export function renderCrossover(crossover: Crossover): string {
  const headers = ["design", ...crossover.thresholdsPercent.map((t) => `${t}% overhead at`)];
  const rows = crossover.designs.map((d) => [
    d.design,
    ...d.crossings.map((c) => c.x === null ? "not reached" : decimal(c.x, c.x < 10 ? 2 : 0)),
  ]);
  return `Crossover: where the overhead in ${crossover.metric} against ${crossover.baseline} ` +
    `crosses each threshold, in ${crossover.along}\n${table(headers, rows)}`;
}

/** Writes sweep.json and sweep.csv into `<outDir>/<id>/` (atomically); returns the dir. */
export function writeSweep(outDir: string, file: SweepFile): string {
  const dir = join(outDir, sweepId(file.identity));
  Deno.mkdirSync(dir, { recursive: true });
  const name = file.shard === undefined
    ? "sweep.json"
    : `sweep.shard-${file.shard.index}-of-${file.shard.count}.json`;
  writeFileAtomic(join(dir, name), JSON.stringify(file, null, 1) + "\n");
  if (file.shard === undefined) writeFileAtomic(join(dir, "sweep.csv"), sweepCsv(file));
  return dir;
}

/** One row per point: parameter values, design, repetition, seed, then every metric. */
export function sweepCsv(file: SweepFile): string {
  const metricNames = [...new Set(file.points.flatMap((p) => Object.keys(p.metrics)))].sort();
  const paths = file.identity.params.map((p) => p.path);
  const header = ["point", ...paths, "design", "repetition", "seed", ...metricNames];
  const rows = file.points.map((p) => [
    String(p.index),
    ...paths.map((path) => String(p.values[path])),
    p.design,
    String(p.repetition),
    String(p.seed),
    ...metricNames.map((name) => p.metrics[name] === undefined ? "" : String(p.metrics[name])),
  ]);
  return [header, ...rows].map((row) => row.map(csvCell).join(",")).join("\n") + "\n";
}

function csvCell(text: string): string {
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The metrics the text table shows: run time, exits, each operation's mean latency. */
function headlineMetrics(file: SweepFile): string[] {
  const names = new Set(file.points.flatMap((p) => Object.keys(p.metrics)));
  const latency = [...names].filter((n) => n.startsWith("latency.") && n.endsWith(".mean"));
  const throughput = [...names].filter((n) => n.startsWith("throughput."));
  return ["simulatedMs", "exits", ...latency.slice(0, 3), ...throughput.slice(0, 1)];
}

/** A table with one row per (values, design): the mean over repetitions, and the range. */
export function renderSweep(file: SweepFile): string {
  const paths = file.identity.params.map((p) => p.path);
  const metrics = headlineMetrics(file);
  const groups = new Map<string, PointResult[]>();
  for (const point of file.points) {
    const key = JSON.stringify([paths.map((p) => point.values[p]), point.design]);
    groups.set(key, [...(groups.get(key) ?? []), point]);
  }
  const reps = file.identity.repetitions;
  const rows = [...groups.values()].map((points) => [
    ...paths.map((p) => String(points[0].values[p])),
    points[0].design,
    ...metrics.map((name) => {
      const values = points.map((p) => p.metrics[name]).filter((v) => v !== undefined);
      if (values.length === 0) return "-";
      const mean = values.reduce((s, v) => s + v, 0) / values.length;
      const digits = name === "simulatedMs" ? 3 : 0;
      const show = (v: number) => digits > 0 ? decimal(v, digits) : integer(v);
      if (reps === 1) return show(mean);
      return `${show(mean)} [${show(Math.min(...values))}..${show(Math.max(...values))}]`;
    }),
  ]);
  const title = `${file.identity.scenario} sweep: ${file.points.length} points` +
    (reps > 1 ? ` (mean [min..max] over ${reps} repetitions)` : "");
  const out = `${title}\n${table([...paths, "design", ...metrics], rows)}`;
  return file.crossover === undefined ? out : `${out}\n\n${renderCrossover(file.crossover)}`;
}

/** Reads a sweep or shard file. @throws SweepError */
export function readSweepFile(path: string): SweepFile {
  let json: SweepFile;
  try {
    json = JSON.parse(Deno.readTextFileSync(path));
  } catch (error) {
    throw new SweepError(`${path}: cannot read a sweep file (${(error as Error).message})`);
  }
  if (json?.kind !== "cvmsim-sweep" || json.schemaVersion !== SWEEP_SCHEMA_VERSION) {
    throw new SweepError(
      `${path}: not a cvmsim sweep file (version ${SWEEP_SCHEMA_VERSION} expected)`,
    );
  }
  return json;
}

/**
 * Combines the shard files of one sweep into the complete sweep. Every shard of the same
 * sweep (same identity and shard count) must be there exactly once. @throws SweepError
 */
export function mergeShards(files: { path: string; file: SweepFile }[]): SweepFile {
  if (files.length === 0) throw new SweepError("merge needs at least one shard file");
  const [first] = files;
  const identity = JSON.stringify(withoutFile(first.file.identity));
  const count = first.file.shard?.count;
  const seen = new Map<number, string>();
  for (const { path, file } of files) {
    if (file.shard === undefined) {
      throw new SweepError(`${path} is a complete sweep, not a shard`);
    }
    if (JSON.stringify(withoutFile(file.identity)) !== identity) {
      throw new SweepError(
        `${path} is a shard of a different sweep than ${first.path} (scenario, parameters, ` +
          "designs or repetitions differ)",
      );
    }
    if (file.shard.count !== count) {
      throw new SweepError(
        `${path} is shard ${file.shard.index}/${file.shard.count}, but ${first.path} is one of ` +
          `${count} shards`,
      );
    }
    const earlier = seen.get(file.shard.index);
    if (earlier !== undefined) {
      throw new SweepError(`${path} and ${earlier} are both shard ${file.shard.index}/${count}`);
    }
    seen.set(file.shard.index, path);
  }
  const missing = [...Array(count).keys()].filter((i) => !seen.has(i));
  if (missing.length > 0) {
    throw new SweepError(
      `missing shard${missing.length === 1 ? "" : "s"} ${
        missing.map((i) => `${i}/${count}`).join(", ")
      }`,
    );
  }
  const points = files.flatMap(({ file }) => file.points).sort((a, b) => a.index - b.index);
  if (points.length !== first.file.identity.totalPoints) {
    throw new SweepError(
      `the shards hold ${points.length} points; the sweep has ${first.file.identity.totalPoints}`,
    );
  }
  return sweepFile(first.file.identity, points, undefined, first.file.crossoverSpec);
}

function withoutFile(identity: SweepIdentity): Omit<SweepIdentity, "scenarioFile"> {
  const { scenarioFile: _file, ...rest } = identity;
  return rest;
}
