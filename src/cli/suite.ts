/**
 * `cvmsim suite`: every shipped scenario under each of its designs.
 *
 * @module
 */

import { checkWork } from "../scenario/estimate.ts";
import { readJsonFile } from "../scenario/json_file.ts";
import { type LoadedScenario, loadScenario, ScenarioError } from "../scenario/load.ts";
import { parse } from "./args.ts";
import {
  type Command,
  eventLimit,
  limitFlags,
  outFlag,
  progressOf,
  quietFlag,
  REPORTS_DIR,
  scenarioFiles,
  SCENARIOS_DIR,
  timelineFlags,
  timelineRequest,
} from "./command.ts";
import { EXIT_INVALID, EXIT_OK, UsageError } from "./errors.ts";
import { executeAll } from "./execute.ts";
import { readSpec } from "./sweep.ts";
import { sweepFile, sweepIdentity, writeSweep } from "../sweep/report.ts";
import { runSweep } from "../sweep/run.ts";
import { decimal, integer, table } from "../report/format.ts";
import { pointScenario, type SweepPoint, sweepPoints, type SweepSpec } from "../sweep/spec.ts";
import { type PointResult, reusedPointResult } from "../sweep/point.ts";
import { join } from "node:path";

/**
 * Runs the sweep study of every file in `files` that has one, writing the sweep reports, and
 * tells `say` of each as it ends.
 */
export async function runStudies(
  files: string[],
  outDir: string,
  say: (line: string) => void,
): Promise<void> {
  for (const file of files.filter(hasStudy)) {
    const spec = readSpec(file, [], undefined, {});
    const total = sweepPoints(spec).length;
    const started = performance.now();
    let reused = 0;
    const results = await runSweep(spec, {
      jobs: navigator.hardwareConcurrency ?? 1,
      known: (point) => {
        const result = knownPoint(spec, point, outDir);
        if (result !== undefined) reused++;
        return result;
      },
    });
    const study = sweepFile(sweepIdentity(spec, total), results, undefined, spec.crossover);
    const dir = writeSweep(outDir, study);
    say(
      `  study ${spec.scenario.name}: ${total} points${
        reused > 0 ? ` (${reused} from its reports)` : ""
      } in ${(performance.now() - started).toFixed(0)} ms wall -> ${dir}`,
    );
  }
}

/**
 * A study's point whose scenario is the scenario file's own (its values are the file's):
 * the report just made (or kept) for that design is the same run, so its summary gives
 * the point's result without running it again.
 */
function knownPoint(spec: SweepSpec, point: SweepPoint, outDir: string): PointResult | undefined {
  const own = { ...pointScenario(spec, point), designs: spec.scenario.designs };
  if (JSON.stringify(own) !== JSON.stringify(spec.scenario)) return undefined;
  const id = `${spec.scenario.name}--${point.design}--seed${point.seed}`;
  let text: string;
  try {
    text = Deno.readTextFileSync(join(outDir, id, "summary.json"));
  } catch {
    return undefined;
  }
  return reusedPointResult(spec, point, text);
}

/** True when the scenario file has a sweep section (a growth study). */
function hasStudy(file: string): boolean {
  const read = readJsonFile(file);
  return read.ok && (read.value as { sweep?: unknown } | null)?.sweep !== undefined;
}

/** `suite` */
export const suite: Command = {
  name: "suite",
  usage: "suite [--scenarios <dir>] [--out <dir>] [--quiet]",
  summary: "Run every shipped scenario under each of its designs and write the reports.",
  flags: {
    scenarios: {
      type: "string",
      value: "<dir>",
      doc: `scenario directory (default ${SCENARIOS_DIR}/)`,
    },
    out: outFlag,
    quiet: quietFlag,
    ...timelineFlags,
    ...limitFlags,
  },
  async run(args, io) {
    const { values, positionals } = parse("suite", args, this.flags);
    if (positionals.length > 0) {
      throw new UsageError(`cvmsim suite: unexpected argument ${positionals[0]}`);
    }
    const dir = String(values.scenarios ?? SCENARIOS_DIR);
    const outDir = String(values.out ?? REPORTS_DIR);
    const timeline = timelineRequest("suite", values);
    const maxEvents = eventLimit("suite", values);
    const files = scenarioFiles(dir);
    if (files.length === 0) throw new UsageError(`cvmsim suite: no scenario files in ${dir}/`);
    const loaded: LoadedScenario[] = [];
    const valid: string[] = [];
    let invalid = 0;
    for (const file of files) {
      try {
        const scenario = loadScenario(file);
        checkWork(scenario, maxEvents);
        loaded.push(scenario);
        valid.push(file);
      } catch (error) {
        if (!(error instanceof ScenarioError)) throw error;
        io.err(error.message);
        invalid++;
      }
    }
    const progress = progressOf("suite", values, io);
    const rows: string[][] = [];
    const print = () =>
      io.out(table(
        ["scenario", "design", "simulated ms", "exits", "wall ms"],
        rows,
        ["left", "left", "right", "right", "right"],
      ));
    for (const scenario of loaded) {
      const { executed, exitCode } = await executeAll(
        scenario,
        outDir,
        timeline,
        maxEvents,
        io,
        progress,
      );
      for (const { summary, info } of executed) {
        rows.push([
          summary.scenario.name,
          summary.design.name,
          decimal(summary.run.simulatedMs, 3),
          integer(summary.totals.exits),
          integer(info.wallMs),
        ]);
      }
      if (exitCode !== undefined) {
        print();
        return exitCode;
      }
    }
    print();
    io.out(`\n${rows.length} reports written to ${outDir}/`);
    await runStudies(valid, outDir, (line) => io.out(line));
    return invalid > 0 ? EXIT_INVALID : EXIT_OK;
  },
};
