/**
 * `cvmsim import`: turn a recorded exit trace or `perf kvm stat` report of a real guest
 * into a scenario, and say what was imported, what was guessed and what was left out.
 *
 * @module
 */

import {
  type Imported,
  ImportError,
  statToScenario,
  traceToScenario,
} from "../import/to_scenario.ts";
import { isPerfKvmStat, parsePerfKvmStat } from "../import/perf_kvm_stat.ts";
import { isTraceText, parseTraceText } from "../import/trace_text.ts";
import { checkScenario, ScenarioError } from "../scenario/load.ts";
import { writeFileAtomic } from "../report/write.ts";
import { parse, parseSeed, requireFile } from "./args.ts";
import { type Command, progressOf, quietFlag } from "./command.ts";
import { EXIT_INVALID, EXIT_OK, UsageError } from "./errors.ts";
import { table } from "../report/format.ts";

/** Problem lines shown in full; the rest are counted. */
const PROBLEMS_SHOWN = 20;

/** `import` */
export const importCommand: Command = {
  name: "import",
  usage: "import <trace.txt> [--out <scenario.json>] [--replay] [--seconds <s>] [--vcpus <n>] " +
    "[--quiet]",
  summary: "Turn a real guest's exits (perf kvm stat report, trace-cmd report or perf script " +
    "text of the kvm events) into a scenario to run under any platform's designs.",
  flags: {
    out: {
      type: "string",
      value: "<file>",
      doc: "write the scenario here (default: print it)",
    },
    replay: {
      type: "boolean",
      doc: "replay each vCPU's exits in recorded order, once (default: resample them for the " +
        "recorded span)",
    },
    seconds: {
      type: "string",
      value: "<s>",
      doc: "perf kvm stat reports: how long the recording ran",
    },
    vcpus: {
      type: "string",
      value: "<n>",
      doc: "perf kvm stat reports for all vCPUs: the guest's vCPU count",
    },
    name: { type: "string", value: "<name>", doc: "scenario name (default: from the file name)" },
    seed: { type: "string", value: "<n>", doc: "the scenario's seed (default 1)" },
    quiet: quietFlag,
  },
  run(args, io) {
    const { values, positionals } = parse("import", args, this.flags);
    if (positionals.length !== 1) {
      throw new UsageError("cvmsim import: give one trace or report file");
    }
    const file = requireFile("import", positionals[0], "trace file");
    const text = new TextDecoder().decode(Deno.readFileSync(file));
    const base = file.replace(/^.*\//, "").replace(/\.[^.]*$/, "");
    const options = {
      name: typeof values.name === "string" ? values.name : base.slice(0, 64) || "imported",
      source: base,
      replay: values.replay === true,
      seconds: positiveNumber("--seconds", values.seconds),
      vcpus: positiveInteger("--vcpus", values.vcpus),
      seed: parseSeed("import", values.seed) ?? 1,
    };
    let imported: Imported;
    try {
      if (isPerfKvmStat(text)) imported = statToScenario(parsePerfKvmStat(text), options);
      else if (isTraceText(text)) imported = traceToScenario(parseTraceText(text), options);
      else {
        io.err(
          `cvmsim import: ${file} is neither a perf kvm stat report nor trace-cmd/perf script ` +
            "text of kvm_exit events (docs/import.md shows how to record one)",
        );
        return EXIT_INVALID;
      }
    } catch (error) {
      if (!(error instanceof ImportError)) throw error;
      io.err(`cvmsim import: ${file}: ${error.message}`);
      return EXIT_INVALID;
    }
    // The scenario must load as written: check it with the same validation as `run`.
    try {
      checkScenario(imported.scenario, "");
    } catch (error) {
      if (!(error instanceof ScenarioError)) throw error;
      io.err(`cvmsim import: the scenario made from ${file} does not validate (a bug):`);
      for (const issue of error.issues) io.err(`  ${issue.path}: ${issue.message}`);
      return EXIT_INVALID;
    }
    const json = scenarioJson(imported.scenario);
    if (typeof values.out === "string") writeFileAtomic(values.out, json);
    else io.out(json);
    // What was imported: the output with --out, else information on stderr (--quiet: none).
    const out = typeof values.out === "string" ? values.out : undefined;
    report(
      imported,
      file,
      out,
      out === undefined ? progressOf("import", values, io).say : (line) => io.out(line),
    );
    return EXIT_OK;
  },
};

/** The import summary, to `say` (stdout when the scenario went to a file, else stderr). */
function report(
  imported: Imported,
  file: string,
  out: string | undefined,
  say: (text: string) => void,
): void {
  say(
    `${file}: ${imported.format}, ${imported.isa.toUpperCase()}, ${imported.vcpus} vCPU` +
      `${imported.vcpus === 1 ? "" : "s"}, ${imported.spanMs.toFixed(3)} ms`,
  );
  const rows = imported.reasons.map((r) => [
    r.reason,
    r.exits.toLocaleString("en-US"),
    r.became,
    Number.isNaN(r.meanHandlingNs) ? "" : (r.meanHandlingNs / 1000).toFixed(2),
    r.toUserspace > 0 ? r.toUserspace.toLocaleString("en-US") : "",
  ]);
  say(
    table(
      ["exit reason", "exits", "imported as", "mean handling (us)", "to userspace"],
      rows,
      ["left", "right", "left", "right", "right"],
    ),
  );
  for (const note of imported.notes) say(`- ${note}`);
  const problems = imported.problems;
  if (problems.length > 0) {
    say(`${problems.length} line${problems.length === 1 ? "" : "s"} not read:`);
    for (const problem of problems.slice(0, PROBLEMS_SHOWN)) {
      say(`  line ${problem.line}: ${problem.why}: ${problem.text.slice(0, 100)}`);
    }
    if (problems.length > PROBLEMS_SHOWN) say(`  ... and ${problems.length - PROBLEMS_SHOWN} more`);
  }
  if (out !== undefined) {
    say(`wrote ${out}; next: deno task sim compare ${out}`);
  }
}

/** Scenario JSON with two-space indents, but long arrays of numbers on one line each. */
export function scenarioJson(scenario: unknown): string {
  const packed: string[] = [];
  const text = JSON.stringify(scenario, (_key, value) => {
    if (Array.isArray(value) && value.length > 8 && value.every((v) => typeof v === "number")) {
      packed.push(`[${value.join(", ")}]`);
      return `\u0000${packed.length - 1}\u0000`;
    }
    return value;
  }, 2);
  return text.replace(/"\\u0000(\d+)\\u0000"/g, (_, i) => packed[Number(i)]) + "\n";
}

function positiveNumber(flag: string, value: string | boolean | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n) || n > 3600) {
    throw new UsageError(
      `cvmsim import: ${flag} expects seconds from 0 to 3600, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

function positiveInteger(flag: string, value: string | boolean | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1024) {
    throw new UsageError(
      `cvmsim import: ${flag} expects an integer from 1 to 1024, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}
