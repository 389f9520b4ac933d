/**
 * The timeline's file format (`timeline.bin` in a report): a small JSON header (names,
 * lanes, counts, clock) followed by each table's columns as raw little-endian typed
 * arrays, 8-byte aligned, so a reader maps a million spans without parsing them.
 *
 * Layout: "CVTL" · u32 version · u32 header length · header JSON · padding to 8 ·
 * columns in the order of {@linkcode TABLES}.
 *
 * Version 2 added `outcomes` (what failures did, with time and lane) and `laneSpans` to the
 * header; version 1 files still read, with no outcomes and the lane counts worked out.
 *
 * @module
 */

import { EXIT_REASON_NAMES } from "../host/exit_reasons.ts";
import { OPERATION_NAMES } from "../host/operations.ts";
import { PRIMITIVE_NAMES, PRIMITIVE_SPECS } from "../host/primitives.ts";
import type { Lane, Timeline, TimelineOutcome } from "./timeline.ts";

const MAGIC = "CVTL";
const VERSION = 2;
/** Versions {@linkcode decodeTimeline} reads. */
const READABLE = [1, 2];

/** Tables and their columns, in file order. */
export const TABLES = {
  steps: { lane: "i32", prim: "i32", op: "i32", start: "f64", duration: "f64" },
  operations: { lane: "i32", op: "i32", start: "f64", duration: "f64" },
  occupancy: { lane: "i32", holder: "i32", start: "f64", duration: "f64" },
  instants: { lane: "i32", kind: "i32", detail: "i32", time: "f64" },
  samples: { counter: "i32", time: "f64", value: "f64" },
  flows: { kind: "i32", fromLane: "i32", fromTime: "f64", toLane: "i32", toTime: "f64" },
} as const;

type Tables = typeof TABLES;
type ColumnType<K extends "i32" | "f64"> = K extends "i32" ? Int32Array : Float64Array;

/** A table's columns by name. */
export type TableData<T extends keyof Tables> = {
  [C in keyof Tables[T]]: Tables[T][C] extends "i32" | "f64" ? ColumnType<Tables[T][C]> : never;
};

/** What the header of a timeline file holds. */
export interface TimelineMeta {
  version: number;
  clockGHz: number;
  /** The recorded window, in cycles (end: the run's end when recording to the end). */
  window: { startCycles: number; endCycles: number };
  simulatedCycles: number;
  /** Set when recording stopped early because the span limit was reached. */
  truncatedAtCycles: number | null;
  maxSpans: number;
  lanes: Lane[];
  /** Spans (steps, operations, occupancy) recorded per lane: 0 for a lane with none. */
  laneSpans: number[];
  /** What failures did, in time order (kept whatever the window and the span limit). */
  outcomes: TimelineOutcome[];
  counters: string[];
  flowKinds: string[];
  primitives: { name: string; domain: string }[];
  operations: string[];
  exitReasons: string[];
  counts: Record<keyof Tables, number>;
}

/** A timeline read back: header and column views. */
export interface TimelineData {
  meta: TimelineMeta;
  steps: TableData<"steps">;
  operations: TableData<"operations">;
  occupancy: TableData<"occupancy">;
  instants: TableData<"instants">;
  samples: TableData<"samples">;
  flows: TableData<"flows">;
}

