/**
 * Test helpers: building scenarios in memory and running them.
 *
 * @module
 */

import { strictEqual } from "node:assert/strict";
import { DOMAINS } from "../src/host/primitives.ts";
import type { Summary } from "../src/report/summary.ts";
import { checkScenario, type LoadedScenario } from "../src/scenario/load.ts";
import { simulate, type SimulationResult } from "../src/scenario/run.ts";

/** A small valid scenario; `patch` overrides top-level fields. */
export function scenario(patch: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: "test",
    seed: 7,
    guests: [{
      vcpus: 2,
      workloads: [{ kind: "loop", operation: "cpuid", iterations: 100 }],
    }],
    ...patch,
  };
}

/** Validates `json` (throws ScenarioError when invalid). */
export function load(json: unknown, designs?: string[]): LoadedScenario {
  return checkScenario(structuredClone(json), "", designs === undefined ? {} : { designs });
}

/** Validates and runs `json` under `design` (default: its first design). */
export function run(json: unknown, design?: string): SimulationResult {
  const loaded = load(json, design === undefined ? undefined : [design]);
  return simulate(loaded, loaded.scenario.designs[0]);
}

/** Asserts every vCPU's and host thread's time by domain adds up to the run's length. */
export function assertConserved(summary: Summary): void {
  for (const account of [...summary.vcpus, ...summary.threads]) {
    strictEqual(
      DOMAINS.reduce((s, d) => s + account.byDomain[d], 0),
      summary.run.simulatedCycles,
      account.name,
    );
  }
}
