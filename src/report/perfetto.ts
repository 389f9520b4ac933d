/**
 * Chrome Trace Event JSON from a timeline, for Perfetto (ui.perfetto.dev opens it) and
 * chrome://tracing.
 *
 * - Each lane group (a VM, the host) is a process; each lane a named thread, in lane order.
 * - Guest operations are slices with their steps nested inside; occupancy spans are
 *   slices on pCPU and lock threads, named after the holder.
 * - Exits are thread-scoped instants; queue lengths are counters; interrupts and kicks are
 *   flow arrows from the sender's slice to the receiver's.
 * - Outcomes (SIGBUS, a guest terminated, service lost, a host panic) are instants scoped
 *   to what they hit: the thread ("s":"t"), the VM's process ("s":"p") or everything
 *   ("s":"g"), category "outcome", with the subject and cause in args.
 * - Timestamps are microseconds with nanosecond decimals. Each boundary is rounded to a
 *   whole nanosecond once, so nested slices stay nested after rounding.
 *
 * @module
 */

import type { TimelineData } from "./timeline_file.ts";

/** Yields the trace as JSON text in chunks (a large trace is never one string). */
export function* chromeTraceChunks(data: TimelineData, chunkEvents = 2000): Generator<string> {
  const { meta } = data;
  const ghz = meta.clockGHz;
  const ns = (cycles: number) => Math.round(cycles / ghz);
  const us = (nanos: number) => nanos / 1000;
  const groups = [...new Set(meta.lanes.map((lane) => lane.group))];
  const pidOf = (lane: number) => groups.indexOf(meta.lanes[lane].group) + 1;
  const tidOf = (lane: number) => lane + 1;
  const hostPid = groups.includes("host") ? groups.indexOf("host") + 1 : groups.length + 1;
  let buffer: string[] = [];
  let first = true;
  const emit = function* (event: Record<string, unknown>): Generator<string> {
    buffer.push((first ? "" : ",\n") + JSON.stringify(event));
    first = false;
    if (buffer.length >= chunkEvents) {
      yield buffer.join("");
      buffer = [];
    }
  };
  yield '{"displayTimeUnit":"ns","otherData":' +
    JSON.stringify({
      generator: "cvmsim",
      clockGHz: ghz,
      simulatedCycles: meta.simulatedCycles,
      truncatedAtCycles: meta.truncatedAtCycles,
      outcomes: meta.outcomes.length,
    }) + ',"traceEvents":[\n';
  // Names of processes and threads, and their order.
  for (const [i, group] of groups.entries()) {
    yield* emit({ ph: "M", name: "process_name", pid: i + 1, args: { name: group } });
    yield* emit({ ph: "M", name: "process_sort_index", pid: i + 1, args: { sort_index: i } });
  }
  for (const [lane, info] of meta.lanes.entries()) {
    const base = { pid: pidOf(lane), tid: tidOf(lane) };
    yield* emit({ ph: "M", name: "thread_name", ...base, args: { name: info.name } });
    yield* emit({ ph: "M", name: "thread_sort_index", ...base, args: { sort_index: lane } });
  }
  // Slices, sorted per thread by (start, longest first) so parents precede children.
  type Slice = { lane: number; start: number; end: number; event: Record<string, unknown> };
  const slices: Slice[] = [];
  const { operations, steps, occupancy } = data;
  for (let i = 0; i < meta.counts.operations; i++) {
    const start = ns(operations.start[i]);
    const end = ns(operations.start[i] + operations.duration[i]);
    slices.push({
      lane: operations.lane[i],
      start,
      end,
      event: {
        name: meta.operations[operations.op[i]],
        cat: "operation",
        args: { cycles: operations.duration[i] },
      },
    });
  }
  for (let i = 0; i < meta.counts.steps; i++) {
    const start = ns(steps.start[i]);
    const end = ns(steps.start[i] + steps.duration[i]);
    const prim = meta.primitives[steps.prim[i]];
    const op = steps.op[i];
    slices.push({
      lane: steps.lane[i],
      start,
      end,
      event: {
        name: prim.name,
        cat: prim.domain,
        args: op >= 0
          ? { cycles: steps.duration[i], operation: meta.operations[op] }
          : { cycles: steps.duration[i] },
      },
    });
  }
  for (let i = 0; i < meta.counts.occupancy; i++) {
    const start = ns(occupancy.start[i]);
    const end = ns(occupancy.start[i] + occupancy.duration[i]);
    const holder = occupancy.holder[i];
    slices.push({
      lane: occupancy.lane[i],
      start,
      end,
      event: {
        name: holder >= 0 ? meta.lanes[holder].name : "held",
        cat: meta.lanes[occupancy.lane[i]].kind,
        args: { cycles: occupancy.duration[i] },
      },
    });
  }
  slices.sort((a, b) => a.lane - b.lane || a.start - b.start || b.end - a.end);
  for (const slice of slices) {
    yield* emit({
      ph: "X",
      pid: pidOf(slice.lane),
      tid: tidOf(slice.lane),
      ts: us(slice.start),
      dur: us(slice.end - slice.start),
      ...slice.event,
    });
  }
  const { instants, samples, flows } = data;
  for (let i = 0; i < meta.counts.instants; i++) {
    const lane = instants.lane[i];
    yield* emit({
      ph: "i",
      s: "t",
      name: `exit ${meta.exitReasons[instants.detail[i]]}`,
      cat: "exit",
      pid: pidOf(lane),
      tid: tidOf(lane),
      ts: us(ns(instants.time[i])),
    });
  }
  for (const outcome of meta.outcomes) {
    const scope = outcome.lane !== null
      ? { s: "t", pid: pidOf(outcome.lane), tid: tidOf(outcome.lane) }
      : outcome.group !== null
      ? { s: "p", pid: groups.indexOf(outcome.group) + 1 }
      : { s: "g", pid: hostPid };
    yield* emit({
      ph: "i",
      ...scope,
      name: `${outcome.label}: ${outcome.subject}`,
      cat: "outcome",
      ts: us(ns(outcome.timeCycles)),
      args: { kind: outcome.kind, subject: outcome.subject, cause: outcome.cause },
    });
  }
  for (let i = 0; i < meta.counts.samples; i++) {
    yield* emit({
      ph: "C",
      name: meta.counters[samples.counter[i]],
      pid: hostPid,
      ts: us(ns(samples.time[i])),
      args: { length: samples.value[i] },
    });
  }
  for (let i = 0; i < meta.counts.flows; i++) {
    const name = meta.flowKinds[flows.kind[i]];
    const from = flows.fromLane[i];
    const to = flows.toLane[i];
    // Bind just inside the sender's last step and the receiver's reaction.
    yield* emit({
      ph: "s",
      id: i + 1,
      name,
      cat: "flow",
      pid: pidOf(from),
      tid: tidOf(from),
      ts: us(Math.max(0, ns(flows.fromTime[i]) - 1)),
    });
    yield* emit({
      ph: "f",
      bp: "e",
      id: i + 1,
      name,
      cat: "flow",
      pid: pidOf(to),
      tid: tidOf(to),
      ts: us(ns(flows.toTime[i]) + 1),
    });
  }
  buffer.push("\n]}\n");
  yield buffer.join("");
}

/** The whole trace as one string (for tests and small timelines). */
export function chromeTrace(data: TimelineData): string {
  return [...chromeTraceChunks(data)].join("");
}
