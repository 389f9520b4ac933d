/**
 * `cvmsim calibrate`: a profile's costs and sources, the vmexit microbenchmarks on it, and
 * the importer of kvm-unit-tests vmexit output.
 *
 * @module
 */

import { importVmexit, parseVmexitOutput } from "../calibrate/import_vmexit.ts";
import { runMicrobenchmarks } from "../calibrate/microbenchmarks.ts";
import { runValidation, VALIDATION_ROWS } from "../calibrate/validation.ts";
import { renderValidation, renderValidationMarkdown } from "../report/validation_text.ts";
import { DEFAULT_PROFILE, SHIPPED_PROFILES, shippedProfile } from "../profiles/mod.ts";
import { renderCalibration } from "../report/calibration_text.ts";
import { writeFileAtomic } from "../report/write.ts";
import { resolveProfileRef } from "../scenario/load.ts";
import { parse, requireFile } from "./args.ts";
import { type Command, type Io, jsonFlag, progressOf, quietFlag } from "./command.ts";
import { EXIT_OK, UsageError } from "./errors.ts";

/** `calibrate` */
export const calibrate: Command = {
  name: "calibrate",
  usage: "calibrate [--profile <name|file.json>] [--json] [--quiet]\n" +
    "       cvmsim calibrate --end-to-end [--markdown | --json] [--only <row,...>] [--quiet]\n" +
    "       cvmsim calibrate --import <vmexit-output.txt> [--base <profile>] [--name <name>] [--out <file.json>]",
  summary: "Show a profile's every cost and source, and reproduce the kvm-unit-tests vmexit " +
    "microbenchmarks on it; validate against published end-to-end results (--end-to-end); " +
    "or build a profile from your own vmexit output.",
  flags: {
    profile: { type: "string", value: "<name|file>", doc: "profile to show (default intel-vmx)" },
    json: jsonFlag,
    "end-to-end": {
      type: "boolean",
      doc: "simulate the published end-to-end results of docs/validation.md and compare",
    },
    markdown: { type: "boolean", doc: "with --end-to-end: print docs/validation.md" },
    only: {
      type: "string",
      value: "<row,...>",
      doc: "with --end-to-end: only these rows (ids as in docs/validation.md)",
    },
    quiet: quietFlag,
    import: {
      type: "string",
      value: "<file>",
      doc: "kvm-unit-tests vmexit output to build a profile from",
    },
    base: {
      type: "string",
      value: "<profile>",
      doc: "with --import: profile to refine (default intel-vmx)",
    },
    name: {
      type: "string",
      value: "<name>",
      doc: "with --import: the new profile's name (default my-host)",
    },
    out: {
      type: "string",
      value: "<file>",
      doc: "with --import: write the profile here (default: print it)",
    },
  },
  run(args, io) {
    const { values, positionals } = parse("calibrate", args, this.flags);
    if (positionals.length > 0) {
      throw new UsageError(`cvmsim calibrate: unexpected argument ${positionals[0]}`);
    }
    if (values["end-to-end"] === true) return endToEnd(values, io);
    for (const flag of ["markdown", "only"]) {
      if (values[flag] !== undefined) {
        throw new UsageError(`cvmsim calibrate: --${flag} only goes with --end-to-end`);
      }
    }
    if (values.import !== undefined) return importProfile(values, io);
    for (const flag of ["base", "name", "out"]) {
      if (values[flag] !== undefined) {
        throw new UsageError(`cvmsim calibrate: --${flag} only goes with --import`);
      }
    }
    const profile = resolveProfileRef(String(values.profile ?? DEFAULT_PROFILE));
    const results = runMicrobenchmarks(profile);
    if (values.json === true) {
      io.out(JSON.stringify({ profile, microbenchmarks: results }, null, 2));
    } else {
      io.out(renderCalibration(profile, results));
    }
    return EXIT_OK;
  },
};

function endToEnd(values: Record<string, string | boolean | undefined>, io: Io): number {
  for (const flag of ["profile", "import", "base", "name", "out"]) {
    if (values[flag] !== undefined) {
      throw new UsageError(`cvmsim calibrate: --${flag} does not go with --end-to-end`);
    }
  }
  if (values.markdown === true && values.json === true) {
    throw new UsageError("cvmsim calibrate: choose one of --markdown and --json");
  }
  let only: string[] | undefined;
  if (values.only !== undefined) {
    only = String(values.only).split(",").map((id) => id.trim()).filter((id) => id !== "");
    const ids = VALIDATION_ROWS.map((row) => row.id);
    const unknown = only.filter((id) => !ids.includes(id));
    if (unknown.length > 0 || only.length === 0) {
      throw new UsageError(
        `cvmsim calibrate: --only expects row ids among ${ids.join(", ")}, got ${
          JSON.stringify(String(values.only))
        }`,
      );
    }
  }
  const started = performance.now();
  const progress = progressOf("calibrate", values, io);
  const results = runValidation(
    progress.quiet
      ? undefined
      : (label: string) =>
        progress.say(`[${((performance.now() - started) / 1000).toFixed(1)} s] ${label}`),
    only,
  );
  if (values.json === true) {
    io.out(JSON.stringify(
      results.map((r) => ({
        id: r.row.id,
        platform: r.row.platform,
        result: r.row.result,
        source: r.row.source,
        scenario: r.row.scenario,
        published: r.row.published,
        unit: r.row.unit,
        compare: r.row.compare,
        simulated: r.simulated.value,
        detail: r.simulated.detail,
        differencePercent: r.differencePercent,
        consistent: r.consistent,
        note: r.row.note,
      })),
      null,
      2,
    ));
  } else if (values.markdown === true) {
    io.out(renderValidationMarkdown(results).trimEnd());
  } else {
    io.out(renderValidation(results));
  }
  return EXIT_OK;
}

function importProfile(values: Record<string, string | boolean | undefined>, io: Io): number {
  const file = requireFile("calibrate", String(values.import), "vmexit output file");
  const base = String(values.base ?? DEFAULT_PROFILE);
  if (shippedProfile(base) === undefined) {
    const names = SHIPPED_PROFILES.map((p) => p.name);
    throw new UsageError(
      `cvmsim calibrate: --base expects one of ${names.join(", ")}, got ${JSON.stringify(base)}`,
    );
  }
  const name = String(values.name ?? "my-host");
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(name)) {
    throw new UsageError(
      `cvmsim calibrate: --name expects lowercase letters, digits, '.', '_' and '-', got ${
        JSON.stringify(name)
      }`,
    );
  }
  const parsed = parseVmexitOutput(Deno.readTextFileSync(file));
  if (parsed.results.size === 0) {
    throw new UsageError(
      `cvmsim calibrate: no vmexit results in ${file} (expected lines like "cpuid 1027")`,
    );
  }
  const { profile, warnings } = importVmexit(parsed.results, { base, name, source: file });
  const text = JSON.stringify(profile, null, 2) + "\n";
  for (const warning of warnings) io.err(`warning: ${warning}`);
  if (parsed.ignored.length > 0) {
    progressOf("calibrate", values, io).say(
      `not used (cvmsim does not reproduce them): ${parsed.ignored.join(", ")}`,
    );
  }
  if (values.out !== undefined) {
    writeFileAtomic(String(values.out), text);
    io.out(
      `wrote ${values.out}: ${Object.keys(profile.costs).length} costs set from ` +
        `${parsed.results.size} tests; use it with "profile": "${values.out}"`,
    );
  } else {
    io.out(text.trimEnd());
  }
  return EXIT_OK;
}
