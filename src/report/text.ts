/**
 * The human-readable report of one run.
 *
 * @module
 */

import { DOMAINS } from "../host/primitives.ts";
import { decimal, integer, percent, table } from "./format.ts";
import type { Summary } from "./summary.ts";

/** Most vCPUs listed one per row before the table is left out. */
const MAX_VCPU_ROWS = 32;

/** Renders a summary as text tables. */
export function renderSummary(summary: Summary): string {
  const { run, totals, scenario } = summary;
  const clockGHz = scenario.host.clockGHz;
  const ns = (cycles: number) => decimal(cycles / clockGHz, 1);
  const out: string[] = [];
  out.push(
    `${scenario.name} · design ${summary.design.name} · profile ${summary.profile.name} ` +
      `(${clockGHz} GHz) · seed ${summary.seed}`,
    `simulated ${decimal(run.simulatedMs, 3)} ms (${integer(run.simulatedCycles)} cycles), ` +
      `ended by ${run.stop}${
        run.stop === "interrupted" || run.stop === "event-limit" ? " (a partial report)" : ""
      }, ${integer(run.events)} events, ${plural(summary.vcpus.length, "vCPU")}` +
      (summary.threads.length > 0 ? ` and ${plural(summary.threads.length, "host thread")}` : ""),
    "",
  );
  const allTime = DOMAINS.reduce((sum, d) => sum + totals.byDomain[d], 0);
  const scope = summary.threads.length > 0 ? "all threads" : "all vCPUs";
  out.push(`Time by domain, ${scope}`);
  out.push(table(
    ["domain", "cycles", "share"],
    DOMAINS.filter((d) => totals.byDomain[d] > 0).map((d) => [
      d,
      integer(totals.byDomain[d]),
      percent(totals.byDomain[d], allTime),
    ]),
  ));
  out.push("", `Time by primitive, ${scope}`);
  out.push(table(
    ["primitive", "count", "cycles", "share", "cycles each"],
    Object.entries(totals.byPrimitive).map(([name, p]) => [
      name,
      integer(p.count),
      integer(p.cycles),
      percent(p.cycles, allTime),
      p.count > 0 ? integer(p.cycles / p.count) : "-",
    ]),
  ));
  if (totals.exits > 0) {
    const seconds = run.simulatedCycles / (clockGHz * 1e9);
    out.push("", "Exits by reason");
    out.push(table(
      ["reason", "exits", "per simulated s"],
      Object.entries(totals.exitsByReason).map(([reason, count]) => [
        reason,
        integer(count),
        integer(count / seconds),
      ]),
    ));
  }
  const operations = Object.entries(summary.operations);
  if (operations.length > 0) {
    out.push("", `Guest operation latency, cycles (mean also in ns at ${clockGHz} GHz)`);
    out.push(table(
      ["operation", "count", "mean", "mean ns", "p50", "p90", "p99", "p99.9", "max"],
      operations.map(([name, op]) => [
        name,
        integer(op.count),
        integer(op.meanCycles),
        ns(op.meanCycles),
        integer(op.p50Cycles),
        integer(op.p90Cycles),
        integer(op.p99Cycles),
        integer(op.p999Cycles),
        integer(op.maxCycles),
      ]),
    ));
  }
  const outcomes = summary.outcomes?.events ?? [];
  if (outcomes.length > 0) {
    const o = summary.outcomes;
    out.push("", "Outcomes (blast radius)");
    out.push(
      `host panicked: ${o.hostPanicked ? "yes" : "no"}; ` +
        `processes killed by SIGBUS: ${o.killedProcesses.join(", ") || "none"}; ` +
        `guests that took #VC: ${o.guestsWithVc.join(", ") || "none"}; ` +
        `guests terminated: ${o.terminatedGuests.join(", ") || "none"}`,
    );
    if (o.serviceLoss.length > 0) {
      out.push(table(
        ["VM without service", "lost at (ms)", "down (ms)"],
        o.serviceLoss.map((loss) => [loss.vm, decimal(loss.lostAtMs, 3), decimal(loss.downMs, 3)]),
      ));
    }
    out.push(table(
      ["at (ms)", "outcome", "subject", "cause"],
      outcomes.map((e) => [decimal(e.atMs, 3), e.kind, e.subject, e.cause]),
    ));
  }
  const used = summary.resources.filter((r) => r.acquisitions > 0);
  if (used.length > 0) {
    out.push("", "Resources");
    out.push(table(
      [
        "resource",
        "kind",
        "servers",
        "utilization",
        "acquired",
        "waited",
        "mean wait",
        "p99 wait",
        "max queue",
      ],
      used.map((r) => [
        r.name,
        r.kind,
        String(r.capacity),
        percent(r.utilization, 1),
        integer(r.acquisitions),
        integer(r.contended),
        integer(r.waitCycles.mean),
        integer(r.waitCycles.p99),
        String(r.maxQueueLength),
      ]),
    ));
  }
  if (summary.workloads.length > 0) {
    out.push("", "Workloads");
    out.push(table(
      ["guest", "#", "kind", "vCPUs", "finished", "operations", "per simulated s"],
      summary.workloads.map((w) => [
        w.guest,
        String(w.index),
        w.kind,
        String(w.vcpus),
        String(w.finishedVcpus),
        integer(w.operations),
        integer(w.throughputPerSec),
      ]),
    ));
  }
  const memory = summary.workloads.filter((w) => w.memory !== undefined);
  if (memory.length > 0) {
    out.push("", "Memory workloads (over their batches; per access unless noted)");
    out.push(table(
      [
        "guest",
        "#",
        "accesses",
        "accesses/s",
        "GB/s",
        "ns",
        "cycles",
        "walk cycles",
        "walk share",
        "STLB misses",
        "cycles/walk",
        "2M share",
        "warm-up ms",
      ],
      memory.map((w) => {
        const m = w.memory!;
        return [
          w.guest,
          String(w.index),
          integer(m.accesses),
          integer(m.accessesPerSec),
          decimal(m.bytesPerSec / 1e9, 2),
          decimal(m.meanAccessNs, 1),
          decimal(m.meanAccessCycles, 1),
          decimal(m.walkCyclesPerAccess, 1),
          percent(m.walkShare, 1),
          decimal(m.stlbMissRate, 3),
          decimal(m.cyclesPerWalk, 0),
          percent(m.hugeShare, 1),
          decimal(m.warmupMs, 1),
        ];
      }),
    ));
  }
  if (summary.vcpus.length <= MAX_VCPU_ROWS) {
    const shown = DOMAINS.filter((d) => totals.byDomain[d] > 0);
    out.push("", "Time by domain per vCPU, share of the run");
    out.push(table(
      ["vCPU", ...shown, "exits"],
      summary.vcpus.map((v) => [
        v.name,
        ...shown.map((d) => percent(v.byDomain[d], run.simulatedCycles)),
        integer(v.exits),
      ]),
    ));
  }
  if (summary.threads.length > 0) {
    const shown = DOMAINS.filter((d) => summary.threads.some((t) => t.byDomain[d] > 0));
    out.push("", "Host threads, share of the run");
    out.push(table(
      ["thread", "kind", ...shown],
      summary.threads.map((t) => [
        t.name,
        t.kind,
        ...shown.map((d) => percent(t.byDomain[d], run.simulatedCycles)),
      ]),
    ));
  }
  return out.join("\n");
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}