/** Turns a finished recording into file bytes. */
export function encodeTimeline(
  timeline: Timeline,
  clockGHz: number,
  simulatedCycles: number,
): Uint8Array {
  const recorded = {
    steps: timeline.steps,
    operations: timeline.operations,
    occupancy: timeline.occupancy,
    instants: timeline.instants,
    samples: timeline.samples,
    flows: timeline.flows,
  };
  const counts = Object.fromEntries(
    Object.entries(recorded).map(([name, columns]) => [name, columns.count]),
  ) as Record<keyof Tables, number>;
  const meta: TimelineMeta = {
    version: VERSION,
    clockGHz,
    window: {
      startCycles: timeline.options.startCycles,
      endCycles: Math.min(timeline.options.endCycles, simulatedCycles),
    },
    simulatedCycles,
    truncatedAtCycles: timeline.truncatedAtCycles ?? null,
    maxSpans: timeline.options.maxSpans,
    lanes: timeline.lanes,
    laneSpans: spansPerLane(
      timeline.lanes.length,
      [timeline.steps, timeline.operations, timeline.occupancy].map((t) =>
        t.column(0) as Int32Array
      ),
    ),
    outcomes: [...timeline.outcomes].sort((a, b) => a.timeCycles - b.timeCycles),
    counters: timeline.counters,
    flowKinds: timeline.flowKinds,
    primitives: PRIMITIVE_NAMES.map((name, id) => ({ name, domain: PRIMITIVE_SPECS[id].domain })),
    operations: [...OPERATION_NAMES],
    exitReasons: [...EXIT_REASON_NAMES],
    counts,
  };
  const header = new TextEncoder().encode(JSON.stringify(meta));
  const headerEnd = align8(12 + header.length);
  const columns: (Int32Array | Float64Array)[] = [];
  for (const name of Object.keys(TABLES) as (keyof Tables)[]) {
    const table = recorded[name];
    Object.keys(TABLES[name]).forEach((_, i) => columns.push(table.column(i)));
  }
  const total = columns.reduce((end, column) => align8(end + column.byteLength), headerEnd);
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  bytes.set(new TextEncoder().encode(MAGIC), 0);
  view.setUint32(4, VERSION, true);
  view.setUint32(8, header.length, true);
  bytes.set(header, 12);
  let offset = headerEnd;
  for (const column of columns) {
    bytes.set(new Uint8Array(column.buffer, column.byteOffset, column.byteLength), offset);
    offset = align8(offset + column.byteLength);
  }
  return bytes;
}

/** Reads timeline file bytes (column views share the buffer). @throws on a bad file. */
export function decodeTimeline(bytes: Uint8Array): TimelineData {
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 4)) !== MAGIC) {
    throw new Error("not a cvmsim timeline file");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(4, true);
  if (!READABLE.includes(version)) {
    throw new Error(
      `timeline file version ${version}, this cvmsim reads ${READABLE.join(" and ")}: ` +
        "rerun the scenario to remake it",
    );
  }
  const headerLength = view.getUint32(8, true);
  const meta = JSON.parse(
    new TextDecoder().decode(bytes.subarray(12, 12 + headerLength)),
  ) as TimelineMeta;
  // Copy into an 8-aligned buffer if the bytes do not start at an aligned offset.
  const base = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
  let offset = align8(12 + headerLength);
  const data: Record<string, Record<string, Int32Array | Float64Array>> = {};
  for (const name of Object.keys(TABLES) as (keyof Tables)[]) {
    const count = meta.counts[name];
    data[name] = {};
    for (const [column, type] of Object.entries(TABLES[name])) {
      const size = type === "i32" ? 4 : 8;
      if (offset + count * size > base.byteLength) throw new Error("truncated timeline file");
      data[name][column] = type === "i32"
        ? new Int32Array(base.buffer, base.byteOffset + offset, count)
        : new Float64Array(base.buffer, base.byteOffset + offset, count);
      offset = align8(offset + count * size);
    }
  }
  if (version === 1) {
    meta.outcomes = [];
    meta.laneSpans = spansPerLane(
      meta.lanes.length,
      [data.steps.lane, data.operations.lane, data.occupancy.lane] as Int32Array[],
    );
  }
  return { meta, ...data } as unknown as TimelineData;
}

/** Rows per lane over some tables' lane columns. */
function spansPerLane(laneCount: number, laneColumns: Int32Array[]): number[] {
  const counts = new Array<number>(laneCount).fill(0);
  for (const column of laneColumns) for (const lane of column) counts[lane]++;
  return counts;
}

function align8(n: number): number {
  return (n + 7) & ~7;
}
