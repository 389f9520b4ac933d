/**
 * Running a sweep's points: serially, or in Deno workers (one per job), optionally only
 * one shard of them. Results come back in point order whatever the number of jobs, so a
 * parallel sweep is identical to a serial one.
 *
 * @module
 */

import { checkPoint, type PointResult, runPoint } from "./point.ts";
import { checkPaths, type SweepPoint, sweepPoints, type SweepSpec } from "./spec.ts";
import type { WorkerReply, WorkerRequest } from "./worker.ts";

/** Which part of the points to run: shard `index` of `count` takes every count-th point. */
export interface Shard {
  index: number;
  count: number;
}

/** How to run. */
export interface RunSweepOptions {
  /** Worker count (1: run in this thread). */
  jobs: number;
  shard?: Shard;
  /** Called after each point with (done, total). */
  onProgress?: (done: number, total: number) => void;
  /**
   * A point's result found without running it (a report of the same run already made),
   * or undefined to run it.
   */
  known?: (point: SweepPoint) => PointResult | undefined;
}

/** The points of `shard` (all of them without one). */
export function shardPoints(points: SweepPoint[], shard: Shard | undefined): SweepPoint[] {
  return shard === undefined ? points : points.filter((p) => p.index % shard.count === shard.index);
}

/**
 * Validates every point's scenario before running any, so a bad value fails fast with the
 * point named. @throws ScenarioError (of the first bad point, its message prefixed)
 */
export function checkSweep(spec: SweepSpec, points: SweepPoint[]): void {
  checkPaths(spec);
  const seen = new Set<string>();
  for (const point of points) {
    // Repetitions and designs share validity with their values' first point... except for
    // design/operation compatibility, so check each (values, design) once.
    const key = JSON.stringify([point.values, point.design]);
    if (seen.has(key)) continue;
    seen.add(key);
    try {
      checkPoint(spec, point);
    } catch (error) {
      if (error instanceof Error) {
        error.message = `sweep point ${describePoint(point)}: ${error.message}`;
      }
      throw error;
    }
  }
}

/** "guests[0].vcpus=4, design tdx.upstream" */
export function describePoint(point: SweepPoint): string {
  const values = Object.entries(point.values).map(([path, value]) => `${path}=${value}`);
  return [...values, `design ${point.design}`, `repetition ${point.repetition}`].join(", ");
}

/** Runs the sweep's points (of the shard), in point order. */
export async function runSweep(spec: SweepSpec, options: RunSweepOptions): Promise<PointResult[]> {
  const all = shardPoints(sweepPoints(spec), options.shard);
  checkSweep(spec, all);
  const known = new Map<number, PointResult>();
  if (options.known !== undefined) {
    for (const point of all) {
      const result = options.known(point);
      if (result !== undefined) known.set(point.index, result);
    }
  }
  const points = all.filter((point) => !known.has(point.index));
  const progress = options.onProgress &&
    ((done: number) => options.onProgress!(known.size + done, all.length));
  const jobs = Math.max(1, Math.min(options.jobs, points.length));
  let ran: PointResult[];
  if (jobs === 1) {
    ran = points.map((point, i) => {
      const { result } = runPoint(spec, point);
      progress?.(i + 1);
      return result;
    });
  } else {
    ran = await runInWorkers(spec, points, jobs, progress && ((done) => progress(done)));
  }
  if (known.size === 0) return ran;
  const byIndex = new Map(ran.map((result) => [result.index, result]));
  return all.map((point) => known.get(point.index) ?? byIndex.get(point.index)!);
}

function runInWorkers(
  spec: SweepSpec,
  points: SweepPoint[],
  jobs: number,
  onProgress: RunSweepOptions["onProgress"],
): Promise<PointResult[]> {
  const results = new Map<number, PointResult>();
  const workers: Worker[] = [];
  let next = 0;
  let done = 0;
  return new Promise((resolve, reject) => {
    const stop = () => {
      for (const worker of workers) worker.terminate();
    };
    // Largest first: in a growth study the last values are the costly ones, and starting
    // them first keeps a long point from running alone at the end (results are still
    // returned in point order).
    const order = [...points].reverse();
    const feed = (worker: Worker) => {
      if (next >= order.length) return;
      const request: WorkerRequest = { kind: "point", index: order[next++].index };
      worker.postMessage(request);
    };
    for (let w = 0; w < jobs; w++) {
      const worker = new Worker(new URL("./worker.ts", import.meta.url).href, { type: "module" });
      workers.push(worker);
      worker.onmessage = (event: MessageEvent<WorkerReply>) => {
        const reply = event.data;
        if (reply.kind === "error") {
          stop();
          const point = points.find((p) => p.index === reply.index)!;
          reject(new Error(`sweep point ${describePoint(point)}: ${reply.message}`));
          return;
        }
        results.set(reply.index, reply.result);
        done++; // (not inside the optional call: its arguments are skipped without a callback)
        onProgress?.(done, points.length);
        if (done === points.length) {
          stop();
          resolve(points.map((p) => results.get(p.index)!));
        } else {
          feed(worker);
        }
      };
      worker.onerror = (event) => {
        event.preventDefault();
        stop();
        reject(new Error(`a sweep worker failed: ${event.message}`));
      };
      const setup: WorkerRequest = { kind: "sweep", spec };
      worker.postMessage(setup);
      feed(worker);
    }
  });
}
