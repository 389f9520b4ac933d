/**
 * `cvmsim sweep` and `cvmsim merge`: parameter studies, run in parallel workers or as
 * shards on many machines, merged into one sweep report.
 *
 * @module
 */

import { readJsonFile } from "../scenario/json_file.ts";
import { dirname, join } from "node:path";
import {
  mergeShards,
  readSweepFile,
  renderSweep,
  sweepFile,
  sweepIdentity,
  writeSweep,
} from "../sweep/report.ts";
import { runSweep, type Shard } from "../sweep/run.ts";
import {
  type CrossoverSpec,
  parseParam,
  SweepError,
  type SweepParam,
  sweepPoints,
  type SweepSpec,
} from "../sweep/spec.ts";
import { DESIGN_NAMES } from "../scenario/catalog.ts";
import { ScenarioError } from "../scenario/load.ts";
import { didYouMean } from "../scenario/schema.ts";
import { parse, requireFile } from "./args.ts";
import {
  type Command,
  designList,
  jsonFlag,
  outFlag,
  progressOf,
  quietFlag,
  REPORTS_DIR,
} from "./command.ts";
import { EXIT_OK, UsageError } from "./errors.ts";

/** Default workers: one per core. */
function defaultJobs(): number {
  return Math.max(1, navigator.hardwareConcurrency ?? 1);
}

function positiveInt(command: string, flag: string, text: string, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1 || value > max) {
    throw new UsageError(
      `cvmsim ${command}: --${flag} expects an integer from 1 to ${max}, got ${
        JSON.stringify(text)
      }`,
    );
  }
  return value;
}

function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text);
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (match === null || count < 1 || index >= count) {
    throw new UsageError(
      `cvmsim sweep: --shard expects i/n with 0 <= i < n (e.g. 0/4), got ${JSON.stringify(text)}`,
    );
  }
  return { index, count };
}

/** `sweep` */
export const sweep: Command = {
  name: "sweep",
  usage: "sweep <scenario.json> --param <path=values> [--param ...] [--designs <a,b>] " +
    "[--reps <n>] [--jobs <n>] [--shard <i/n>] [--out <dir>] [--json] [--quiet]",
  summary: "Run a scenario over a grid of parameter values and designs (in parallel workers).",
  flags: {
    param: {
      type: "string",
      value: "<path=values>",
      multiple: true,
      doc: "a JSON path and its values: 1,2,4 or a range 10..50+10 or 1..64*2 (repeatable)",
    },
    designs: {
      type: "string",
      value: "<a,b,...>",
      doc: "designs to run at every point (default: the scenario's designs)",
    },
    reps: {
      type: "string",
      value: "<n>",
      doc: "repetitions per point, with seeds derived from the scenario's (default 1)",
    },
    jobs: {
      type: "string",
      value: "<n>",
      doc: `worker threads (default: one per core, ${defaultJobs()} here)`,
    },
    shard: {
      type: "string",
      value: "<i/n>",
      doc: "run only shard i of n (every n-th point from i); `merge` combines the shards",
    },
    out: outFlag,
    json: jsonFlag,
    quiet: quietFlag,
  },
  async run(args, io) {
    const { values, positionals, lists } = parse("sweep", args, this.flags);
    if (positionals.length > 1) {
      throw new UsageError(`cvmsim sweep: expected one scenario file, got ${positionals.length}`);
    }
    const file = requireFile("sweep", positionals[0], "scenario file");
    const spec = readSpec(file, lists.param, designList("sweep", values.designs), values);
    const jobs = values.jobs === undefined
      ? defaultJobs()
      : positiveInt("sweep", "jobs", String(values.jobs), 256);
    const shard = values.shard === undefined ? undefined : parseShard(String(values.shard));
    const total = sweepPoints(spec).length;
    const progress = progressOf("sweep", values, io);
    let lastShown = -1;
    const started = performance.now();
    let results;
    try {
      results = await runSweep(spec, {
        jobs,
        shard,
        onProgress: progress.quiet ? undefined : (done, count) => {
          const percent = Math.floor((10 * done) / count) * 10; // every 10%
          if (percent === lastShown && done !== count) return;
          lastShown = percent;
          const seconds = ((performance.now() - started) / 1000).toFixed(1);
          progress.say(`sweep: ${done}/${count} points (${percent}%), ${seconds} s`);
        },
      });
    } catch (error) {
      if (error instanceof SweepError) throw new UsageError(`cvmsim sweep: ${error.message}`);
      throw error;
    }
    const out = sweepFile(sweepIdentity(spec, total), results, shard, spec.crossover);
    const dir = writeSweep(String(values.out ?? REPORTS_DIR), out);
    if (values.json === true) io.out(JSON.stringify({ ...out, dir }, null, 2));
    else {
      io.out(renderSweep(out));
      io.out(`\nsweep report: ${dir}${shard === undefined ? "" : " (one shard; run merge)"}`);
    }
    return EXIT_OK;
  },
};

