/**
 * Windowed queries over a report's timeline: the spans of some lanes between two times,
 * or — when the window holds more than the client can draw — the time each lane spent in
 * each domain per pixel-sized bucket (server-side aggregation).
 *
 * Spans of one lane never overlap and are recorded in time order, so a per-lane index
 * (built once, O(n)) and a binary search find a window's first span.
 *
 * @module
 */

import type { TimelineData } from "../report/timeline_file.ts";

/** A windowed query. */
export interface TimelineQuery {
  fromCycles: number;
  toCycles: number;
  /** Lanes to return (all when undefined). */
  lanes?: number[];
  /** Most spans to return before aggregating instead. */
  maxSpans: number;
  /** Buckets per lane when aggregating (the client's width in pixels). */
  buckets: number;
}

/** The answer to a windowed query. */
export interface TimelineWindow {
  fromCycles: number;
  toCycles: number;
  lanes: number[];
  /** True when `buckets` replace `steps` and `occupancy`. */
  aggregated: boolean;
  /** Spans clipped to the window: [lane, primitive, operation, start, duration]. */
  steps: number[][];
  /** [lane, holder lane, start, duration]. */
  occupancy: number[][];
  /** [lane, operation, start, duration]. */
  operations: number[][];
  /**
   * When aggregated: per lane, two characters per bucket: the index in `domains` of the
   * domain that took most of the bucket ("-" for none), then how much of the bucket was
   * recorded at all, in tenths ("0".."9", "a" for all of it). The last domain, "busy",
   * is a pCPU or lock lane being held. Compact on purpose: lanes × pixels cells.
   */
  buckets: { lane: number; cells: string }[];
  bucketCycles: number;
  domains: string[];
  /** Exits in the window (capped; none when aggregated): [lane, reason, time]. */
  instants: number[][];
  /** Flows in the window (none when aggregated): [kind, from lane, from time, to lane, to time]. */
  flows: number[][];
  /** Spans in the window over the selected lanes (before aggregation). */
  spanCount: number;
}

/** Most instants and flows returned for one window. */
const MAX_POINTS = 5000;

interface LaneIndex {
  offsets: Int32Array;
  rows: Int32Array;
}

/** A timeline with its per-lane indexes, ready for windowed queries. */
export class TimelineIndex {
  readonly data: TimelineData;
  readonly domains: string[];
  readonly #domainOfPrim: Int32Array;
  readonly #steps: LaneIndex;
  readonly #operations: LaneIndex;
  readonly #occupancy: LaneIndex;

