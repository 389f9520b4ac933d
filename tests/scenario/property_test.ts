/**
 * Property: any mutation of a valid scenario either runs (and conserves time) or fails
 * with a clean ScenarioError whose issues all have a path and a message — never another
 * exception. Mutations are drawn from a seeded stream, so a failure reproduces.
 */
import { ok, strictEqual } from "node:assert/strict";
import { type Rng, RngStreams } from "../../src/engine/mod.ts";
import { DOMAINS } from "../../src/host/primitives.ts";
import { ScenarioError } from "../../src/scenario/load.ts";
import { simulate } from "../../src/scenario/run.ts";
import { load } from "../helpers.ts";

const VALUES: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1,
  2,
  3,
  1.5,
  1e12,
  -1e9,
  NaN,
  "",
  "x",
  "all",
  "cpuid",
  "pio-read",
  "loop",
  "mix",
  "compute",
  "time",
  "workloads-complete",
  "vmx.io-in-vmm",
  "intel-vmx",
  "exponential",
  [],
  {},
  [0],
  [1, 2],
  { kind: "loop" },
  { operation: "cpuid", ratePerSec: 5 },
];

type Json = unknown;

function paths(value: Json, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [prefix];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...paths(v, [...prefix, i])));
  else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...prefix, k]));
  }
  return out;
}

function mutate(root: Json, rng: Rng): Json {
  const all = paths(root).filter((p) => p.length > 0);
  const path = all[rng.int(0, all.length - 1)];
  let parent = root as Record<string | number, Json>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, Json>;
  const key = path[path.length - 1];
  switch (rng.int(0, 4)) {
    case 0: // delete
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
      break;
    case 1: // replace with a value of any type
      parent[key] = structuredClone(VALUES[rng.int(0, VALUES.length - 1)]);
      break;
    case 2: // an unknown field next to it
      if (!Array.isArray(parent)) parent[`extra${rng.int(0, 9)}`] = 1;
      break;
    case 3: // nudge a number
      if (typeof parent[key] === "number") parent[key] = (parent[key] as number) * rng.int(-2, 3);
      break;
    case 4: // duplicate a list element
      if (Array.isArray(parent)) parent.push(structuredClone(parent[key as number]));
      break;
  }
  return root;
}

const BASES: Json[] = [
  JSON.parse(Deno.readTextFileSync("scenarios/baseline.json")),
  JSON.parse(Deno.readTextFileSync("scenarios/vmexit-inl.json")),
  {
    name: "phases",
    host: { pcpus: 3 },
    guests: [
      {
        vcpus: 2,
        workloads: [{ kind: "compute", durationMs: 0.01 }, {
          kind: "loop",
          operation: "hypercall",
          iterations: 20,
          vcpus: [1],
        }],
      },
      {
        name: "second",
        vcpus: 2,
        workloads: [{
          kind: "mix",
          operations: [{ operation: "pio-write", ratePerSec: 90000 }],
          count: 10,
          spacing: "fixed",
        }],
      },
    ],
    designs: ["vmx.io-in-vmm", "vmx.io-in-kernel"],
  },
];

Deno.test("every mutation of a valid scenario runs or fails with a clean validation error", () => {
  const rng = new RngStreams(2024).stream("scenario-mutations");
  let runs = 0;
  let rejected = 0;
  for (let i = 0; i < 400; i++) {
    let json = structuredClone(BASES[i % BASES.length]);
    const count = rng.int(1, 3);
    for (let m = 0; m < count; m++) json = mutate(json, rng);
    let loaded;
    try {
      loaded = load(json);
    } catch (error) {
      if (!(error instanceof ScenarioError)) {
        throw new Error(`case ${i}: ${JSON.stringify(json)} threw ${error}`);
      }
      ok(error.issues.length > 0, `case ${i}: an error with no issues`);
      for (const issue of error.issues) {
        ok(typeof issue.path === "string" && issue.message.length > 0, `case ${i}`);
        ok(!issue.message.includes("    at "), `case ${i}: stack trace in ${issue.message}`);
      }
      rejected++;
      continue;
    }
    // Valid: run it briefly under its first design and check the accounts still add up.
    loaded.scenario.stop = { when: "time", simulatedMs: 0.05 };
    const { summary } = simulate(loaded, loaded.scenario.designs[0]);
    for (const vcpu of summary.vcpus) {
      const total = DOMAINS.reduce((sum, d) => sum + vcpu.byDomain[d], 0);
      strictEqual(total, summary.run.simulatedCycles, `case ${i}: ${vcpu.name}`);
    }
    runs++;
  }
  // Both outcomes must actually occur, or the property says little.
  ok(runs > 40, `only ${runs} mutated scenarios were valid`);
  ok(rejected > 40, `only ${rejected} mutated scenarios were rejected`);
});
