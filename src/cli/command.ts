/**
 * What every subcommand shares: the command shape, output sink, common flags and helpers.
 *
 * @module
 */

import { join } from "node:path";
import { DEFAULT_MAX_EVENTS, describeDuration } from "../scenario/estimate.ts";
import { checkScenario, loadScenario, ScenarioError } from "../scenario/load.ts";
import { parseJsonText } from "../scenario/json_file.ts";
import { DESIGN_NAMES, findDesign } from "../scenario/catalog.ts";
import { didYouMean } from "../scenario/schema.ts";
import { flagHelp, type FlagSpec, requireFile } from "./args.ts";
import { UsageError } from "./errors.ts";

/** Output sink (stdout in real use; a buffer in tests). */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

/** One subcommand. */
export interface Command {
  name: string;
  usage: string;
  summary: string;
  flags: Record<string, FlagSpec>;
  /** Runs the command; resolves with the exit code (serve resolves when it stops). */
  run(args: string[], io: Io): number | Promise<number>;
}

/** Where reports go unless --out says otherwise. */
export const REPORTS_DIR = "reports";
/** Where shipped scenarios live. */
export const SCENARIOS_DIR = "scenarios";

/** --out <dir> */
export const outFlag: FlagSpec = {
  type: "string",
  value: "<dir>",
  doc: `where reports are written (default ${REPORTS_DIR}/)`,
};
/** --seed <n> */
export const seedFlag: FlagSpec = {
  type: "string",
  value: "<n>",
  doc: "use this seed instead of the scenario's",
};
/**
 * Spans a report's timeline holds unless --timeline-spans says otherwise: at 1 M, 120 of the
 * 125 shipped reports show at least 10% of their run (at 100 k, 85), for up to 35 MB of
 * timeline.bin per report (docs/dashboard.md has the figures).
 */
export const DEFAULT_TIMELINE_SPANS = 1_000_000;

/**
 * The span limit of `start`, which makes every shipped report at once (125 on 2 cores): at
 * 300 k, 100 of them show at least 10% of their run and 65 the whole, in 711 MB, all made
 * 27-29 s after a fresh clone's start; at 1 M, 120 and 90, in 1.6 GB and 31-33 s
 * (docs/dashboard.md). A report page whose timeline is cut names the flag that records it all.
 */
export const START_TIMELINE_SPANS = 300_000;

/** Flags that control timeline recording (run, compare, suite). */
export const timelineFlags: Record<string, FlagSpec> = {
  "timeline-spans": {
    type: "string",
    value: "<n>",
    doc:
      `record at most n timeline spans per run (default ${DEFAULT_TIMELINE_SPANS}; 0: no timeline)`,
  },
  "timeline-window": {
    type: "string",
    value: "<from:to>",
    doc: "record the timeline only between these simulated times, in ms (e.g. 10:20)",
  },
  trace: { type: "boolean", doc: "also write trace.json, the timeline for Perfetto" },
  export: {
    type: "string",
    value: "trace-cmd",
    doc: "also write trace-cmd.txt, the timeline as trace-cmd report text of the kvm events " +
      "(what `import` reads)",
  },
};

/** What to record, from the timeline flags (times in ms; converted per run). */
export interface TimelineRequest {
  maxSpans: number;
  fromMs: number;
  toMs: number;
  trace: boolean;
  /** Also write trace-cmd.txt (--export trace-cmd). */
  traceCmd?: boolean;
  /** The window came from --timeline-window (else a scenario's own `timeline` may set it). */
  windowGiven?: boolean;
}

/** Reads the timeline flags; undefined when recording is off. */
export function timelineRequest(
  command: string,
  values: Record<string, string | boolean | undefined>,
  defaultSpans: number = DEFAULT_TIMELINE_SPANS,
): TimelineRequest | undefined {
  const spansText = String(values["timeline-spans"] ?? defaultSpans);
  const maxSpans = Number(spansText);
  if (!/^\d+$/.test(spansText) || !Number.isSafeInteger(maxSpans) || maxSpans > 50_000_000) {
    throw new UsageError(
      `cvmsim ${command}: --timeline-spans expects an integer from 0 to 50000000, got ${
        JSON.stringify(spansText)
      }`,
    );
  }
  let fromMs = 0;
  let toMs = Infinity;
  if (values["timeline-window"] !== undefined) {
    const text = String(values["timeline-window"]);
    const match = /^(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$/.exec(text);
    if (match === null || Number(match[1]) >= Number(match[2])) {
      throw new UsageError(
        `cvmsim ${command}: --timeline-window expects from:to in ms with from < to, got ${
          JSON.stringify(text)
        }`,
      );
    }
    fromMs = Number(match[1]);
    toMs = Number(match[2]);
  }
  if (values.export !== undefined && values.export !== "trace-cmd") {
    throw new UsageError(
      `cvmsim ${command}: --export expects "trace-cmd", got ${JSON.stringify(values.export)}`,
    );
  }
  if (maxSpans === 0) {
    if (values.export !== undefined) {
      throw new UsageError(`cvmsim ${command}: --export needs a timeline (--timeline-spans > 0)`);
    }
    if (values.trace === true) {
      throw new UsageError(`cvmsim ${command}: --trace needs a timeline (--timeline-spans > 0)`);
    }
    return undefined;
  }
  return {
    maxSpans,
    fromMs,
    toMs,
    trace: values.trace === true,
    traceCmd: values.export === "trace-cmd",
    windowGiven: values["timeline-window"] !== undefined,
  };
}

/** Flags that bound a run's work (run, compare, suite). */
export const limitFlags: Record<string, FlagSpec> = {
  "max-events": {
    type: "string",
    value: "<n>",
    doc: `refuse a scenario whose estimated work is above n simulated events, and stop a run ` +
      `there (default ${DEFAULT_MAX_EVENTS.toLocaleString("en-US")}, ${
        describeDuration(DEFAULT_MAX_EVENTS)
      })`,
  },
  "allow-long": { type: "boolean", doc: "run whatever the estimate, with no event limit" },
};

/** The event limit the flags ask for (Infinity with --allow-long). */
export function eventLimit(
  command: string,
  values: Record<string, string | boolean | undefined>,
): number {
  if (values["allow-long"] === true) return Infinity;
  if (values["max-events"] === undefined) return DEFAULT_MAX_EVENTS;
  const text = String(values["max-events"]);
  const limit = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(limit) || limit < 1) {
    throw new UsageError(
      `cvmsim ${command}: --max-events expects a positive integer, got ${JSON.stringify(text)}`,
    );
  }
  return limit;
}

