/**
 * The fuzzer: mutates every shipped scenario (src/fuzz/mutate.ts) and checks that each
 * mutated file ends in exit 0 or 1 with every problem naming its JSON path, never an
 * internal error, within a time bound (src/fuzz/check.ts), on a pool of workers.
 *
 * @module
 */

import { join } from "node:path";
import { RngStreams } from "../engine/mod.ts";
import type { CaseOutcome } from "./check.ts";
import { mutateScenario, stringsOf } from "./mutate.ts";
import type { CaseMessage } from "./worker.ts";

/** Where the fuzzer finds scenarios to mutate, relative to the repository. */
export const BASE_DIRS = [
  "scenarios",
  "scenarios/validation",
  "scenarios/scale",
  "bench/scenarios",
];

/** Options of {@linkcode fuzz}. */
export interface FuzzOptions {
  cases: number;
  seed: number;
  /** Workers running cases at once. */
  jobs: number;
  /** Wall time a case may take before it counts as a failure (ms). */
  timeoutMs: number;
  /** The repository root (scenarios are read from its BASE_DIRS). */
  root: string;
  /** Called after each case (for a progress line). */
  onCase?: (done: number) => void;
}

/** One generated case. */
export interface FuzzCase {
  index: number;
  base: string;
  what: string[];
  text: string;
}

/** A case that broke the invariant. */
export interface FuzzFailure extends FuzzCase {
  why: string;
}

/** What a fuzz run found. */
export interface FuzzReport {
  cases: number;
  ran: number;
  rejected: number;
  failures: FuzzFailure[];
}

/** The shipped scenario files, sorted, as [path relative to root, text]. */
export function baseScenarios(root: string): [string, string][] {
  const files: [string, string][] = [];
  for (const dir of BASE_DIRS) {
    const names = [...Deno.readDirSync(join(root, dir))]
      .filter((entry) => entry.isFile && entry.name.endsWith(".json"))
      .map((entry) => entry.name)
      .sort();
    for (const name of names) {
      files.push([`${dir}/${name}`, Deno.readTextFileSync(join(root, dir, name))]);
    }
  }
  return files;
}

/** The strings every shipped scenario uses, sorted (the plausible replacements). */
const STRING_POOLS = new WeakMap<[string, string][], string[]>();

/** Case `index` of seed `seed`: a shipped scenario and its mutation, the same every time. */
export function makeCase(bases: [string, string][], seed: number, index: number): FuzzCase {
  let strings = STRING_POOLS.get(bases);
  if (strings === undefined) {
    const all = new Set<string>();
    for (const [, text] of bases) stringsOf(JSON.parse(text), all);
    strings = [...all].sort();
    STRING_POOLS.set(bases, strings);
  }
  const rng = new RngStreams(seed).stream(`fuzz-case-${index}`);
  const [base, text] = bases[rng.int(0, bases.length - 1)];
  const mutated = mutateScenario(text, rng, strings);
  return { index, base, what: mutated.what, text: mutated.text };
}

/** Runs `options.cases` cases on `options.jobs` workers. */
export function fuzz(options: FuzzOptions): Promise<FuzzReport> {
  const bases = baseScenarios(options.root);
  const report: FuzzReport = { cases: options.cases, ran: 0, rejected: 0, failures: [] };
  let next = 0;
  let done = 0;
  return new Promise((resolve) => {
    const spawn = () => {
      const worker = new Worker(new URL("./worker.ts", import.meta.url).href, { type: "module" });
      let current: FuzzCase | undefined;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const feed = () => {
        if (next >= options.cases) {
          worker.terminate();
          if (done === options.cases) resolve(report);
          return;
        }
        current = makeCase(bases, options.seed, next++);
        timer = setTimeout(() => {
          // Past the time bound: a failure; this worker is stuck, replace it.
          worker.terminate();
          record(current!, {
            kind: "failed",
            why: `took longer than ${options.timeoutMs} ms`,
            codes: [-1, -1],
          });
          spawn();
        }, options.timeoutMs);
        worker.postMessage({ index: current.index, text: current.text } satisfies CaseMessage);
      };
      worker.onmessage = (event: MessageEvent<{ index: number; outcome: CaseOutcome }>) => {
        clearTimeout(timer);
        record(current!, event.data.outcome);
        feed();
      };
      worker.onerror = (event) => {
        event.preventDefault();
        clearTimeout(timer);
        record(current!, {
          kind: "failed",
          why: `worker error: ${event.message}`,
          codes: [-1, -1],
        });
        worker.terminate();
        spawn();
      };
      feed();
    };
    const record = (fuzzCase: FuzzCase, outcome: CaseOutcome) => {
      if (outcome.kind === "ran") report.ran++;
      else if (outcome.kind === "rejected") report.rejected++;
      else report.failures.push({ ...fuzzCase, why: outcome.why ?? "failed" });
      done++;
      options.onCase?.(done);
      if (done === options.cases) resolve(report);
    };
    if (options.cases === 0) resolve(report);
    for (let i = 0; i < Math.min(options.jobs, options.cases); i++) spawn();
  });
}
