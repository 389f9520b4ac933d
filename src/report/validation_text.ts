/**
 * The text and Markdown reports of `calibrate --end-to-end`: each published end-to-end
 * result next to its simulated figure and the difference. docs/validation.md is the
 * Markdown form (`deno task sim calibrate --end-to-end --markdown`).
 *
 * @module
 */

import type { ValidationResult } from "../calibrate/validation.ts";
import { decimal, table } from "./format.ts";

/** The command that produces docs/validation.md. */
export const VALIDATION_COMMAND = "deno task sim calibrate --end-to-end --markdown";

/** A figure with a sensible number of digits for its size. */
function figure(value: number): string {
  const size = Math.abs(value);
  const digits = size >= 100 ? 0 : size >= 10 ? 1 : 2;
  return decimal(value, digits);
}

/** The comparison column: a signed difference, or whether a published bound holds. */
function comparison(result: ValidationResult): string {
  const { row, differencePercent, consistent } = result;
  if (differencePercent !== undefined) {
    const sign = differencePercent >= 0 ? "+" : "";
    return `${sign}${decimal(differencePercent, 1)}${row.unit === "%" ? " points" : "%"}`;
  }
  const bound = row.compare === "atLeast" ? "published > " : "published < ";
  return `${consistent ? "consistent" : "inconsistent"} (${bound}${figure(row.published)})`;
}

function published(result: ValidationResult): string {
  const { row } = result;
  const prefix = row.compare === "atLeast" ? "> " : row.compare === "atMost" ? "< " : "";
  return `${prefix}${figure(row.published)} ${row.unit}`;
}

/** The terminal table. */
export function renderValidation(results: ValidationResult[]): string {
  return [
    "End-to-end validation: published results no cost was fitted to, simulated",
    "",
    table(
      ["row", "published", "simulated", "difference", "scenario"],
      results.map((r) => [
        r.row.id,
        published(r),
        `${figure(r.simulated.value)} ${r.row.unit}`,
        comparison(r),
        r.row.scenario === "code" ? "(setup in code)" : `scenarios/validation/${r.row.scenario}`,
      ]),
      ["left", "right", "right", "right", "left"],
    ),
    "",
    ...results.map((r) =>
      `${r.row.id}: ${r.row.note}${r.simulated.detail ? ` (${r.simulated.detail})` : ""}`
    ),
  ].join("\n");
}

const cell = (text: string) => text.replaceAll("|", "\\|");

/** docs/validation.md. */
export function renderValidationMarkdown(results: ValidationResult[]): string {
  const lines = [
    "# End-to-end validation",
    "",
    "The cost profiles are calibrated on microbenchmarks (`deno task sim calibrate`: each",
    "profile reproduces the kvm-unit-tests and per-primitive figures it was built from). The",
    "rows below are different: published end-to-end results — whole-guest acceptance and boot",
    "times, scaling with vCPUs, idle exit rates, latency taxes, benchmark ratios — that no",
    "cost was fitted to. Each is rebuilt as a scenario in `scenarios/validation/` (or, for a",
    "host-only benchmark, a setup in `src/calibrate/validation.ts`), simulated, and set next",
    "to the published figure. Where a row misses, its note says which mechanism the model",
    "lacks; no cost is changed to make a row agree.",
    "",
    "This page is the output of one command (under a minute on the 2-core development VM):",
    "",
    "```sh",
    `${VALIDATION_COMMAND} > docs/validation.md`,
    "deno task sim calibrate --end-to-end            # the same as a table",
    "```",
    "",
    "| # | result | source | published | simulated | difference |",
    "|---|---|---|---:|---:|---:|",
    ...results.map((r, i) =>
      `| ${i + 1} | ${cell(r.row.result)} (\`${r.row.id}\`) | ${cell(r.row.source)} | ` +
      `${published(r)} | ${figure(r.simulated.value)} ${r.row.unit} | ${comparison(r)} |`
    ),
    "",
    "## The rows",
    "",
  ];
  results.forEach((r, i) => {
    lines.push(`### ${i + 1}. \`${r.row.id}\` (${r.row.platform})`);
    lines.push("");
    lines.push(`- Published: ${published(r)}${r.row.derivation ? ` (${r.row.derivation})` : ""}.`);
    lines.push(
      `- Setup: ${r.row.setup}; ${
        r.row.scenario === "code"
          ? "a setup in `src/calibrate/validation.ts`"
          : `\`scenarios/validation/${r.row.scenario}\``
      }.`,
    );
    lines.push(
      `- Simulated: ${figure(r.simulated.value)} ${r.row.unit}${
        r.simulated.detail ? ` (${r.simulated.detail})` : ""
      }; ${comparison(r)}.`,
    );
    lines.push(`- ${r.row.note}`);
    lines.push("");
  });
  return lines.join("\n").trimEnd() + "\n";
}