  constructor(data: TimelineData) {
    this.data = data;
    const laneCount = data.meta.lanes.length;
    this.domains = [...new Set(data.meta.primitives.map((p) => p.domain))];
    this.#domainOfPrim = Int32Array.from(
      data.meta.primitives,
      (p) => this.domains.indexOf(p.domain),
    );
    this.#steps = byLane(data.steps.lane, laneCount);
    this.#operations = byLane(data.operations.lane, laneCount);
    this.#occupancy = byLane(data.occupancy.lane, laneCount);
  }

  /** Answers a windowed query. */
  query(query: TimelineQuery): TimelineWindow {
    const { data } = this;
    const from = query.fromCycles;
    const to = query.toCycles;
    const lanes = query.lanes ?? data.meta.lanes.map((_, i) => i);
    const stepRanges = lanes.map((lane) =>
      window(this.#steps, lane, data.steps.start, data.steps.duration, from, to)
    );
    const occupancyRanges = lanes.map((lane) =>
      window(this.#occupancy, lane, data.occupancy.start, data.occupancy.duration, from, to)
    );
    const spanCount = [...stepRanges, ...occupancyRanges].reduce((n, [a, b]) => n + b - a, 0);
    const aggregated = spanCount > query.maxSpans;
    const result: TimelineWindow = {
      fromCycles: from,
      toCycles: to,
      lanes,
      aggregated,
      steps: [],
      occupancy: [],
      operations: [],
      buckets: [],
      bucketCycles: 0,
      domains: this.domains,
      instants: [],
      flows: [],
      spanCount,
    };
    if (aggregated) {
      this.#aggregate(result, lanes, stepRanges, occupancyRanges, query.buckets);
    } else {
      lanes.forEach((lane, i) => {
        const [a, b] = stepRanges[i];
        for (let k = a; k < b; k++) {
          const row = this.#steps.rows[k];
          result.steps.push([
            lane,
            data.steps.prim[row],
            data.steps.op[row],
            data.steps.start[row],
            data.steps.duration[row],
          ]);
        }
        const [c, d] = occupancyRanges[i];
        for (let k = c; k < d; k++) {
          const row = this.#occupancy.rows[k];
          result.occupancy.push([
            lane,
            data.occupancy.holder[row],
            data.occupancy.start[row],
            data.occupancy.duration[row],
          ]);
        }
        const [e, f] = window(
          this.#operations,
          lane,
          data.operations.start,
          data.operations.duration,
          from,
          to,
        );
        for (let k = e; k < f; k++) {
          const row = this.#operations.rows[k];
          result.operations.push([
            lane,
            data.operations.op[row],
            data.operations.start[row],
            data.operations.duration[row],
          ]);
        }
      });
    }
    // Exits and arrows are unreadable at a zoom that needs aggregation: left out then.
    if (!aggregated) this.#points(result, new Set(lanes));
    return result;
  }

  #aggregate(
    result: TimelineWindow,
    lanes: number[],
    stepRanges: [number, number][],
    occupancyRanges: [number, number][],
    bucketCount: number,
  ): void {
    const { data } = this;
    const from = result.fromCycles;
    const width = Math.max(1, (result.toCycles - from) / bucketCount);
    result.bucketCycles = width;
    const domains = this.domains.length;
    // Occupancy (pCPU, lock) lanes count held time in one extra "busy" column.
    result.domains = [...this.domains, "busy"];
    lanes.forEach((lane, i) => {
      const cycles = new Float64Array(bucketCount * (domains + 1));
      const add = (start: number, duration: number, column: number) => {
        let s = Math.max(start, from);
        const end = Math.min(start + duration, result.toCycles);
        while (s < end) {
          const bucket = Math.min(bucketCount - 1, Math.floor((s - from) / width));
          const bucketEnd = from + (bucket + 1) * width;
          const piece = Math.min(end, bucketEnd) - s;
          cycles[bucket * (domains + 1) + column] += piece;
          s += piece;
          if (piece <= 0) break;
        }
      };
      const [a, b] = stepRanges[i];
      for (let k = a; k < b; k++) {
        const row = this.#steps.rows[k];
        add(
          data.steps.start[row],
          data.steps.duration[row],
          this.#domainOfPrim[data.steps.prim[row]],
        );
      }
      const [c, d] = occupancyRanges[i];
      for (let k = c; k < d; k++) {
        const row = this.#occupancy.rows[k];
        add(data.occupancy.start[row], data.occupancy.duration[row], domains);
      }
      let cells = "";
      for (let bucket = 0; bucket < bucketCount; bucket++) {
        let best = -1;
        let total = 0;
        for (let d = 0; d <= domains; d++) {
          const c = cycles[bucket * (domains + 1) + d];
          total += c;
          if (c > 0 && (best < 0 || c > cycles[bucket * (domains + 1) + best])) best = d;
        }
        const tenths = Math.min(10, Math.round((10 * total) / width));
        cells += (best < 0 ? "-" : String(best)) + (tenths === 10 ? "a" : String(tenths));
      }
      result.buckets.push({ lane, cells });
    });
  }

  #points(result: TimelineWindow, lanes: Set<number>): void {
    const { instants, flows, meta } = this.data;
    const from = result.fromCycles;
    const to = result.toCycles;
    for (let i = 0; i < meta.counts.instants && result.instants.length < MAX_POINTS; i++) {
      const time = instants.time[i];
      if (time < from || time > to || !lanes.has(instants.lane[i])) continue;
      result.instants.push([instants.lane[i], instants.detail[i], time]);
    }
    for (let i = 0; i < meta.counts.flows && result.flows.length < MAX_POINTS; i++) {
      const start = flows.fromTime[i];
      const end = flows.toTime[i];
      if (end < from || start > to) continue;
      if (!lanes.has(flows.fromLane[i]) && !lanes.has(flows.toLane[i])) continue;
      result.flows.push([flows.kind[i], flows.fromLane[i], start, flows.toLane[i], end]);
    }
  }
}

/** Groups row numbers by lane, keeping each lane's rows in recorded (time) order. */
function byLane(laneOfRow: Int32Array, laneCount: number): LaneIndex {
  const offsets = new Int32Array(laneCount + 1);
  for (let i = 0; i < laneOfRow.length; i++) offsets[laneOfRow[i] + 1]++;
  for (let lane = 0; lane < laneCount; lane++) offsets[lane + 1] += offsets[lane];
  const fill = offsets.slice(0, laneCount);
  const rows = new Int32Array(laneOfRow.length);
  for (let i = 0; i < laneOfRow.length; i++) rows[fill[laneOfRow[i]]++] = i;
  return { offsets, rows };
}

/** The index range [a, b) of `lane`'s rows that overlap [from, to]. */
function window(
  index: LaneIndex,
  lane: number,
  start: Float64Array,
  duration: Float64Array,
  from: number,
  to: number,
): [number, number] {
  const first = index.offsets[lane];
  const last = index.offsets[lane + 1];
  // First row that ends after `from` (rows end in order: they do not overlap).
  let lo = first;
  let hi = last;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const row = index.rows[mid];
    if (start[row] + duration[row] <= from) lo = mid + 1;
    else hi = mid;
  }
  const a = lo;
  // First row that starts after `to`.
  hi = last;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (start[index.rows[mid]] <= to) lo = mid + 1;
    else hi = mid;
  }
  return [a, lo];
}
