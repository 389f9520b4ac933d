/**
 * End-to-end validation (src/calibrate/validation.ts, docs/validation.md): every row's
 * scenario is valid, the page is the command's output, and a row's comparison is computed
 * from the run.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { runValidation, VALIDATION_DIR, VALIDATION_ROWS } from "../../src/calibrate/validation.ts";
import { loadScenario } from "../../src/scenario/load.ts";
import { renderValidationMarkdown, VALIDATION_COMMAND } from "../../src/report/validation_text.ts";

Deno.test("every validation row names a source and a valid scenario, and ids are unique", () => {
  strictEqual(new Set(VALIDATION_ROWS.map((r) => r.id)).size, VALIDATION_ROWS.length);
  ok(VALIDATION_ROWS.length >= 8, "at least 8 end-to-end rows");
  for (const row of VALIDATION_ROWS) {
    ok(row.source.length > 10 && row.note.length > 10, row.id);
    if (row.scenario !== "code") loadScenario(join(VALIDATION_DIR, row.scenario));
  }
  // Every scenario file is used by a row.
  const used = new Set(VALIDATION_ROWS.map((r) => r.scenario));
  for (const entry of Deno.readDirSync(VALIDATION_DIR)) ok(used.has(entry.name), entry.name);
});

/** The published, simulated and difference cells of row `id` in a page's summary table. */
function figures(page: string, id: string): string[] {
  const line = page.split("\n").find((l) => l.startsWith("| ") && l.includes(`(\`${id}\`)`));
  ok(line !== undefined, `row ${id} in the table`);
  return line.split(" | ").slice(-3);
}

Deno.test("docs/validation.md is the command's output: every row, with its figures", () => {
  const page = Deno.readTextFileSync("docs/validation.md");
  ok(page.includes(VALIDATION_COMMAND), "it names the command that produced it");
  for (const row of VALIDATION_ROWS) figures(page, row.id);
  // The cheap rows are simulated again here and must read as the page does.
  const ids = ["vmx-cpuid-8vcpus", "host-pipe-same-cpu", "host-pipe-cross-cpu", "vmx-ipiv"];
  const rerun = renderValidationMarkdown(runValidation(undefined, ids));
  for (const id of ids) deepStrictEqual(figures(rerun, id), figures(page, id), id);
});

Deno.test("a validation row compares the simulated figure with the published one", () => {
  const [cpuid] = runValidation(undefined, ["vmx-cpuid-8vcpus"]);
  strictEqual(cpuid.simulated.value, 1027, "the profile's cpuid round trip on every vCPU");
  strictEqual(cpuid.differencePercent, (1027 - 1053) / 1053 * 100);
  const [pipe] = runValidation(undefined, ["host-pipe-same-cpu"]);
  ok(pipe.simulated.value > 3 && pipe.simulated.value < 5, `${pipe.simulated.value} us`);
});
