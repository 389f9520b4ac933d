/**
 * A/B of two checkouts on every shipped scenario: each scenario file runs in a fresh process
 * (best of three per design after 300 ms of warm-up), in this checkout and in the other one,
 * alternately, so the wall-time swings of a shared VM hit both sides alike. Prints each
 * file's summed best wall time on both sides, the change, and the totals.
 *
 * ```sh
 * git worktree add /tmp/before HEAD~1
 * deno run --allow-read --allow-run bench/checkouts.ts /tmp/before
 * ```
 *
 * @module
 */

import { join } from "node:path";

const here = new URL("..", import.meta.url).pathname;

/** Runs inside a checkout: `deno run --allow-read bench/checkouts.ts --one <file>`. */
async function one(file: string): Promise<void> {
  const { loadScenario } = await import(join(Deno.cwd(), "src/scenario/load.ts"));
  const { simulate } = await import(join(Deno.cwd(), "src/scenario/run.ts"));
  const loaded = loadScenario(file);
  const out: Record<string, number> = {};
  for (const design of loaded.scenario.designs as string[]) {
    for (const start = performance.now(); performance.now() - start < 300;) {
      simulate(loaded, design);
    }
    let best = Infinity;
    for (let i = 0; i < 3; i++) {
      const start = performance.now();
      simulate(loaded, design);
      best = Math.min(best, performance.now() - start);
    }
    out[design] = best;
  }
  console.log(JSON.stringify(out));
}

function measure(checkout: string, file: string): Record<string, number> {
  const script = new URL(import.meta.url).pathname;
  const output = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", script, "--one", file],
    cwd: checkout,
    stderr: "inherit",
  }).outputSync();
  if (!output.success) throw new Error(`${file} failed in ${checkout}`);
  return JSON.parse(new TextDecoder().decode(output.stdout));
}

if (Deno.args[0] === "--one") {
  await one(Deno.args[1]);
} else {
  const other = Deno.args[0];
  if (other === undefined) {
    console.error("usage: deno run --allow-read --allow-run bench/checkouts.ts <other checkout>");
    Deno.exit(2);
  }
  const files = ["scenarios", "bench/scenarios"].flatMap((dir) =>
    [...Deno.readDirSync(join(here, dir))]
      .filter((e) => e.isFile && e.name.endsWith(".json"))
      .map((e) => `${dir}/${e.name}`)
      .sort()
  );
  const sum = (m: Record<string, number>) => Object.values(m).reduce((a, b) => a + b, 0);
  let before = 0, after = 0;
  console.log(`${"scenario".padEnd(40)} ${"other ms".padStart(9)} ${"this ms".padStart(9)} change`);
  for (const file of files) {
    const a = sum(measure(other, file));
    const b = sum(measure(here, file));
    before += a;
    after += b;
    const change = (100 * (b - a)) / a;
    console.log(
      `${file.padEnd(40)} ${a.toFixed(1).padStart(9)} ${b.toFixed(1).padStart(9)} ${
        change >= 0 ? "+" : ""
      }${change.toFixed(1)}%`,
    );
  }
  const total = (100 * (after - before)) / before;
  console.log(
    `${"total".padEnd(40)} ${before.toFixed(0).padStart(9)} ${after.toFixed(0).padStart(9)} ${
      total >= 0 ? "+" : ""
    }${total.toFixed(1)}%`,
  );
}
