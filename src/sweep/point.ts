/**
 * Running one sweep point and reducing its summary to the flat metrics a sweep report
 * keeps (the whole summary stays out of the sweep file; its digest shows two runs agree).
 *
 * @module
 */

import { checkScenario, designSetup } from "../scenario/load.ts";
import { simulate } from "../scenario/run.ts";
import type { Summary } from "../report/summary.ts";
import { pointScenario, type SweepPoint, type SweepSpec } from "./spec.ts";

/** What one point produced. */
export interface PointResult extends SweepPoint {
  /** Flat metrics by name (see {@linkcode summaryMetrics}). */
  metrics: Record<string, number>;
  /** FNV-1a digest of the point's summary.json text: equal digests, identical summaries. */
  summaryDigest: string;
}

/** Validates a point's scenario (throws ScenarioError) without running it. */
export function checkPoint(spec: SweepSpec, point: SweepPoint): void {
  checkScenario(pointScenario(spec, point), spec.scenarioFile);
}

/** Runs one point; also returns its summary text (tests compare serial and parallel). */
export function runPoint(
  spec: SweepSpec,
  point: SweepPoint,
): { result: PointResult; summaryJson: string } {
  const loaded = checkScenario(pointScenario(spec, point), spec.scenarioFile);
  const { summary } = simulate(loaded, point.design);
  const summaryJson = JSON.stringify(summary);
  return { result: pointResult(point, summary, summaryJson), summaryJson };
}

function pointResult(point: SweepPoint, summary: Summary, summaryJson: string): PointResult {
  return { ...point, metrics: summaryMetrics(summary), summaryDigest: digest(summaryJson) };
}

/**
 * The result of `point` from the summary of a report already made (`summaryText`, its
 * summary.json), when that report is the same run: the point's scenario is the report's
 * (its values are the scenario's own), with the same design and seed, and the run ended by
 * itself. A point runs its scenario with only its design listed, so the report's summary
 * is compared (and digested) with that list. Undefined when the report is another run.
 */
export function reusedPointResult(
  spec: SweepSpec,
  point: SweepPoint,
  summaryText: string,
): PointResult | undefined {
  let summary: Summary;
  try {
    summary = JSON.parse(summaryText);
  } catch {
    return undefined;
  }
  if (summary?.run?.stop === "interrupted" || summary?.run?.stop === "event-limit") {
    return undefined;
  }
  if (summary.design?.name !== point.design || summary.scenario === undefined) return undefined;
  // The scenario as the run saw it: resolved, and set up for the design (its profile, clock).
  const expected = designSetup(
    checkScenario(pointScenario(spec, point), spec.scenarioFile),
    point.design,
  ).scenario;
  const asPoint = { ...summary, scenario: { ...summary.scenario, designs: [point.design] } };
  if (JSON.stringify(asPoint.scenario) !== JSON.stringify(expected)) return undefined;
  return pointResult(point, asPoint, JSON.stringify(asPoint));
}

/** The metrics a sweep can chart, flattened from a summary. */
export function summaryMetrics(summary: Summary): Record<string, number> {
  const m: Record<string, number> = {
    simulatedMs: summary.run.simulatedMs,
    exits: summary.totals.exits,
    events: summary.run.events,
  };
  // The share of vCPU time the guest spent running its own code (the rest went to exits,
  // switches, waits and idling): what a design leaves the workload.
  const vcpuCycles = summary.vcpus.length * summary.run.simulatedCycles;
  if (vcpuCycles > 0) {
    const guest = summary.vcpus.reduce((s, v) => s + (v.byPrimitive.GUEST?.cycles ?? 0), 0);
    m.guestShare = guest / vcpuCycles;
  }
  for (const [op, latency] of Object.entries(summary.operations)) {
    m[`latency.${op}.mean`] = latency.meanCycles;
    m[`latency.${op}.p50`] = latency.p50Cycles;
    m[`latency.${op}.p99`] = latency.p99Cycles;
    m[`latency.${op}.count`] = latency.count;
  }
  for (const w of summary.workloads) {
    m[`throughput.${w.guest}.${w.index}.${w.kind}`] = w.throughputPerSec;
  }
  for (const [domain, cycles] of Object.entries(summary.totals.byDomain)) {
    if (cycles > 0) m[`domain.${domain}`] = cycles;
  }
  for (const [name, total] of Object.entries(summary.totals.byPrimitive)) {
    m[`primitive.${name}`] = total.cycles;
    m[`primitive.${name}.count`] = total.count;
  }
  for (const [reason, count] of Object.entries(summary.totals.exitsByReason)) {
    m[`exit.${reason}`] = count;
  }
  for (const resource of summary.resources) {
    if (resource.acquisitions === 0) continue;
    m[`resource.${resource.name}.utilization`] = resource.utilization;
    m[`resource.${resource.name}.meanWait`] = resource.waitCycles.mean;
  }
  const outcomes = summary.outcomes;
  if (outcomes !== undefined && outcomes.events.length > 0) {
    m["outcomes.hostPanicked"] = outcomes.hostPanicked ? 1 : 0;
    m["outcomes.killedProcesses"] = outcomes.killedProcesses.length;
    m["outcomes.terminatedGuests"] = outcomes.terminatedGuests.length;
    m["outcomes.vmsWithoutService"] = outcomes.serviceLoss.length;
    m["outcomes.serviceLostMs"] = outcomes.serviceLoss.reduce((s, l) => s + l.downMs, 0);
  }
  return m;
}

/** 64-bit FNV-1a of a string's UTF-16 code units, as 16 hex digits. */
export function digest(text: string): string {
  let hi = 0xcbf29ce4;
  let lo = 0x84222325;
  for (let i = 0; i < text.length; i++) {
    lo ^= text.charCodeAt(i);
    // Multiply the 64-bit state by the FNV prime 2^40 + 0x1b3, in 32-bit halves.
    const loProduct = lo * 0x1b3;
    const carry = Math.floor(loProduct / 0x100000000);
    hi = (Math.imul(hi, 0x1b3) + Math.imul(lo, 0x100) + carry) >>> 0;
    lo = loProduct >>> 0;
  }
  return hi.toString(16).padStart(8, "0") + lo.toString(16).padStart(8, "0");
}
