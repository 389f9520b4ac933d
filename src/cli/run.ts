/**
 * `cvmsim run`: one scenario under each of its designs (or one).
 *
 * @module
 */

import { checkWork } from "../scenario/estimate.ts";
import { renderSummary } from "../report/text.ts";
import { parse, parseSeed } from "./args.ts";
import {
  type Command,
  eventLimit,
  jsonFlag,
  limitFlags,
  load,
  outFlag,
  progressOf,
  quietFlag,
  REPORTS_DIR,
  seedFlag,
  timelineFlags,
  timelineRequest,
} from "./command.ts";
import { EXIT_OK, UsageError } from "./errors.ts";
import { executeAll } from "./execute.ts";

/** `run` */
export const run: Command = {
  name: "run",
  usage: "run <scenario.json | -> [--design <name>] [--seed <n>] [--json] [--out <dir>] [--quiet]",
  summary: "Run a scenario under each of its designs (or one) and report where the time went.",
  flags: {
    design: { type: "string", value: "<name>", doc: "run only this design" },
    seed: seedFlag,
    json: jsonFlag,
    out: outFlag,
    quiet: quietFlag,
    ...timelineFlags,
    ...limitFlags,
  },
  async run(args, io) {
    const { values, positionals } = parse("run", args, this.flags);
    if (positionals.length > 1) {
      throw new UsageError(`cvmsim run: expected one scenario file, got ${positionals.length}`);
    }
    const design = values.design === undefined ? undefined : [String(values.design)];
    const loaded = load("run", positionals[0], design, parseSeed("run", values.seed));
    const outDir = String(values.out ?? REPORTS_DIR);
    const timeline = timelineRequest("run", values);
    const maxEvents = eventLimit("run", values);
    checkWork(loaded, maxEvents);
    const { executed: runs, exitCode } = await executeAll(
      loaded,
      outDir,
      timeline,
      maxEvents,
      io,
      progressOf("run", values, io),
    );
    const summaries = runs.map((executed) => {
      if (values.json !== true) {
        io.out(renderSummary(executed.summary));
        io.out(`\nreport: ${executed.dir}`);
        const recorded = executed.info.timeline;
        if (recorded !== undefined) {
          // The accounts above cover the whole run; say what the timeline kept of it.
          const end = recorded.truncatedAtMs ?? recorded.toMs ?? executed.summary.run.simulatedMs;
          io.out(
            `timeline: ${
              recorded.spans.toLocaleString("en-US")
            } spans, ${recorded.fromMs}-${end} ms ` +
              `of ${executed.summary.run.simulatedMs} ms` +
              (recorded.truncatedAtMs === null
                ? ""
                : ` (span limit ${recorded.maxSpans.toLocaleString("en-US")} reached; ` +
                  "--timeline-window or --timeline-spans choose another stretch)"),
          );
        }
        io.out("");
      }
      return executed.summary;
    });
    if (values.json === true) {
      io.out(JSON.stringify(summaries.length === 1 ? summaries[0] : summaries, null, 2));
    }
    return exitCode ?? EXIT_OK;
  },
};