/** --json */
export const jsonFlag: FlagSpec = { type: "boolean", doc: "print JSON instead of tables" };

/** --quiet (every command has it) */
export const quietFlag: FlagSpec = {
  type: "boolean",
  doc: "no progress or other informational lines on stderr (errors and warnings still print)",
};

/** How a command shows progress: lines on stderr, none with --quiet. */
export interface Progress {
  /** The command's name, which starts each line. */
  command: string;
  /** --quiet: say nothing. */
  quiet: boolean;
  /** Prints one line on stderr (nothing when quiet). */
  say(line: string): void;
  /** Stderr is a terminal (and not quiet): a run may redraw one live line there. */
  live: boolean;
}

/** The progress of `command`, from its --quiet flag; lines go to `io.err`. */
export function progressOf(
  command: string,
  values: Record<string, string | boolean | undefined>,
  io: Io,
): Progress {
  const quiet = values.quiet === true;
  return {
    command,
    quiet,
    say: quiet ? () => {} : (line) => io.err(line),
    live: !quiet && Deno.stderr.isTerminal(),
  };
}

/** Prints a command's help. */
export function commandHelp(command: Command): string {
  return `${command.summary}\n\nUsage: cvmsim ${command.usage}\n\nFlags:\n${
    flagHelp(command.flags)
  }`;
}

/** Loads a scenario for a command, turning a missing file into a usage error. */
export function load(command: string, file: string | undefined, designs?: string[], seed?: number) {
  // A design named on the command line is a usage problem (exit 2), not the scenario's.
  for (const name of designs ?? []) {
    if (findDesign(name) === undefined) {
      throw new UsageError(
        `cvmsim ${command}: unknown design ${JSON.stringify(name)}${
          didYouMean(name, DESIGN_NAMES)
        }; \`cvmsim list\` shows them`,
      );
    }
  }
  if (file === STDIN) {
    // "-": the scenario comes on standard input; relative profile paths are from here.
    const read = parseJsonText(readStdin());
    if (!read.ok) throw new ScenarioError("standard input", [{ path: "", message: read.problem }]);
    try {
      return checkScenario(read.value, "", { designs, seed });
    } catch (error) {
      if (error instanceof ScenarioError) throw new ScenarioError("standard input", error.issues);
      throw error;
    }
  }
  return loadScenario(requireFile(command, file, "scenario file"), { designs, seed });
}

/** The file name that means standard input. */
export const STDIN = "-";

let stdinText: string | undefined;

/** All of standard input, as text (read once; a second load gets the same). */
function readStdin(): string {
  stdinText ??= readAllStdin();
  return stdinText;
}

function readAllStdin(): string {
  const chunks: Uint8Array[] = [];
  const buffer = new Uint8Array(65536);
  for (;;) {
    const n = Deno.stdin.readSync(buffer);
    if (n === null || n === 0) break;
    chunks.push(buffer.slice(0, n));
  }
  const bytes = new Uint8Array(chunks.reduce((sum, c) => sum + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return new TextDecoder().decode(bytes);
}

export function designList(
  command: string,
  value: string | boolean | undefined,
): string[] | undefined {
  if (value === undefined) return undefined;
  const names = String(value).split(",").map((name) => name.trim()).filter((name) => name !== "");
  if (names.length === 0) throw new UsageError(`cvmsim ${command}: --designs needs design names`);
  return names;
}

/** Scenario files in `dir`, sorted by name. */
export function scenarioFiles(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)]
      .filter((entry) => entry.isFile && entry.name.endsWith(".json"))
      .map((entry) => join(dir, entry.name))
      .sort();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}
