/**
 * Running one scenario under one design from the CLI: progress on stderr, the report
 * written atomically, and the wall-clock facts kept apart from the summary.
 *
 * @module
 */

import type { Summary } from "../report/summary.ts";
import { type RunInfo, writeReport } from "../report/write.ts";
import { designSetup, type LoadedScenario } from "../scenario/load.ts";
import { simulate } from "../scenario/run.ts";
import type { TimelineRequest } from "./command.ts";

/** A run done by the CLI. */
export interface Executed {
  summary: Summary;
  info: RunInfo;
  /** Report directory, when written. */
  dir?: string;
}

/**
 * Runs `design`, showing progress when stderr is a terminal, and writes the report to
 * `outDir` (with a timeline when `timeline` asks for one).
 */
export function execute(
  loaded: LoadedScenario,
  design: string,
  outDir: string | undefined,
  timeline?: TimelineRequest,
): Executed {
  const label = `${loaded.scenario.name} / ${design}`;
  const hint = loaded.scenario.timeline;
  if (timeline !== undefined && timeline.windowGiven !== true && hint !== undefined) {
    timeline = { ...timeline, fromMs: hint.fromMs, toMs: hint.toMs };
  }
  const clockGHz = designSetup(loaded, design).scenario.host.clockGHz;
  const cyclesPerMs = clockGHz * 1e6;
  const progress = progressLine(label, clockGHz);
  const startedAt = new Date();
  const started = performance.now();
  const { summary, timeline: recorded } = simulate(loaded, design, {
    onProgress: progress?.update,
    timeline: timeline === undefined ? undefined : {
      startCycles: Math.round(timeline.fromMs * cyclesPerMs),
      endCycles: timeline.toMs === Infinity ? Infinity : Math.round(timeline.toMs * cyclesPerMs),
      maxSpans: timeline.maxSpans,
    },
  });
  const wallMs = performance.now() - started;
  progress?.done();
  const seconds = wallMs / 1000;
  const info: RunInfo = {
    startedAt: startedAt.toISOString(),
    wallMs: Math.round(wallMs * 1000) / 1000,
    events: summary.run.events,
    eventsPerSec: Math.round(summary.run.events / seconds),
    exitsPerSec: Math.round(summary.totals.exits / seconds),
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    os: `${Deno.build.os}-${Deno.build.arch}`,
    scenarioFile: loaded.file,
  };
  if (recorded !== undefined && timeline !== undefined) {
    const truncated = recorded.truncatedAtCycles;
    info.timeline = {
      fromMs: timeline.fromMs,
      toMs: timeline.toMs === Infinity ? null : timeline.toMs,
      maxSpans: timeline.maxSpans,
      spans: recorded.spanCount,
      truncatedAtMs: truncated === undefined
        ? null
        : Math.round(truncated / cyclesPerMs * 1e3) / 1e3,
    };
  }
  const dir = outDir === undefined
    ? undefined
    : writeReport(outDir, summary, info, { timeline: recorded, trace: timeline?.trace });
  return { summary, info, dir };
}

/** A one-line progress display on stderr, or undefined when stderr is not a terminal. */
function progressLine(
  label: string,
  clockGHz: number,
): { update: (now: number, limit: number) => void; done: () => void } | undefined {
  if (!Deno.stderr.isTerminal()) return undefined;
  const encoder = new TextEncoder();
  let last = 0;
  return {
    update(now, limit) {
      const wall = performance.now();
      if (wall - last < 200) return;
      last = wall;
      const ms = now / (clockGHz * 1e6);
      const share = Math.min(100, (100 * now) / limit).toFixed(0);
      Deno.stderr.writeSync(
        encoder.encode(`\r${label}: ${ms.toFixed(3)} ms simulated (${share}% of the limit)`),
      );
    },
    done() {
      if (last > 0) Deno.stderr.writeSync(encoder.encode("\r\x1b[2K"));
    },
  };
}
