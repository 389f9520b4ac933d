/**
 * Running one scenario under one design from the CLI: progress on stderr, the report
 * written atomically, and the wall-clock facts kept apart from the summary.
 *
 * @module
 */

import type { Summary } from "../report/summary.ts";
import { type RunInfo, writeReport } from "../report/write.ts";
import { designSetup, type LoadedScenario } from "../scenario/load.ts";
import { type Simulation, startSimulation } from "../scenario/run.ts";
import { EXIT_INTERRUPTED, EXIT_INVALID } from "./errors.ts";
import type { Io, Progress, TimelineRequest } from "./command.ts";

/** A run done by the CLI. */
export interface Executed {
  summary: Summary;
  info: RunInfo;
  /** Report directory, when written. */
  dir?: string;
}

/** Events a run goes between looks at Ctrl-C (a fraction of a second of engine time). */
const SLICE_EVENTS = 1 << 19;

/** A run begun: the simulation and what its report needs besides the summary. */
interface Begun {
  loaded: LoadedScenario;
  simulation: Simulation;
  progress: ReturnType<typeof runProgress>;
  timeline: TimelineRequest | undefined;
  cyclesPerMs: number;
  startedAt: Date;
  started: number;
}

function begin(
  loaded: LoadedScenario,
  design: string,
  timeline: TimelineRequest | undefined,
  progress?: Progress,
): Begun {
  const label = `${loaded.scenario.name} / ${design}`;
  const hint = loaded.scenario.timeline;
  if (timeline !== undefined && timeline.windowGiven !== true && hint !== undefined) {
    timeline = { ...timeline, fromMs: hint.fromMs, toMs: hint.toMs };
  }
  const clockGHz = designSetup(loaded, design).scenario.host.clockGHz;
  const cyclesPerMs = clockGHz * 1e6;
  const shown = runProgress(label, clockGHz, progress);
  const startedAt = new Date();
  const started = performance.now();
  const simulation = startSimulation(loaded, design, {
    onProgress: shown?.update,
    timeline: timeline === undefined ? undefined : {
      startCycles: Math.round(timeline.fromMs * cyclesPerMs),
      endCycles: timeline.toMs === Infinity ? Infinity : Math.round(timeline.toMs * cyclesPerMs),
      maxSpans: timeline.maxSpans,
    },
  });
  return { loaded, simulation, progress: shown, timeline, cyclesPerMs, startedAt, started };
}

