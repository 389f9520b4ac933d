/**
 * The one number that answers a scenario's question, per design: what the dashboard's
 * scenario cards chart and what a report page shows first. Chosen from the baseline's
 * summary, in this order:
 *
 * 0. when a failure had effects under any design: the service the VMs lost, summed over
 *    VMs, in ms (less is better) — the blast radius is the answer there, not the cycles;
 * 1. memory workloads: accesses per second (more is better);
 * 2. a run of fixed work (it ended when every workload finished): the simulated time the work
 *    took (less is better) — a boot, an acceptance, a loop of exits — unless that time is
 *    the same under every design (within 0.1%): then the guest paced the work (timers,
 *    idle gaps) and the answer is in its operations, as in 3;
 * 3. a run of fixed length with guest operations: the mean latency of the most frequent
 *    operation (less is better) — request-response, a steady exit mix;
 * 4. otherwise the exits per simulated second of the whole run (less is better).
 *
 * @module
 */

import type { Summary } from "./summary.ts";

/** The headline metric of a group of runs of one scenario. */
export interface Headline {
  metric: string;
  unit: string;
  lowerIsBetter: boolean;
  /** One value per summary (null where the metric does not apply). */
  values: (number | null)[];
}

/** The headline of `summaries` (runs of one scenario), chosen from `summaries[baseline]`. */
export function headlineOf(summaries: Summary[], baseline = 0): Headline {
  const base = summaries[baseline];
  const pick = (
    metric: string,
    unit: string,
    lowerIsBetter: boolean,
    value: (s: Summary) => number | undefined,
  ): Headline => ({
    metric,
    unit,
    lowerIsBetter,
    values: summaries.map((s) => {
      const v = value(s);
      return v === undefined || !Number.isFinite(v) ? null : v;
    }),
  });
  if (summaries.some((s) => (s.outcomes?.events.length ?? 0) > 0)) {
    return pick(
      "service lost, summed over VMs",
      "ms",
      true,
      (s) => s.outcomes?.serviceLoss.reduce((sum, loss) => sum + loss.downMs, 0) ?? 0,
    );
  }
  if (base.workloads.some((w) => w.memory !== undefined)) {
    return pick("memory accesses per second", "1/s", false, (s) => {
      const memory = s.workloads.filter((w) => w.memory !== undefined);
      return memory.length === 0
        ? undefined
        : memory.reduce((sum, w) => sum + w.memory!.accessesPerSec, 0);
    });
  }
  const operations = Object.entries(base.operations).filter(([, op]) => op.count > 0);
  if (base.run.stop === "workloads-complete") {
    const times = summaries.map((s) => s.run.simulatedMs);
    const paced = Math.max(...times) - Math.min(...times) <= 0.001 * Math.max(...times);
    if (!paced || operations.length === 0 || summaries.length < 2) {
      return pick("time to finish the work", "ms", true, (s) => s.run.simulatedMs);
    }
  }
  if (operations.length > 0) {
    const [name] = operations.reduce((most, entry) =>
      entry[1].count > most[1].count ? entry : most
    );
    return pick(`${name} mean latency`, "cycles", true, (s) => s.operations[name]?.meanCycles);
  }
  return pick(
    "exits per simulated second",
    "1/s",
    true,
    (s) => s.run.simulatedMs > 0 ? s.totals.exits / (s.run.simulatedMs / 1000) : undefined,
  );
}

/** What went wrong in a run, in a few words ("" when nothing did). */
export function outcomeText(summary: Summary): string {
  const o = summary.outcomes;
  if (o === undefined || o.events.length === 0) return "";
  const parts: string[] = [];
  if (o.hostPanicked) parts.push("host panicked");
  if (o.killedProcesses.length > 0) parts.push(`${o.killedProcesses.length} killed by SIGBUS`);
  if (o.terminatedGuests.length > 0) parts.push(`${o.terminatedGuests.length} guest(s) terminated`);
  if (o.guestsWithVc.length > 0) parts.push(`${o.guestsWithVc.length} took #VC`);
  if (parts.length === 0) parts.push(`${o.events.length} outcome(s)`);
  return parts.join(", ");
}
