/**
 * `deno task fuzz --cases N --seed S [--jobs J] [--save DIR]`: mutates the shipped
 * scenarios and checks that cvmsim answers every mutation with exit 0 or 1 and problems
 * that name their JSON paths, never an internal error, within a time bound. Failing cases
 * are written to DIR (tests/fixtures/fuzz/ keeps them as regression cases).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { fuzz } from "./fuzz.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

function usage(message: string): never {
  console.error(`cvmsim fuzz: ${message}`);
  console.error(
    "usage: deno task fuzz [--cases N] [--seed S] [--jobs J] [--timeout-ms T] [--save DIR]",
  );
  Deno.exit(2);
}

function integer(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value)) {
    usage(`--${name} expects an integer, got ${JSON.stringify(text)}`);
  }
  return value;
}

if (import.meta.main) {
  let parsed;
  try {
    parsed = parseArgs({
      args: Deno.args,
      options: {
        cases: { type: "string" },
        seed: { type: "string" },
        jobs: { type: "string" },
        "timeout-ms": { type: "string" },
        save: { type: "string" },
        help: { type: "boolean" },
      },
    });
  } catch (error) {
    usage(error instanceof Error ? error.message : String(error));
  }
  const { values } = parsed;
  if (values.help) {
    console.log("deno task fuzz [--cases N] [--seed S] [--jobs J] [--timeout-ms T] [--save DIR]");
    Deno.exit(0);
  }
  const cases = integer("cases", values.cases, 1000);
  const seed = integer("seed", values.seed, 1);
  const jobs = Math.max(1, integer("jobs", values.jobs, navigator.hardwareConcurrency ?? 2));
  const timeoutMs = integer("timeout-ms", values["timeout-ms"], 30_000);
  const started = performance.now();
  const isTerminal = Deno.stderr.isTerminal();
  const report = await fuzz({
    cases,
    seed,
    jobs,
    timeoutMs,
    root: ROOT,
    onCase: (done) => {
      if (isTerminal && done % 50 === 0) {
        Deno.stderr.writeSync(new TextEncoder().encode(`\r${done}/${cases} cases`));
      }
    },
  });
  if (isTerminal) Deno.stderr.writeSync(new TextEncoder().encode("\r\x1b[2K"));
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `fuzz seed ${seed}: ${report.cases} cases in ${seconds} s: ${report.ran} ran, ` +
      `${report.rejected} rejected cleanly, ${report.failures.length} failed the invariant`,
  );
  for (const failure of report.failures) {
    console.log(
      `  case ${failure.index} (${failure.base}; ${failure.what.join("; ")}): ${failure.why}`,
    );
    if (values.save !== undefined) {
      Deno.mkdirSync(values.save, { recursive: true });
      const file = join(values.save, `seed${seed}-case${failure.index}.json`);
      Deno.writeTextFileSync(file, failure.text);
      console.log(`    saved as ${file}`);
    }
  }
  Deno.exit(report.failures.length === 0 ? 0 : 1);
}
