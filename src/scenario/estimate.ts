/**
 * How much work a scenario asks for, estimated from its declaration before anything runs,
 * so that a run that would take hours is refused with the estimate instead of started. The
 * estimate is an upper bound in simulated events: every operation a workload can perform
 * in the time it may run, the pages it must fault or accept, and the guest ticks.
 *
 * @module
 */

import { ACCESSES_PER_BATCH } from "../workloads/workloads.ts";
import { type LoadedScenario, ScenarioError } from "./load.ts";

/**
 * Engine events per guest operation, an upper bound over the shipped scenarios: a port
 * read is an exit and a re-entry (one or two events); a virtio request wakes a backend, a
 * timer and the vCPU (about five, docs/performance.md).
 */
const EVENTS_PER_OPERATION = 6;
/** Events per 4 KiB page a workload faults in or accepts (a fault, an exit, an entry). */
const EVENTS_PER_PAGE = 4;
/** Events per guest tick (the timer, the interrupt, the exit and entry around it). */
const EVENTS_PER_TICK = 4;
/** The fewest guest cycles one memory access can take (a prefetched line's ~12 cycles). */
const MIN_CYCLES_PER_ACCESS = 10;

/** Runs estimated above this many events are refused unless the user asks for them. */
export const DEFAULT_MAX_EVENTS = 300_000_000;
/** The engine speed the messages convert events to time with (docs/performance.md). */
export const EVENTS_PER_SECOND = 2_000_000;

/** A scenario's estimated work and where most of it comes from. */
export interface WorkEstimate {
  events: number;
  /** JSON path of the largest contributor (a workload, or the stop for guest ticks). */
  path: string;
  /** What that contributor does, in a few words. */
  what: string;
}

/** Estimates the events of a run of `loaded` (the same for every design). */
export function estimateWork(loaded: LoadedScenario): WorkEstimate {
  const { scenario } = loaded;
  const spanMs = scenario.stop.simulatedMs;
  // The host's clock, or its designs' profiles' fastest one (more cycles, more accesses).
  const clockGHz = scenario.host.clockGHz ??
    Math.max(...Object.values(loaded.profiles).map((p) => p.clockGHz));
  const cyclesPerMs = clockGHz * 1e6;
  let events = 0;
  let largest = { events: -1, path: "stop.simulatedMs", what: "" };
  const add = (part: number, path: string, what: string) => {
    events += part;
    if (part > largest.events) largest = { events: part, path, what };
  };
  scenario.guests.forEach((guest, g) => {
    const ticks = guest.timerHz * (spanMs / 1000) * guest.vcpus;
    add(ticks * EVENTS_PER_TICK, "stop.simulatedMs", `${count(ticks)} guest ticks`);
    guest.workloads.forEach((workload, w) => {
      const path = `guests[${g}].workloads[${w}]`;
      const vcpus = workload.vcpus === "all" ? guest.vcpus : workload.vcpus.length;
      const ms = (durationMs: number | undefined) => Math.min(durationMs ?? spanMs, spanMs);
      switch (workload.kind) {
        case "loop": {
          const ops = workload.iterations * vcpus;
          add(ops * EVENTS_PER_OPERATION, path, `${count(ops)} ${workload.operation} operations`);
          break;
        }
        case "mix": {
          const rate = workload.operations.reduce((sum, o) => sum + o.ratePerSec, 0);
          const byTime = rate * (ms(workload.durationMs) / 1000);
          const ops = Math.min(workload.count ?? Infinity, byTime) * vcpus;
          add(ops * EVENTS_PER_OPERATION, path, `${count(ops)} operations`);
          break;
        }
        case "accept-memory": {
          const pages = (workload.memoryMiB ?? guest.memoryMiB) * 256;
          add(pages * EVENTS_PER_PAGE, path, `accepting ${count(pages)} pages`);
          break;
        }
        case "memory": {
          const sets = workload.shared ? 1 : vcpus;
          const pages = workload.workingSetMiB * 256 * sets;
          const byTime = (ms(workload.durationMs) * cyclesPerMs) / MIN_CYCLES_PER_ACCESS;
          const accesses = Math.min(workload.count ?? Infinity, byTime) * vcpus;
          const batches = accesses / ACCESSES_PER_BATCH;
          add(
            pages * EVENTS_PER_PAGE + batches * EVENTS_PER_OPERATION,
            path,
            `touching ${count(pages)} pages in and ${count(batches)} batches of accesses`,
          );
          break;
        }
        case "trace": {
          // Replay: each step once. Resample: steps of the recorded mean length.
          const steps = workload.sequence.length;
          const recordedNs = workload.gapNs.reduce((sum, ns) => sum + ns, 0) +
            workload.haltNs.reduce((sum, ns) => sum + ns, 0);
          const meanStepMs = Math.max(recordedNs / steps / 1e6, 1 / cyclesPerMs);
          const byTime = workload.order === "replay" ? steps : ms(workload.durationMs) / meanStepMs;
          const ops = Math.min(workload.count ?? Infinity, byTime) * vcpus;
          add(ops * EVENTS_PER_OPERATION, path, `${count(ops)} trace steps`);
          break;
        }
        case "compute":
        case "idle":
          break;
      }
    });
  });
  return { events: Math.ceil(events), path: largest.path, what: largest.what };
}

/** A count in words for messages: 1,234 / 12.3 million / 4.5 billion. */
function count(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} billion`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} million`;
  return Math.round(n).toLocaleString("en-US");
}

/** "about 3 min" for a number of events at {@linkcode EVENTS_PER_SECOND}. */
export function describeDuration(events: number): string {
  const seconds = events / EVENTS_PER_SECOND;
  if (seconds < 90) return `about ${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 5400) return `about ${Math.round(seconds / 60)} min`;
  return `about ${(seconds / 3600).toFixed(1)} h`;
}

/** Events in words, for messages. */
export function describeEvents(events: number): string {
  return count(events);
}

/**
 * Refuses a scenario whose estimated work is above `maxEvents`, naming what makes it large.
 * @throws ScenarioError
 */
export function checkWork(loaded: LoadedScenario, maxEvents: number): void {
  if (maxEvents === Infinity) return;
  const estimate = estimateWork(loaded);
  if (estimate.events <= maxEvents) return;
  throw new ScenarioError(loaded.file, [{
    path: estimate.path,
    message: `this run is estimated at up to ${describeEvents(estimate.events)} simulated ` +
      `events (${describeDuration(estimate.events)}), most of them ${estimate.what}; the ` +
      `limit is ${describeEvents(maxEvents)}: shorten it, or pass --allow-long (or ` +
      "--max-events <n>) to run it anyway",
  }]);
}
