/**
 * Outcomes on the timeline (timeline.bin's header), in trace.json (scoped instants) and in
 * trace-cmd.txt (comments), from real runs that end in SIGBUS, a terminated guest and a
 * host panic; the per-lane span counts; reading version 1 files.
 */
import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import { parseTraceText } from "../../src/import/trace_text.ts";
import { chromeTrace } from "../../src/report/perfetto.ts";
import {
  decodeTimeline,
  encodeTimeline,
  type TimelineData,
} from "../../src/report/timeline_file.ts";
import { traceCmdText } from "../../src/report/trace_cmd.ts";
import { designSetup } from "../../src/scenario/load.ts";
import { simulate } from "../../src/scenario/run.ts";
import { load } from "../helpers.ts";
import { sigbusScenario } from "./outcome_fixture.ts";

type Event = Record<string, unknown> & { ph: string; s?: string; pid?: number; tid?: number };

function record(
  virtio: "vmm" | "daemon" | "vhost",
  { maxSpans = 1_000_000, startCycles = 0, endCycles = Infinity } = {},
) {
  const loaded = load(sigbusScenario(virtio));
  const result = simulate(loaded, "snp.sigbus", {
    timeline: { startCycles, endCycles, maxSpans },
  });
  const clockGHz = designSetup(loaded, "snp.sigbus").scenario.host.clockGHz;
  const bytes = encodeTimeline(result.timeline!, clockGHz, result.summary.run.simulatedCycles);
  return { ...result, clockGHz, bytes, data: decodeTimeline(bytes) };
}

function traceEvents(data: TimelineData): Event[] {
  return JSON.parse(chromeTrace(data)).traceEvents;
}

Deno.test("a SIGBUS that takes the guest with it is on the timeline: time, lane, VM", () => {
  const { data, summary, clockGHz } = record("vmm");
  const { meta } = data;
  strictEqual(meta.version, 2);
  deepStrictEqual(
    meta.outcomes.map((o) => [o.kind, o.label, o.subject]),
    [
      ["sigbus", "SIGBUS", "vm0/iothread"],
      ["guest-terminated", "guest terminated", "vm0"],
      ["service-lost", "service lost", "vm0"],
    ],
  );
  // The same events as the summary's, at the same times.
  deepStrictEqual(
    meta.outcomes.map((o) => [o.kind, o.subject, o.cause]),
    summary.outcomes.events.map((e) => [e.kind, e.subject, e.cause]),
  );
  for (const [i, outcome] of meta.outcomes.entries()) {
    const atMs = outcome.timeCycles / (clockGHz * 1e6);
    ok(Math.abs(atMs - summary.outcomes.events[i].atMs) < 1e-6, `${outcome.kind} at ${atMs} ms`);
    ok(outcome.timeCycles > 0 && outcome.timeCycles < meta.simulatedCycles);
  }
  // The process killed is a thread: its own lane. The guest is a VM: its lanes' group.
  const [sigbus, terminated] = meta.outcomes;
  strictEqual(meta.lanes[sigbus.lane!].name, "vm0/iothread");
  strictEqual(sigbus.group, "vm0");
  strictEqual(terminated.lane, null);
  strictEqual(terminated.group, "vm0");
});

Deno.test("outcomes stay on the timeline after the span limit's cut and outside the window", () => {
  const full = record("vmm").data.meta.outcomes;
  const capped = record("vmm", { maxSpans: 300 }).data.meta;
  ok(capped.truncatedAtCycles !== null && capped.truncatedAtCycles < full[0].timeCycles);
  deepStrictEqual(capped.outcomes, full);
  const early = record("vmm", { endCycles: 1_000_000 }).data.meta;
  strictEqual(early.truncatedAtCycles, null);
  deepStrictEqual(early.outcomes, full);
});

Deno.test("recording outcomes on the timeline changes nothing in the summary", () => {
  const loaded = load(sigbusScenario("vmm"));
  const plain = simulate(loaded, "snp.sigbus").summary;
  strictEqual(JSON.stringify(record("vmm").summary), JSON.stringify(plain));
  ok(plain.outcomes.events.length === 3);
});

