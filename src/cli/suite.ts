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
  type Io,
  limitFlags,
  outFlag,
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
import { sweepPoints } from "../sweep/spec.ts";

/** Runs the sweep study of every file in `files` that has one, writing the sweep reports. */
export async function runStudies(files: string[], outDir: string, io: Io): Promise<void> {
  for (const file of files.filter(hasStudy)) {
    const spec = readSpec(file, [], undefined, {});
    const total = sweepPoints(spec).length;
    const started = performance.now();
    const results = await runSweep(spec, { jobs: navigator.hardwareConcurrency ?? 1 });
    const study = sweepFile(sweepIdentity(spec, total), results, undefined, spec.crossover);
    const dir = writeSweep(outDir, study);
    io.out(
      `  study ${spec.scenario.name}: ${total} points in ${
        (performance.now() - started).toFixed(0)
      } ms wall -> ${dir}`,
    );
  }
}

/** True when the scenario file has a sweep section (a growth study). */
function hasStudy(file: string): boolean {
  const read = readJsonFile(file);
  return read.ok && (read.value as { sweep?: unknown } | null)?.sweep !== undefined;
}

/** `suite` */
export const suite: Command = {
  name: "suite",
  usage: "suite [--scenarios <dir>] [--out <dir>]",
  summary: "Run every shipped scenario under each of its designs and write the reports.",
  flags: {
    scenarios: {
      type: "string",
      value: "<dir>",
      doc: `scenario directory (default ${SCENARIOS_DIR}/)`,
    },
    out: outFlag,
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
    const rows: string[] = [];
    let reports = 0;
    for (const scenario of loaded) {
      const { executed, exitCode } = await executeAll(scenario, outDir, timeline, maxEvents, io);
      for (const { summary, info } of executed) {
        const design = summary.design.name;
        reports++;
        rows.push(
          `  ${summary.scenario.name.padEnd(28)} ${design.padEnd(24)} ` +
            `${summary.run.simulatedMs.toFixed(3).padStart(12)} ms simulated  ` +
            `${String(summary.totals.exits).padStart(10)} exits  ${
              info.wallMs.toFixed(0).padStart(6)
            } ms wall`,
        );
      }
      if (exitCode !== undefined) {
        io.out(rows.join("\n"));
        return exitCode;
      }
    }
    io.out(rows.join("\n"));
    io.out(`\n${reports} reports written to ${outDir}/`);
    await runStudies(valid, outDir, io);
    return invalid > 0 ? EXIT_INVALID : EXIT_OK;
  },
};
