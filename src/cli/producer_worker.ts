/**
 * A worker of the report producer (src/cli/producer.ts): makes one report per request
 * (load the scenario, run the design within the event limit, write the report with its
 * identity) and answers how it went.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { loadScenario } from "../scenario/load.ts";
import { DEFAULT_MAX_EVENTS } from "../scenario/estimate.ts";
import { execute } from "./execute.ts";

/** A report to make. */
export interface ProduceRequest {
  file: string;
  design: string;
  reportsDir: string;
  identity: string;
  /** Spans the timeline may hold (0: no timeline). */
  timelineSpans: number;
}

/** How it went. */
export type ProduceReply = { ok: true; wallMs: number } | { ok: false; error: string };

self.onmessage = (event: MessageEvent<ProduceRequest>) => {
  const { file, design, reportsDir, identity, timelineSpans } = event.data;
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
