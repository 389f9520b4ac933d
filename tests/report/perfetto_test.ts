import { ok, strictEqual } from "node:assert/strict";
import { chromeTrace } from "../../src/report/perfetto.ts";
import { decodeTimeline, encodeTimeline } from "../../src/report/timeline_file.ts";
import { simulate } from "../../src/scenario/run.ts";
import { load, scenario } from "../helpers.ts";

type Event = Record<string, unknown> & { ph: string; pid?: number; tid?: number; ts?: number };

function trace(): { displayTimeUnit: string; traceEvents: Event[] } {
  const json = scenario({
    host: { pcpus: 2 }, // three vCPUs and an I/O thread: the run queue has a length
    guests: [{
      vcpus: 3,
      timerHz: 1000,
      workloads: [
        { kind: "loop", operation: "ipi", iterations: 20, vcpus: [0] },
        { kind: "loop", operation: "virtio-rr", iterations: 10, vcpus: [1] },
      ],
    }],
    designs: ["vmx.io-in-vmm"],
  });
  const { summary, timeline } = simulate(load(json), "vmx.io-in-vmm", {
    timeline: { startCycles: 0, endCycles: Infinity, maxSpans: 1_000_000 },
  });
  const data = decodeTimeline(encodeTimeline(timeline!, 2.5, summary.run.simulatedCycles));
  return JSON.parse(chromeTrace(data));
}

Deno.test("the Perfetto trace has named tracks and complete events", () => {
  const { traceEvents, displayTimeUnit } = trace();
  strictEqual(displayTimeUnit, "ns");
  const processes = new Set(
    traceEvents.filter((e) => e.ph === "M" && e.name === "process_name").map((e) => e.pid),
  );
  const threads = new Set(
    traceEvents.filter((e) => e.ph === "M" && e.name === "thread_name").map((e) =>
      `${e.pid}/${e.tid}`
    ),
  );
  for (const event of traceEvents) {
    ok(typeof event.ph === "string");
    if (event.ph === "M") continue;
    ok(typeof event.ts === "number" && event.ts >= 0, JSON.stringify(event));
    ok(processes.has(event.pid), `unnamed process in ${JSON.stringify(event)}`);
    if (event.ph === "C") {
      ok(typeof event.args === "object");
      continue;
    }
    ok(threads.has(`${event.pid}/${event.tid}`), `unnamed thread in ${JSON.stringify(event)}`);
    if (event.ph === "X") {
      ok(typeof event.name === "string" && typeof event.dur === "number" && event.dur >= 0);
    }
  }
  ok(traceEvents.some((e) => e.ph === "X" && e.cat === "operation"));
  ok(traceEvents.some((e) => e.ph === "i" && String(e.name).startsWith("exit ")));
  ok(traceEvents.some((e) => e.ph === "C"));
});

Deno.test("slices nest properly on every track and come in time order", () => {
  const { traceEvents } = trace();
  const byTrack = new Map<string, Event[]>();
  for (const event of traceEvents) {
    if (event.ph !== "X") continue;
    const key = `${event.pid}/${event.tid}`;
    if (!byTrack.has(key)) byTrack.set(key, []);
    byTrack.get(key)!.push(event);
  }
  ok(byTrack.size > 3);
  for (const [track, events] of byTrack) {
    const open: number[] = []; // ends of enclosing slices, in ns
    let lastStart = -1;
    for (const event of events) {
      const start = Math.round((event.ts as number) * 1000);
      const end = start + Math.round((event.dur as number) * 1000);
      ok(start >= lastStart, `${track}: timestamps go back at ${start}`);
      lastStart = start;
      while (open.length > 0 && open[open.length - 1] <= start) open.pop();
      if (open.length > 0) {
        ok(end <= open[open.length - 1], `${track}: slice [${start}, ${end}) overlaps its parent`);
      }
      open.push(end);
    }
  }
});

Deno.test("every flow has a start and a finish with the same id", () => {
  const { traceEvents } = trace();
  const starts = traceEvents.filter((e) => e.ph === "s");
  const finishes = new Map(traceEvents.filter((e) => e.ph === "f").map((e) => [e.id, e]));
  ok(starts.length >= 20, `${starts.length} flows`);
  for (const start of starts) {
    const finish = finishes.get(start.id);
    ok(finish !== undefined, `flow ${start.id} has no finish`);
    ok((finish.ts as number) >= (start.ts as number));
    strictEqual(finish.bp, "e");
  }
});
