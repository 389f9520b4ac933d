/**
 * Whole shipped scenarios end to end (build, run, summarize), one case per scenario ×
 * design, grouped by scenario with its first design as the baseline. Targets: at least
 * 1 M simulated exits per wall-clock second on `baseline` and on the I/O scenarios
 * (`virtio-rr`, `tdx-virtio`, `snp-virtio`).
 *
 * ```sh
 * deno bench --allow-read --allow-write bench/scenario_bench.ts   # also writes reports/
 * deno run --allow-read --allow-run bench/scenario_bench.ts            # exits per wall second
 * deno run --allow-read --allow-run bench/scenario_bench.ts --markdown # docs/performance.md's table
 * ```
 *
 * Each scenario file is measured in a fresh process, its designs one after another, as
 * `deno task sim compare <file>` runs them: in one process for every file, the calls from
 * the flows into the platforms see every platform's classes and run slower for the files
 * measured last (tdx-virtio under tdx.upstream: 0.75 M exits/s after the others, 0.95 M on
 * its own), which would make each row depend on the ones before it.
 */

import { type LoadedScenario, loadScenario } from "../src/scenario/load.ts";
import { simulate } from "../src/scenario/run.ts";
import { execute } from "../src/cli/execute.ts";
import { DEFAULT_TIMELINE_SPANS, type TimelineRequest } from "../src/cli/command.ts";

const BENCH_TIMELINE: TimelineRequest = {
  maxSpans: DEFAULT_TIMELINE_SPANS,
  fromMs: 0,
  toMs: Infinity,
  trace: false,
};

const DIR = new URL("../scenarios/", import.meta.url);
const BENCH_DIR = new URL("./scenarios/", import.meta.url);

/** The shipped scenarios, then the benchmark-only ones in bench/scenarios/. */
function shipped(): LoadedScenario[] {
  return shippedFiles().map((file) => loadScenario(file));
}

/** One line of the speed table. */
interface Measured {
  scenario: string;
  design: string;
  exits: number;
  events: number;
  wallMs: number;
}

/** Runs one file's designs: warm up for half a second each, keep the best of three. */
function measureFile(loaded: LoadedScenario): Measured[] {
  const rows: Measured[] = [];
  {
    for (const design of loaded.scenario.designs) {
      for (const warmup = performance.now(); performance.now() - warmup < 500;) {
        simulate(loaded, design);
      }
      let seconds = Infinity;
      let summary = simulate(loaded, design).summary;
      for (let i = 0; i < 3; i++) {
        const start = performance.now();
        summary = simulate(loaded, design).summary;
        seconds = Math.min(seconds, (performance.now() - start) / 1000);
      }
      rows.push({
        scenario: loaded.scenario.name,
        design,
        exits: summary.totals.exits,
        events: summary.run.events,
        wallMs: seconds * 1000,
      });
    }
  }
  return rows;
}

/** The shipped scenario files, then the benchmark-only ones. */
function shippedFiles(): string[] {
  return [DIR, BENCH_DIR].flatMap((dir) =>
    [...Deno.readDirSync(dir)]
      .filter((entry) => entry.isFile && entry.name.endsWith(".json"))
      .map((entry) => entry.name)
      .sort()
      .map((name) => new URL(name, dir).pathname)
  );
}

/** Every file measured in a fresh process of its own (see the module doc). */
function measureAll(): Measured[] {
  const script = new URL(import.meta.url).pathname;
  return shippedFiles().flatMap((file) => {
    const output = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", script, "--one", file],
      stderr: "inherit",
    }).outputSync();
    if (!output.success) throw new Error(`measuring ${file} failed`);
    return JSON.parse(new TextDecoder().decode(output.stdout)) as Measured[];
  });
}

function markdown(rows: Measured[]): string {
  const lines = [
    "| scenario | design | simulated exits | wall ms | M exits/s | M events/s |",
    "|---|---|---:|---:|---:|---:|",
    ...rows.map((r) =>
      `| ${r.scenario} | ${r.design} | ${r.exits.toLocaleString("en-US")} | ${
        r.wallMs.toFixed(1)
      } | ${(r.exits / r.wallMs / 1e3).toFixed(2)} | ${(r.events / r.wallMs / 1e3).toFixed(2)} |`
    ),
  ];
  return lines.join("\n");
}

if (import.meta.main && Deno.args[0] === "--one") {
  console.log(JSON.stringify(measureFile(loadScenario(Deno.args[1]))));
} else if (import.meta.main) {
  const rows = measureAll();
  if (Deno.args.includes("--markdown")) {
    console.log(markdown(rows));
  } else {
    for (const r of rows) {
      console.log(
        `${r.scenario.padEnd(18)} ${r.design.padEnd(22)} ${String(r.exits).padStart(8)} exits in ` +
          `${r.wallMs.toFixed(1).padStart(7)} ms = ${
            (r.exits / r.wallMs / 1e3).toFixed(2)
          } M exits/s, ` +
          `${(r.events / r.wallMs / 1e3).toFixed(2)} M events/s`,
      );
    }
  }
} else {
  // `deno task bench`: one case per scenario × design, grouped by scenario with its first
  // design (the in-kernel or upstream one) as the baseline. The first run of each case also
  // writes its report to reports/, so the dashboard shows what was benched.
  const reportsDir = new URL("../reports/", import.meta.url).pathname;
  for (const loaded of shipped()) {
    loaded.scenario.designs.forEach((design, i) => {
      let written = false;
      Deno.bench(`${loaded.scenario.name} / ${design}`, {
        group: loaded.scenario.name,
        baseline: i === 0,
      }, () => {
        if (written) {
          simulate(loaded, design);
          return;
        }
        written = true;
        execute(loaded, design, reportsDir, BENCH_TIMELINE);
      });
    });
  }
}