function end(
  run: Begun,
  cut: Cut | undefined,
  outDir: string | undefined,
  identity?: string,
): Executed {
  const { summary, timeline: recorded } = run.simulation.finish(cut);
  const { timeline, cyclesPerMs } = run;
  const wallMs = performance.now() - run.started;
  run.progress?.done();
  const seconds = wallMs / 1000;
  const info: RunInfo = {
    startedAt: run.startedAt.toISOString(),
    wallMs: Math.round(wallMs * 1000) / 1000,
    events: summary.run.events,
    eventsPerSec: Math.round(summary.run.events / seconds),
    exitsPerSec: Math.round(summary.totals.exits / seconds),
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    os: `${Deno.build.os}-${Deno.build.arch}`,
    scenarioFile: run.loaded.file,
    ...(cut === undefined ? {} : { partial: cut }),
    ...(identity === undefined ? {} : { identity }),
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
  const dir = outDir === undefined ? undefined : writeReport(outDir, summary, info, {
    timeline: recorded,
    trace: timeline?.trace,
    traceCmd: timeline?.traceCmd,
  });
  return { summary, info, dir };
}

/** Why a run was cut short (its report is then partial). */
type Cut = "interrupted" | "event-limit";

/**
 * Runs `design` (showing no progress) and writes the report to `outDir` (with a timeline when `timeline` asks for one). A run that reaches `maxEvents`
 * stops there, and its report is marked partial.
 */
export function execute(
  loaded: LoadedScenario,
  design: string,
  outDir: string | undefined,
  timeline?: TimelineRequest,
  maxEvents = Infinity,
  identity?: string,
): Executed {
  const run = begin(loaded, design, timeline);
  const done = run.simulation.step(maxEvents);
  return end(run, done ? undefined : "event-limit", outDir, identity);
}

/**
 * {@linkcode execute}, looking up every {@linkcode SLICE_EVENTS} events: after Ctrl-C the run
 * stops where it is and its report, marked partial, is written (atomically, as always).
 */
export async function executeInterruptible(
  loaded: LoadedScenario,
  design: string,
  outDir: string | undefined,
  timeline: TimelineRequest | undefined,
  maxEvents: number,
  interrupt: Interrupt,
  progress?: Progress,
): Promise<Executed> {
  const run = begin(loaded, design, timeline, progress);
  let cut: Cut | undefined;
  for (;;) {
    const remaining = maxEvents - run.simulation.events;
    if (remaining <= 0) {
      cut = "event-limit";
      break;
    }
    if (run.simulation.step(Math.min(SLICE_EVENTS, remaining))) break;
    await interrupt.poll();
    if (interrupt.requested) {
      cut = "interrupted";
      break;
    }
  }
  return end(run, cut, outDir);
}

/**
 * Runs every design of `loaded` in turn (Ctrl-C stops the current one, writes its report
 * so far and skips the rest), telling `progress` as each goes and ends. `exitCode` is set
 * when a run was cut short, after saying so on stderr: 130 for Ctrl-C, 1 for the event limit.
 */
export async function executeAll(
  loaded: LoadedScenario,
  outDir: string,
  timeline: TimelineRequest | undefined,
  maxEvents: number,
  io: Io,
  progress: Progress,
): Promise<{ executed: Executed[]; exitCode?: number }> {
  const interrupt = new Interrupt().start();
  const started = performance.now();
  const designs = loaded.scenario.designs;
  try {
    const executed: Executed[] = [];
    for (const design of designs) {
      const run = await executeInterruptible(
        loaded,
        design,
        outDir,
        timeline,
        maxEvents,
        interrupt,
        progress,
      );
      executed.push(run);
      const partial = run.info.partial;
      if (partial === undefined) {
        progress.say(
          `${progress.command}: ${executed.length}/${designs.length} designs, ${
            seconds(performance.now() - started)
          } (${loaded.scenario.name} / ${design}: ${
            run.summary.run.simulatedMs.toFixed(3)
          } ms simulated in ${seconds(run.info.wallMs)})`,
        );
        continue;
      }
      const at = `after ${run.summary.run.simulatedMs.toFixed(3)} ms simulated and ` +
        `${run.summary.run.events.toLocaleString("en-US")} events`;
      if (partial === "interrupted") {
        io.err(`interrupted ${at}: the report so far is in ${run.dir}, marked partial`);
        return { executed, exitCode: EXIT_INTERRUPTED };
      }
      io.err(
        `${loaded.scenario.name} / ${design} reached the event limit ${at}; the report so far ` +
          `is in ${run.dir}, marked partial; --allow-long runs it without a limit`,
      );
      return { executed, exitCode: EXIT_INVALID };
    }
    return { executed };
  } finally {
    interrupt.stop();
  }
}

/**
 * Ctrl-C while runs go on: the first asks the current run to stop and write its report so
 * far; a second exits at once.
 */
export class Interrupt {
  requested = false;
  readonly #onSignal = () => {
    if (this.requested) Deno.exit(EXIT_INTERRUPTED);
    this.requested = true;
  };

  /** Starts listening (Ctrl-C no longer ends the process by itself). */
  start(): this {
    Deno.addSignalListener("SIGINT", this.#onSignal);
    return this;
  }

  /** Stops listening. */
  stop(): void {
    Deno.removeSignalListener("SIGINT", this.#onSignal);
  }

  /** Lets the event loop deliver a pending signal. */
  poll(): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, 0));
  }
}

/** Wall time as "12.3 s". */
function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** How often a run on a stderr that is not a terminal says how far it is, in wall ms. */
const PROGRESS_LINE_MS = 10_000;

/**
 * A run's progress: on a terminal, one line redrawn in place (and cleared at the end);
 * elsewhere, a line every {@linkcode PROGRESS_LINE_MS}; nothing when quiet or not asked for.
 */
function runProgress(
  label: string,
  clockGHz: number,
  progress: Progress | undefined,
): { update: (now: number, limit: number) => void; done: () => void } | undefined {
  if (progress === undefined || progress.quiet) return undefined;
  const where = (now: number, limit: number) =>
    `${label}: ${(now / (clockGHz * 1e6)).toFixed(3)} ms simulated (${
      Math.min(100, (100 * now) / limit).toFixed(0)
    }% of its stop time)`;
  if (!progress.live) {
    let last = performance.now();
    return {
      update(now, limit) {
        const wall = performance.now();
        if (wall - last < PROGRESS_LINE_MS) return;
        last = wall;
        progress.say(`${progress.command}: ${where(now, limit)}`);
      },
      done() {},
    };
  }
  const encoder = new TextEncoder();
  let last = 0;
  return {
    update(now, limit) {
      const wall = performance.now();
      if (wall - last < 200) return;
      last = wall;
      Deno.stderr.writeSync(encoder.encode(`\r${where(now, limit)}`));
    },
    done() {
      if (last > 0) Deno.stderr.writeSync(encoder.encode("\r\x1b[2K"));
    },
  };
}
