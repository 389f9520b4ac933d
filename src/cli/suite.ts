/**
 * `cvmsim suite`: every shipped scenario under each of its designs.
 *
 * @module
 */

import { type LoadedScenario, loadScenario, ScenarioError } from "../scenario/load.ts";
import { parse } from "./args.ts";
import {
  type Command,
  outFlag,
  REPORTS_DIR,
  scenarioFiles,
  SCENARIOS_DIR,
  timelineFlags,
  timelineRequest,
} from "./command.ts";
import { EXIT_INVALID, EXIT_OK, UsageError } from "./errors.ts";
import { execute } from "./execute.ts";

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
  },
  run(args, io) {
    const { values, positionals } = parse("suite", args, this.flags);
    if (positionals.length > 0) {
      throw new UsageError(`cvmsim suite: unexpected argument ${positionals[0]}`);
    }
    const dir = String(values.scenarios ?? SCENARIOS_DIR);
    const outDir = String(values.out ?? REPORTS_DIR);
    const timeline = timelineRequest("suite", values);
    const files = scenarioFiles(dir);
    if (files.length === 0) throw new UsageError(`cvmsim suite: no scenario files in ${dir}/`);
    const loaded: LoadedScenario[] = [];
    let invalid = 0;
    for (const file of files) {
      try {
        loaded.push(loadScenario(file));
      } catch (error) {
        if (!(error instanceof ScenarioError)) throw error;
        io.err(error.message);
        invalid++;
      }
    }
    const rows: string[] = [];
    let reports = 0;
    for (const scenario of loaded) {
      for (const design of scenario.scenario.designs) {
        const { summary, info } = execute(scenario, design, outDir, timeline);
        reports++;
        rows.push(
          `  ${summary.scenario.name.padEnd(28)} ${design.padEnd(24)} ` +
            `${summary.run.simulatedMs.toFixed(3).padStart(12)} ms simulated  ` +
            `${String(summary.totals.exits).padStart(10)} exits  ${
              info.wallMs.toFixed(0).padStart(6)
            } ms wall`,
        );
      }
    }
    io.out(rows.join("\n"));
    io.out(`\n${reports} reports written to ${outDir}/`);
    return invalid > 0 ? EXIT_INVALID : EXIT_OK;
  },
};
