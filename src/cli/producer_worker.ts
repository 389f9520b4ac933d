/**
 * A worker of the report producer (src/cli/producer.ts): makes one report per request
 * (load the scenario, run the design within the event limit, write the report with its
 * identity), or runs one point of a scenario's sweep study, and answers how it went.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { loadScenario } from "../scenario/load.ts";
import { DEFAULT_MAX_EVENTS } from "../scenario/estimate.ts";
import { type PointResult, runPoint } from "../sweep/point.ts";
import { type SweepPoint, sweepPoints, type SweepSpec } from "../sweep/spec.ts";
import { execute } from "./execute.ts";
import { readSpec } from "./sweep.ts";

/** A report to make, or a point of a file's sweep study to run. */
export type ProduceRequest = ReportRequest | { kind: "point"; file: string; index: number };

/** A report to make. */
export interface ReportRequest {
  kind: "report";
  file: string;
  design: string;
  reportsDir: string;
  identity: string;
  /** Spans the timeline may hold (0: no timeline). */
  timelineSpans: number;
}

/** How it went (a study point answers with its result). */
export type ProduceReply =
  | { ok: true; wallMs: number; point?: PointResult }
  | { ok: false; error: string };

/** The studies this worker has read, by file (a study sends many points). */
const studies = new Map<string, { spec: SweepSpec; points: SweepPoint[] }>();

function runStudyPoint(file: string, index: number): ProduceReply {
  let study = studies.get(file);
  if (study === undefined) {
    const spec = readSpec(file, [], undefined, {});
    study = { spec, points: sweepPoints(spec) };
    studies.set(file, study);
  }
  const started = performance.now();
  const { result } = runPoint(study.spec, study.points[index]);
  return { ok: true, wallMs: performance.now() - started, point: result };
}

self.onmessage = (event: MessageEvent<ProduceRequest>) => {
  const request = event.data;
  if (request.kind === "point") {
    try {
      self.postMessage(runStudyPoint(request.file, request.index) satisfies ProduceReply);
    } catch (error) {
      self.postMessage({ ok: false, error: String(error) } satisfies ProduceReply);
    }
    return;
  }
  const { file, design, reportsDir, identity, timelineSpans } = request;
  try {
    const loaded = loadScenario(file);
    const executed = execute(
      loaded,
      design,
      reportsDir,
      timelineSpans === 0 ? undefined : {
        maxSpans: timelineSpans,
        fromMs: 0,
        toMs: Infinity,
        trace: false,
      },
      DEFAULT_MAX_EVENTS,
      identity,
    );
    self.postMessage({ ok: true, wallMs: executed.info.wallMs } satisfies ProduceReply);
  } catch (error) {
    self.postMessage({ ok: false, error: String(error) } satisfies ProduceReply);
  }
};
