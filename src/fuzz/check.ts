/**
 * One fuzz case: the file goes through `cvmsim validate` and, when valid, `cvmsim run`
 * under a small event limit, in this process, and the outcome is checked against the
 * invariant: exit 0 or 1, never an internal error or a stack trace, and on exit 1 every
 * problem on its own line, naming its JSON path.
 *
 * @module
 */

import { join } from "node:path";
import { main } from "../cli/main.ts";

/** Event limit of the fuzzer's runs: enough for the small scenarios, bounded for all. */
export const FUZZ_MAX_EVENTS = 500_000;

/** How one case went. */
export interface CaseOutcome {
  /** "rejected": exit 1 with clean problems; "ran": the run completed (or was cut). */
  kind: "rejected" | "ran" | "failed";
  /** Why it failed the invariant (kind "failed"). */
  why?: string;
  /** Exit codes of validate and run (run: -1 when not run). */
  codes: [number, number];
}

const PROBLEM_LINE = /^ {2}(\S[^:]*|\(top level\)): \S/;

/** Checks the output of an exit-1 command: a header line, then one problem per line. */
function cleanProblems(err: string): string | undefined {
  const lines = err.split("\n").filter((line) => line !== "");
  if (lines.length === 0) return "exit 1 with nothing on stderr";
  if (lines.some((line) => line.includes("    at "))) return "a stack trace on stderr";
  // An event-limit stop is one sentence; everything else is "<file> is invalid:" + problems.
  if (lines.length === 1 && lines[0].includes("reached the event limit")) return undefined;
  const header = lines[0].endsWith("is invalid:") ||
    (lines[0].startsWith("invalid ") && lines[0].endsWith(":"));
  if (!header) return `unexpected first line: ${lines[0]}`;
  const bad = lines.slice(1).find((line) => !PROBLEM_LINE.test(line));
  return bad === undefined ? undefined : `a problem line without a path: ${bad}`;
}

/** Runs one case: the file at `file`, reports to `outDir`. */
export async function runCase(file: string, outDir: string): Promise<CaseOutcome> {
  const capture = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) }, out, err };
  };
  const validate = capture();
  const validateCode = await main(["validate", file], validate.io);
  const check = (code: number, output: string[], step: string): string | undefined => {
    const text = output.join("\n");
    if (text.includes("internal error")) return `${step}: ${text.split("\n")[0]}`;
    if (code === 0) return undefined;
    if (code !== 1) return `${step} exited ${code}: ${text.split("\n")[0]}`;
    const unclean = cleanProblems(text);
    return unclean === undefined ? undefined : `${step}: ${unclean}`;
  };
  // validate lists problems on stdout; run and the others on stderr.
  const validateProblem = check(validateCode, [...validate.out, ...validate.err], "validate");
  if (validateProblem !== undefined) {
    return { kind: "failed", why: validateProblem, codes: [validateCode, -1] };
  }
  if (validateCode !== 0) return { kind: "rejected", codes: [validateCode, -1] };
  const run = capture();
  const runCode = await main([
    "run",
    file,
    "--out",
    join(outDir, "reports"),
    "--timeline-spans",
    "0",
    "--max-events",
    String(FUZZ_MAX_EVENTS),
    // No progress lines: stderr holds only what the invariant reads.
    "--quiet",
  ], run.io);
  const runProblem = check(runCode, run.err, "run");
  if (runProblem !== undefined) {
    return { kind: "failed", why: runProblem, codes: [validateCode, runCode] };
  }
  return { kind: runCode === 0 ? "ran" : "rejected", codes: [validateCode, runCode] };
}
