/**
 * Scale: the shipped scale scenarios (scenarios/scale/) run with bounded memory. They are
 * shortened here; `deno task sim run scenarios/scale/<name>.json` runs them in full.
 */
import { ok, strictEqual } from "node:assert/strict";
import { DOMAINS } from "../../src/host/primitives.ts";
import { run } from "../helpers.ts";

const GiB = 1024 ** 3;

function scaleScenario(name: string): Record<string, unknown> {
  return JSON.parse(Deno.readTextFileSync(`scenarios/scale/${name}.json`));
}

/** Heap plus memory outside it (typed arrays) of this isolate. */
function memoryBytes(): number {
  const usage = Deno.memoryUsage();
  return usage.heapUsed + usage.external;
}

Deno.test("a 1 TiB guest runs in well under 1 GiB: page state is a byte per 4 KiB", () => {
  const json = scaleScenario("scale-1tib") as { guests: { workloads: { durationMs: number }[] }[] };
  json.guests[0].workloads[0].durationMs = 1; // ~1,600 first touches instead of ~32,000
  for (const design of ["vmx.io-in-kernel", "tdx.upstream"]) {
    const before = memoryBytes();
    const { summary } = run(json, design);
    const used = memoryBytes() - before;
    ok(used < GiB, `${design}: ${(used / 2 ** 20).toFixed(0)} MiB`);
    ok(memoryBytes() < GiB, `${design}: isolate at ${(memoryBytes() / 2 ** 20).toFixed(0)} MiB`);
    const touches = summary.operations.touch.count;
    ok(touches > 100, `${touches} touches`); // fewer in a TD: each costs an acceptance
    // Every first touch faults (VMX) or is accepted (TDX): one EPT violation each.
    strictEqual(summary.totals.exitsByReason.EPT_VIOLATION, touches, design);
  }
});

Deno.test("a packed host of 256 pCPUs and 64 guests keeps every vCPU's account whole", () => {
  const json = scaleScenario("scale-host") as { stop: { simulatedMs: number } };
  json.stop.simulatedMs = 10;
  const before = memoryBytes();
  const { summary } = run(json);
  strictEqual(summary.vcpus.length, 256);
  strictEqual(new Set(summary.vcpus.map((v) => v.vm)).size, 64);
  for (const vcpu of summary.vcpus) {
    strictEqual(DOMAINS.reduce((s, d) => s + vcpu.byDomain[d], 0), summary.run.simulatedCycles);
  }
  ok(summary.totals.exits > 256 * 30, `${summary.totals.exits} exits`);
  ok(memoryBytes() - before < 256 * 2 ** 20, "under 256 MiB for the whole host");
});

Deno.test("a long run's summary does not grow with simulated time (fixed-size accounts)", () => {
  const json = scaleScenario("scale-hour") as { stop: { simulatedMs: number } };
  const size = (ms: number) => {
    json.stop.simulatedMs = ms;
    return JSON.stringify(run(json, "vmx.io-in-kernel").summary).length;
  };
  const short = size(50);
  const long = size(500);
  // Ten times the simulated time (and requests): the summary is the same size, give or take
  // a few digits and histogram buckets.
  ok(long < short * 1.2, `${short} bytes for 50 ms, ${long} for 500 ms`);
});
