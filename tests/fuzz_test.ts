/**
 * The fuzzer's invariant, in the test suite: a few hundred mutated shipped scenarios, and
 * every case a fuzz run ever failed on (tests/fixtures/fuzz/, kept as regressions), end in
 * exit 0 or 1 with problems that name their JSON paths, never an internal error. CI runs a
 * few thousand more (`deno task fuzz --cases 3000 --seed 1`).
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { runCase } from "../src/fuzz/check.ts";
import { baseScenarios, fuzz, makeCase } from "../src/fuzz/fuzz.ts";

const FIXTURES = "tests/fixtures/fuzz";

Deno.test("the same seed and index make the same case", () => {
  const bases = baseScenarios(".");
  ok(bases.length > 20, `only ${bases.length} shipped scenarios found`);
  deepStrictEqual(makeCase(bases, 3, 17), makeCase(bases, 3, 17));
});

Deno.test("every fuzz fixture ends in exit 0 or 1 with clean problems", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "cvmsim-fuzz-fixtures-" });
  try {
    for (const entry of [...Deno.readDirSync(FIXTURES)].filter((e) => e.name.endsWith(".json"))) {
      const outcome = await runCase(join(FIXTURES, entry.name), dir);
      strictEqual(outcome.kind === "failed" ? outcome.why : "", "", entry.name);
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test({
  name: "300 mutated shipped scenarios: no internal error, every problem with its path",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const report = await fuzz({ cases: 300, seed: 1, jobs: 2, timeoutMs: 30_000, root: "." });
    deepStrictEqual(
      report.failures.map((f) => `case ${f.index} (${f.base}; ${f.what.join("; ")}): ${f.why}`),
      [],
    );
    strictEqual(report.ran + report.rejected, 300);
    // Both outcomes must occur, or the invariant is checked on little.
    ok(report.ran > 15, `only ${report.ran} cases ran`);
    ok(report.rejected > 100, `only ${report.rejected} cases were rejected`);
  },
});
