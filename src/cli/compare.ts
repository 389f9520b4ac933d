/**
 * `cvmsim compare`: one scenario under several designs, deltas against the first (or the
 * baseline), with progress on stderr.
 *
 * @module
 */

import { checkWork } from "../scenario/estimate.ts";
import { DESIGN_NAMES, findDesign } from "../scenario/catalog.ts";
import { didYouMean } from "../scenario/schema.ts";
import { compareSummaries, COMPARISON_TEXT_COLUMNS, renderComparison } from "../report/compare.ts";
import { parse, parseSeed } from "./args.ts";
import {
  type Command,
  designList,
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

/** `compare` */
export const compare: Command = {
  name: "compare",
  usage: "compare <scenario.json | -> [--designs <a,b,...>] [--baseline <design>] [--seed <n>] " +
    "[--wide] [--json] [--out <dir>] [--quiet]",
  summary: "Run one scenario under several designs; one table with deltas against the first " +
    "(or --baseline).",
  flags: {
    designs: {
      type: "string",
      value: "<a,b,...>",
      doc: "designs to compare, baseline first (default: the scenario's designs)",
    },
    baseline: {
      type: "string",
      value: "<design>",
      doc: "measure every delta against this design (added when not among the designs)",
    },
    seed: seedFlag,
    wide: {
      type: "boolean",
      doc:
        `one column per design, however wide (default: side by side when that fits ${COMPARISON_TEXT_COLUMNS} ` +
        "columns, else one row per design)",
    },
    json: jsonFlag,
    out: outFlag,
    quiet: quietFlag,
    ...timelineFlags,
    ...limitFlags,
  },
  async run(args, io) {
    const { values, positionals } = parse("compare", args, this.flags);
    if (positionals.length > 1) {
      throw new UsageError(`cvmsim compare: expected one scenario file, got ${positionals.length}`);
    }
    const seed = parseSeed("compare", values.seed);
    let designs = designList("compare", values.designs);
    let loaded = load("compare", positionals[0], designs, seed);
    // The scenario's own baseline unless the command line names one, or lists the designs.
    const baseline = typeof values.baseline === "string"
      ? values.baseline
      : designs === undefined
      ? loaded.scenario.baseline
      : undefined;
    if (baseline !== undefined && baseline !== loaded.scenario.designs[0]) {
      // The baseline goes first: every delta is against the first design.
      if (findDesign(baseline) === undefined) {
        throw new UsageError(
          `cvmsim compare: --baseline expects a design name (\`list\` shows them), got ` +
            `${JSON.stringify(baseline)}${didYouMean(baseline, DESIGN_NAMES)}`,
        );
      }
      designs = [baseline, ...loaded.scenario.designs.filter((name) => name !== baseline)];
      loaded = load("compare", positionals[0], designs, seed);
    }
    if (loaded.scenario.designs.length < 2) {
      throw new UsageError(
        `cvmsim compare: needs at least two designs; ${loaded.scenario.name} lists ` +
          `${loaded.scenario.designs.join(", ")}; pass --designs a,b`,
      );
    }
    const outDir = String(values.out ?? REPORTS_DIR);
    const timeline = timelineRequest("compare", values);
    const maxEvents = eventLimit("compare", values);
    checkWork(loaded, maxEvents);
    const { executed, exitCode } = await executeAll(
      loaded,
      outDir,
      timeline,
      maxEvents,
      io,
      progressOf("compare", values, io),
    );
    if (exitCode !== undefined) return exitCode; // cut short: no comparison of partial runs
    const comparison = compareSummaries(executed.map((e) => e.summary));
    if (values.json === true) {
      io.out(JSON.stringify({ ...comparison, reports: executed.map((e) => e.dir) }, null, 2));
    } else {
      io.out(renderComparison(comparison, { wide: values.wide === true }));
      io.out(`\nreports:\n${executed.map((e) => `  ${e.dir}`).join("\n")}`);
    }
    return EXIT_OK;
  },
};
