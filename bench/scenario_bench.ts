/**
 * Whole scenarios end to end (load, build, run, summarize), one case per scenario ×
 * design, grouped by scenario with the first design as the baseline. Target: at least
 * 1 M simulated exits per wall-clock second on the baseline scenario.
 *
 * ```sh
 * deno bench --allow-read bench/scenario_bench.ts
 * deno run --allow-read bench/scenario_bench.ts   # prints simulated exits per wall second
 * ```
 */

import { loadScenario } from "../src/scenario/load.ts";
import { simulate } from "../src/scenario/run.ts";

const FILES = ["scenarios/baseline.json", "scenarios/vmexit-inl.json"];

if (import.meta.main) {
  for (const file of FILES) {
    const loaded = loadScenario(file);
    for (const design of loaded.scenario.designs) {
      simulate(loaded, design); // warm up
      const start = performance.now();
      const { summary } = simulate(loaded, design);
      const seconds = (performance.now() - start) / 1000;
      console.log(
        `${loaded.scenario.name} / ${design}: ${summary.totals.exits} exits in ` +
          `${(seconds * 1000).toFixed(1)} ms = ${
            (summary.totals.exits / seconds / 1e6).toFixed(2)
          } M exits/s, ` +
          `${(summary.run.events / seconds / 1e6).toFixed(2)} M events/s`,
      );
    }
  }
} else {
  for (const file of FILES) {
    const loaded = loadScenario(file);
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
