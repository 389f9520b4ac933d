import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { headlineOf, outcomeText } from "../../src/report/headline.ts";
import { loadScenario } from "../../src/scenario/load.ts";
import { simulate } from "../../src/scenario/run.ts";
import { run, scenario } from "../helpers.ts";

const designs = ["vmx.io-in-kernel", "vmx.io-in-vmm"];
const summaries = (json: Record<string, unknown>) =>
  designs.map((design) => run({ ...json, designs }, design).summary);

Deno.test("fixed work: the headline is the time it took, per design", () => {
  const runs = summaries(scenario({
    guests: [{ vcpus: 1, workloads: [{ kind: "loop", operation: "pio-read", iterations: 200 }] }],
  }));
  const headline = headlineOf(runs);
  strictEqual(headline.metric, "time to finish the work");
  strictEqual(headline.lowerIsBetter, true);
  deepStrictEqual(headline.values, runs.map((s) => s.run.simulatedMs));
});

Deno.test("a run of fixed length: the mean latency of its most frequent operation", () => {
  const runs = summaries(scenario({
    guests: [{
      vcpus: 1,
      workloads: [{
        kind: "mix",
        operations: [
          { operation: "cpuid", ratePerSec: 2000 },
          { operation: "pio-read", ratePerSec: 20000 },
        ],
      }],
    }],
    stop: { when: "time", simulatedMs: 5 },
  }));
  const headline = headlineOf(runs);
  strictEqual(headline.metric, "pio-read mean latency");
  deepStrictEqual(headline.values, runs.map((s) => s.operations["pio-read"].meanCycles));
});

Deno.test("fixed work the guest paces (same time under every design): its operations answer", () => {
  const runs = summaries(scenario({
    guests: [{
      vcpus: 1,
      workloads: [{
        kind: "mix",
        operations: [{ operation: "pio-read", ratePerSec: 10000 }],
        durationMs: 3,
      }],
    }],
  }));
  // Precondition of the rule: the work took the same time under both designs.
  strictEqual(runs[0].run.stop, "workloads-complete");
  strictEqual(runs[0].run.simulatedMs, runs[1].run.simulatedMs);
  strictEqual(headlineOf(runs).metric, "pio-read mean latency");
});

Deno.test("a run without failures has no outcome text", () => {
  const [summary] = summaries(scenario());
  strictEqual(outcomeText(summary), "");
});

Deno.test("a run whose VMM was killed says so in a few words", () => {
  const loaded = loadScenario("scenarios/snp-buggy-dma.json");
  const summary = simulate(loaded, "snp.sigbus").summary;
  strictEqual(outcomeText(summary), "1 killed by SIGBUS");
});

Deno.test("when a failure had effects under any design, the service lost is the headline", () => {
  const loaded = loadScenario("scenarios/snp-buggy-dma.json");
  const runs = loaded.scenario.designs.map((design) => simulate(loaded, design).summary);
  const headline = headlineOf(runs);
  strictEqual(headline.metric, "service lost, summed over VMs");
  strictEqual(headline.lowerIsBetter, true);
  deepStrictEqual(
    headline.values,
    runs.map((s) => s.outcomes.serviceLoss.reduce((sum, loss) => sum + loss.downMs, 0)),
  );
  // The design that kills the shared daemon takes every guest's network with it.
  const byDesign = Object.fromEntries(runs.map((s, i) => [s.design.name, headline.values[i]!]));
  strictEqual(byDesign["snp.upstream"], 0);
  ok(byDesign["snp.sigbus"] > byDesign["snp.auto-convert"], JSON.stringify(byDesign));
});