Deno.test("trace.json: outcomes are instants scoped to the thread, the VM's process or everything", () => {
  const check = (virtio: "vmm" | "daemon" | "vhost") => {
    const { data } = record(virtio);
    const events = traceEvents(data);
    const threadName = (pid: number, tid: number) =>
      events.find((e) => e.ph === "M" && e.name === "thread_name" && e.pid === pid && e.tid === tid)
        ?.args as { name: string } | undefined;
    const processName = (pid: number) =>
      (events.find((e) => e.ph === "M" && e.name === "process_name" && e.pid === pid)
        ?.args as { name: string } | undefined)?.name;
    const outcomes = events.filter((e) => e.cat === "outcome");
    strictEqual(outcomes.length, data.meta.outcomes.length, virtio);
    for (const [i, event] of outcomes.entries()) {
      const outcome = data.meta.outcomes[i];
      strictEqual(event.ph, "i");
      strictEqual(event.ts, Math.round(outcome.timeCycles / data.meta.clockGHz) / 1000);
      deepStrictEqual(event.args, {
        kind: outcome.kind,
        subject: outcome.subject,
        cause: outcome.cause,
      });
      strictEqual(event.name, `${outcome.label}: ${outcome.subject}`);
    }
    return outcomes.map((e) => {
      if (e.s === "t") return ["t", threadName(e.pid!, e.tid!)?.name, e.name];
      if (e.s === "p") return ["p", processName(e.pid!), e.name];
      return [e.s, null, e.name];
    });
  };
  deepStrictEqual(check("vmm"), [
    ["t", "vm0/iothread", "SIGBUS: vm0/iothread"],
    ["p", "vm0", "guest terminated: vm0"],
    ["p", "vm0", "service lost: vm0"],
  ]);
  deepStrictEqual(check("daemon"), [
    ["t", "host/net-daemon", "SIGBUS: host/net-daemon"],
    ["p", "vm0", "service lost: vm0"],
  ]);
  deepStrictEqual(check("vhost"), [
    ["g", null, "host panic: host"],
    ["p", "vm0", "service lost: vm0"],
  ]);
});

Deno.test("trace-cmd.txt: outcomes are comments that import skips", () => {
  const { data } = record("vmm");
  const text = traceCmdText(data, "svm");
  const comments = text.split("\n").filter((line) => line.startsWith("# outcome at "));
  strictEqual(comments.length, 3);
  ok(comments[0].includes("SIGBUS vm0/iothread (vm0/iothread wrote private page"), comments[0]);
  const parsed = parseTraceText(text);
  deepStrictEqual(parsed.problems, []);
  ok(parsed.events.kvm_exit > 0);
});

Deno.test("laneSpans counts each lane's spans; lanes nothing ran on have 0", () => {
  const { data } = record("vmm");
  const { meta } = data;
  const counted = meta.lanes.map(() => 0);
  for (const table of [data.steps, data.operations, data.occupancy]) {
    for (const lane of table.lane) counted[lane]++;
  }
  deepStrictEqual(meta.laneSpans, counted);
  ok(meta.laneSpans.some((n) => n === 0), "this run has an empty lane (a lock never taken)");
  ok(meta.laneSpans.some((n) => n > 100));
});

Deno.test("a version 1 timeline file still reads (no outcomes, lane counts worked out); others do not", () => {
  const { bytes, data } = record("vmm");
  // Rewrite the file as version 1 wrote it: the header without laneSpans and outcomes.
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const headerLength = view.getUint32(8, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerLength)));
  delete header.laneSpans;
  delete header.outcomes;
  header.version = 1;
  const oldHeader = new TextEncoder().encode(JSON.stringify(header));
  const align8 = (n: number) => (n + 7) & ~7;
  const columns = bytes.subarray(align8(12 + headerLength));
  const old = new Uint8Array(align8(12 + oldHeader.length) + columns.length);
  old.set(bytes.subarray(0, 4));
  new DataView(old.buffer).setUint32(4, 1, true);
  new DataView(old.buffer).setUint32(8, oldHeader.length, true);
  old.set(oldHeader, 12);
  old.set(columns, align8(12 + oldHeader.length));
  const read = decodeTimeline(old);
  strictEqual(read.meta.version, 1);
  deepStrictEqual(read.meta.outcomes, []);
  deepStrictEqual(read.meta.laneSpans, data.meta.laneSpans);
  deepStrictEqual(Array.from(read.steps.start), Array.from(data.steps.start));
  strictEqual(traceEvents(read).filter((e) => e.cat === "outcome").length, 0);
  // A version this cvmsim does not know is refused with what to do.
  const future = bytes.slice();
  new DataView(future.buffer).setUint32(4, 99, true);
  throws(() => decodeTimeline(future), /timeline file version 99, this cvmsim reads 1 and 2/);
});