/** The sweep of a scenario file: --param values, else the file's own sweep section. */
export function readSpec(
  file: string,
  paramTexts: string[],
  designs: string[] | undefined,
  values: Record<string, string | boolean | undefined>,
): SweepSpec {
  const read = readJsonFile(file);
  if (!read.ok) throw new ScenarioError(file, [{ path: "", message: read.problem }]);
  const scenario = read.value as Record<string, unknown>;
  if (scenario === null || typeof scenario !== "object" || Array.isArray(scenario)) {
    throw new ScenarioError(file, [{ path: "", message: "expected an object" }]);
  }
  const study = scenario.sweep as
    | { params?: unknown; repetitions?: unknown; crossover?: Partial<CrossoverSpec> }
    | undefined;
  if (paramTexts.length === 0) {
    if (!Array.isArray(study?.params)) {
      throw new UsageError(
        "cvmsim sweep: give at least one --param <path=values> (the scenario has no sweep section)",
      );
    }
    paramTexts = study.params.map(String);
  }
  let params: SweepParam[];
  try {
    params = paramTexts.map(parseParam);
  } catch (error) {
    if (error instanceof SweepError) throw new UsageError(`cvmsim sweep: ${error.message}`);
    throw error;
  }
  const seen = new Set<string>();
  for (const param of params) {
    if (seen.has(param.path)) {
      throw new UsageError(`cvmsim sweep: --param ${param.path} is given twice`);
    }
    seen.add(param.path);
  }
  const chosen = designs ??
    (Array.isArray(scenario.designs) ? scenario.designs.map(String) : ["vmx.io-in-kernel"]);
  for (const design of chosen) {
    if (!DESIGN_NAMES.includes(design)) {
      throw new UsageError(
        `cvmsim sweep: unknown design ${JSON.stringify(design)}${didYouMean(design, DESIGN_NAMES)}`,
      );
    }
  }
  const repetitions = values.reps !== undefined
    ? positiveInt("sweep", "reps", String(values.reps), 1000)
    : typeof study?.repetitions === "number"
    ? study.repetitions
    : 1;
  const spec: SweepSpec = { scenario, scenarioFile: file, params, designs: chosen, repetitions };
  const crossover = study?.crossover;
  if (crossover !== undefined && typeof crossover.metric === "string") {
    const baseline = String(crossover.baseline);
    if (!chosen.includes(baseline)) {
      throw new UsageError(
        `cvmsim sweep: the crossover's baseline ${baseline} is not among the designs (${
          chosen.join(", ")
        })`,
      );
    }
    spec.crossover = {
      metric: crossover.metric,
      baseline,
      higherIsBetter: crossover.higherIsBetter ?? true,
      thresholdsPercent: crossover.thresholdsPercent ?? [1, 5, 20],
    };
  }
  return spec;
}

/** `merge` */
export const merge: Command = {
  name: "merge",
  usage: "merge <shard.json> [<shard.json> ...] [--out <dir>] [--json] [--quiet]",
  summary: "Combine the shard files of one sweep (from `sweep --shard i/n`) into its report.",
  flags: { out: outFlag, json: jsonFlag, quiet: quietFlag },
  run(args, io) {
    const { values, positionals } = parse("merge", args, this.flags);
    if (positionals.length === 0) {
      throw new UsageError("cvmsim merge: give the shard files (sweep.shard-<i>-of-<n>.json)");
    }
    let merged;
    try {
      merged = mergeShards(positionals.map((path) => ({ path, file: readSweepFile(path) })));
    } catch (error) {
      if (error instanceof SweepError) throw new UsageError(`cvmsim merge: ${error.message}`);
      throw error;
    }
    const outDir = values.out === undefined ? dirname(dirname(positionals[0])) : String(values.out);
    const dir = writeSweep(outDir, merged);
    if (values.json === true) io.out(JSON.stringify({ ...merged, dir }, null, 2));
    else io.out(`${renderSweep(merged)}\n\nsweep report: ${join(dir, "sweep.json")}`);
    return EXIT_OK;
  },
};
