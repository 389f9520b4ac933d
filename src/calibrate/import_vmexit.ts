/**
 * Builds a profile from the text kvm-unit-tests `vmexit` prints on the user's hardware.
 *
 * Each recognised line (`cpuid 1027`) is one test's cycles per iteration. The importer
 * keeps every shared step of the base profile (VMEXIT, VMENTRY, dispatch...) and sets each
 * test's own step (KVM_CPUID for cpuid, VMM_PIO for inl_from_qemu, ...) so that the
 * simulated test matches the measurement, re-simulating until all agree. The result is a
 * profile file that overrides only those steps and records the measurements as references.
 *
 * @module
 */

import type { CostSpec, ProfileSpec, Reference, ResolvedProfile } from "../host/profile.ts";
import { resolveProfile } from "../host/profile.ts";
import type { PrimitiveName } from "../host/primitives.ts";
import { shippedProfile } from "../profiles/mod.ts";
import { MICROBENCHMARK_NAMES, type MicrobenchmarkName } from "../scenario/microbenchmark_names.ts";
import { MICROBENCHMARKS, runMicrobenchmarks } from "./microbenchmarks.ts";

/** Test results found in vmexit output, and the lines that were not test results. */
export interface ParsedVmexit {
  results: Map<MicrobenchmarkName, number>;
  /** Tests vmexit printed that cvmsim does not reproduce (kept for the user to see). */
  ignored: string[];
}

/** Parses kvm-unit-tests vmexit output (console log, or the test's own lines). */
export function parseVmexitOutput(text: string): ParsedVmexit {
  const results = new Map<MicrobenchmarkName, number>();
  const ignored: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    // Tests print "<name> <cycles>"; harness logs may prefix a timestamp or "PASS:".
    const match = /(?:^|\s)([a-z0-9_+-]+(?::[a-z0-9_-]+)?) (-?\d+)\s*$/.exec(raw.trim());
    if (match === null) continue;
    const [, name, value] = match;
    if ((MICROBENCHMARK_NAMES as readonly string[]).includes(name)) {
      results.set(name as MicrobenchmarkName, Number(value));
    } else if (!ignored.includes(name)) {
      ignored.push(name);
    }
  }
  return { results, ignored };
}

/** Options of {@linkcode importVmexit}. */
export interface ImportOptions {
  /** Shipped profile the measurements refine. */
  base: string;
  /** Name of the new profile. */
  name: string;
  /** Where the numbers came from (file name, host), recorded in every basis. */
  source: string;
}

/** An imported profile and what the import noticed. */
export interface Imported {
  profile: ProfileSpec;
  warnings: string[];
}

/** Builds a profile that reproduces the measured `results` on top of `options.base`. */
export function importVmexit(
  results: Map<MicrobenchmarkName, number>,
  options: ImportOptions,
): Imported {
  const base = shippedProfile(options.base);
  if (base === undefined) throw new Error(`No shipped profile named ${options.base}`);
  const references: Record<string, Reference> = {};
  for (const [test, cycles] of results) {
    references[test] = { cycles, kind: "measured", source: options.source };
  }
  const spec: ProfileSpec = {
    name: options.name,
    description: `${options.base} refined with kvm-unit-tests vmexit results (${options.source})`,
    base: options.base,
    references,
    costs: {},
  };
  const warnings: string[] = [];
  for (let round = 0; round < 8; round++) {
    const profile = resolveProfile(spec, shippedProfile);
    if (!adjust(spec, profile, results, options.source, warnings)) break;
  }
  return { profile: spec, warnings: [...new Set(warnings)] };
}

/** One round: moves each measured test's own step by the test's error; true if any moved. */
function adjust(
  spec: ProfileSpec,
  profile: ResolvedProfile,
  results: Map<MicrobenchmarkName, number>,
  source: string,
  warnings: string[],
): boolean {
  const simulated = new Map(runMicrobenchmarks(profile).map((r) => [r.test, r.simulatedCycles]));
  // Tests sharing a step (both TSC_ADJUST tests set KVM_MSR) move it by their mean error.
  const errors = new Map<PrimitiveName, { sum: number; count: number; tests: string[] }>();
  for (const bench of MICROBENCHMARKS) {
    const measured = results.get(bench.test);
    if (measured === undefined) continue;
    const entry = errors.get(bench.ownStep) ?? { sum: 0, count: 0, tests: [] };
    entry.sum += measured - simulated.get(bench.test)!;
    entry.count++;
    entry.tests.push(`${bench.test} = ${measured}`);
    errors.set(bench.ownStep, entry);
  }
  let moved = false;
  for (const [step, { sum, count, tests }] of errors) {
    const error = sum / count;
    if (Math.abs(error) < 0.5) continue;
    const current = profile.costs[step]?.cycles ?? 0;
    let cycles = Math.round(current + error);
    if (cycles < 0) {
      warnings.push(
        `${tests.join(", ")} is below what the rest of its flow already costs in ` +
          `${spec.base}; ${step} set to 0 (lower the shared steps, e.g. VMEXIT or VMENTRY, ` +
          "in the profile file to match)",
      );
      cycles = 0;
    }
    if (cycles === current) continue;
    const cost: CostSpec = {
      cycles,
      kind: "derived",
      basis: `vmexit ${tests.join(", ")} cycles (${source}) minus the other steps of the flow`,
    };
    spec.costs[step] = cost;
    moved = true;
  }
  return moved;
}
