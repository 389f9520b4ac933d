/**
 * A sweep worker: receives the sweep once, then point indices, and answers each with the
 * point's result. Runs in a Deno worker (one per job).
 *
 * @module
 */

import { runPoint } from "./point.ts";
import { type SweepPoint, sweepPoints, type SweepSpec } from "./spec.ts";

/** Messages to a worker. */
export type WorkerRequest =
  | { kind: "sweep"; spec: SweepSpec }
  | { kind: "point"; index: number };

/** Messages from a worker. */
export type WorkerReply =
  | { kind: "result"; index: number; result: ReturnType<typeof runPoint>["result"] }
  | { kind: "error"; index: number; message: string };

// Only when loaded as a worker (self is a DedicatedWorkerGlobalScope there).
const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<WorkerRequest>) => void) | null;
  postMessage(message: WorkerReply): void;
};

let spec: SweepSpec | undefined;
let points: SweepPoint[] = [];

scope.onmessage = (event) => {
  const message = event.data;
  if (message.kind === "sweep") {
    spec = message.spec;
    points = sweepPoints(spec);
    return;
  }
  try {
    const { result } = runPoint(spec!, points[message.index]);
    scope.postMessage({ kind: "result", index: message.index, result });
  } catch (error) {
    scope.postMessage({
      kind: "error",
      index: message.index,
      message: error instanceof Error ? error.message : String(error),
    });
  }
};
