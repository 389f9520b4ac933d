import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { DOMAINS } from "../../src/host/primitives.ts";
import { decodeTimeline, encodeTimeline } from "../../src/report/timeline_file.ts";
import { designSetup } from "../../src/scenario/load.ts";
import { simulate } from "../../src/scenario/run.ts";
import { load, scenario } from "../helpers.ts";

const json = scenario({
  host: { pcpus: 3 },
  guests: [{
    vcpus: 4,
    workloads: [
      { kind: "loop", operation: "ipi", iterations: 30, vcpus: [0] },
      { kind: "loop", operation: "pio-read", iterations: 60, vcpus: [1, 2, 3] },
    ],
  }],
  designs: ["vmx.io-in-vmm"],
});

function record(maxSpans = 1_000_000, startCycles = 0, endCycles = Infinity) {
  const loaded = load(json);
  const result = simulate(loaded, "vmx.io-in-vmm", {
    timeline: { startCycles, endCycles, maxSpans },
  });
  const clock = designSetup(loaded, "vmx.io-in-vmm").scenario.host.clockGHz;
  const data = decodeTimeline(
    encodeTimeline(result.timeline!, clock, result.summary.run.simulatedCycles),
  );
  return { ...result, data };
}

Deno.test("recording changes nothing in the summary", () => {
  const plain = simulate(load(json), "vmx.io-in-vmm").summary;
  strictEqual(JSON.stringify(record().summary), JSON.stringify(plain));
});

Deno.test("each thread's steps tile its lane and match its accounts", () => {
  const { data, summary } = record();
  const { steps, meta } = data;
  for (const vcpu of summary.vcpus) {
    const lane = meta.lanes.findIndex((l) => l.name === vcpu.name);
    let cursor = 0;
    const byDomain = Object.fromEntries(DOMAINS.map((d) => [d, 0]));
    for (let i = 0; i < meta.counts.steps; i++) {
      if (steps.lane[i] !== lane) continue;
      strictEqual(steps.start[i], cursor, `${vcpu.name}: a gap or overlap at ${cursor}`);
      cursor += steps.duration[i];
      byDomain[meta.primitives[steps.prim[i]].domain] += steps.duration[i];
    }
    strictEqual(cursor, summary.run.simulatedCycles, vcpu.name);
    deepStrictEqual(byDomain, vcpu.byDomain, vcpu.name);
  }
});

Deno.test("operation spans contain their steps; exits, pCPU holds and IPI flows are recorded", () => {
  const { data, summary } = record();
  const { operations, steps, meta } = data;
  strictEqual(meta.counts.operations, 30 + 3 * 60);
  for (let i = 0; i < meta.counts.steps; i++) {
    const op = steps.op[i];
    if (op < 0) continue;
    // The step lies inside an operation span of the same lane and kind.
    let inside = false;
    for (let k = 0; k < meta.counts.operations && !inside; k++) {
      inside = operations.lane[k] === steps.lane[i] && operations.op[k] === op &&
        operations.start[k] <= steps.start[i] &&
        steps.start[i] + steps.duration[i] <= operations.start[k] + operations.duration[k];
    }
    ok(inside, `step ${i} outside its operation`);
  }
  strictEqual(meta.counts.instants, summary.totals.exits);
  const pcpuLanes = meta.lanes.flatMap((l, i) => l.kind === "pcpu" ? [i] : []);
  strictEqual(pcpuLanes.length, 3);
  ok(meta.counts.occupancy > 0);
  const ipiFlows = Array.from(data.flows.kind).filter((k) => k === 0).length;
  strictEqual(ipiFlows, 30, "one interrupt arrow per IPI");
  ok(meta.counters.includes("host/run queue"));
});

Deno.test("a window and a span limit bound the recording", () => {
  const full = record();
  const windowed = record(1_000_000, 100_000, 200_000);
  ok(windowed.data.meta.counts.steps < full.data.meta.counts.steps);
  for (let i = 0; i < windowed.data.meta.counts.steps; i++) {
    const { start, duration } = windowed.data.steps;
    ok(start[i] <= 200_000 && start[i] + duration[i] >= 100_000);
  }
  const capped = record(500);
  const meta = capped.data.meta;
  ok(meta.truncatedAtCycles !== null);
  // Only spans already under way at the cut may follow: at most two per lane.
  const spans = meta.counts.steps + meta.counts.operations + meta.counts.occupancy;
  ok(spans <= 500 + 2 * meta.lanes.length, `${spans} spans`);
  // Up to the cut the timeline is complete: each vCPU's steps tile [0, cut).
  const cut = meta.truncatedAtCycles!;
  meta.lanes.forEach((lane, id) => {
    if (lane.kind !== "vcpu") return;
    let cursor = 0;
    for (let i = 0; i < meta.counts.steps; i++) {
      if (capped.data.steps.lane[i] !== id || capped.data.steps.start[i] >= cut) continue;
      strictEqual(capped.data.steps.start[i], cursor, `${lane.name} has a gap before the cut`);
      cursor += capped.data.steps.duration[i];
    }
    ok(cursor >= cut, `${lane.name} recorded up to ${cursor}, cut at ${cut}`);
  });
});

Deno.test("the timeline file round-trips", () => {
  const { data, timeline } = record();
  strictEqual(data.meta.counts.steps, timeline!.steps.count);
  deepStrictEqual(
    Array.from(data.steps.start.subarray(0, 50)),
    Array.from(timeline!.steps.column(3).subarray(0, 50)),
  );
  deepStrictEqual(data.meta.lanes, timeline!.lanes);
});
