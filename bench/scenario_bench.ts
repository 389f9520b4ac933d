/**
 * Whole shipped scenarios end to end (build, run, summarize), one case per scenario ×
 * design, grouped by scenario with its first design as the baseline. Targets: at least
 * 1 M simulated exits per wall-clock second on `baseline` and on `virtio-rr` (16 vCPUs).
 *
 * ```sh
 * deno bench --allow-read bench/scenario_bench.ts
 * deno run --allow-read bench/scenario_bench.ts   # prints simulated exits per wall second
 * ```
 */

import { type LoadedScenario, loadScenario } from "../src/scenario/load.ts";
import { simulate } from "../src/scenario/run.ts";

const DIR = new URL("../scenarios/", import.meta.url);

function shipped(): LoadedScenario[] {
  return [...Deno.readDirSync(DIR)]
    .filter((entry) => entry.name.endsWith(".json"))
    .map((entry) => entry.name)
    .sort()
    .map((name) => loadScenario(new URL(name, DIR).pathname));
}

if (import.meta.main) {
  for (const loaded of shipped()) {
    for (const design of loaded.scenario.designs) {
      // Warm the JIT for half a second, then keep the best of three runs.
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
      console.log(
        `${loaded.scenario.name.padEnd(12)} ${design.padEnd(20)} ` +
          `${String(summary.totals.exits).padStart(8)} exits in ${
            (seconds * 1000).toFixed(1).padStart(6)
          } ms ` +
          `= ${(summary.totals.exits / seconds / 1e6).toFixed(2)} M exits/s, ` +
          `${(summary.run.events / seconds / 1e6).toFixed(2)} M events/s`,
      );
    }
  }
} else {
  for (const loaded of shipped()) {
    loaded.scenario.designs.forEach((design, i) => {
      Deno.bench(`${loaded.scenario.name} / ${design}`, {
        group: loaded.scenario.name,
        baseline: i === 0,
      }, () => {
        simulate(loaded, design);
      });
    });
  }
}
