/**
 * The 2021 host-access debate (flows.md B.4, split S7): a buggy or malicious guest makes a
 * host thread write one of its private pages. Tests the blast radius of each policy and
 * what policy (i) costs when nothing goes wrong.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { P } from "../../src/host/primitives.ts";
import type { Summary } from "../../src/report/summary.ts";
import { checkScenario } from "../../src/scenario/load.ts";
import { simulate } from "../../src/scenario/run.ts";
import { compareSummaries, renderComparison } from "../../src/report/compare.ts";
import { renderSummary } from "../../src/report/text.ts";
import { run } from "../helpers.ts";

const SHIPPED = JSON.parse(Deno.readTextFileSync("scenarios/snp-buggy-dma.json"));

/** The shipped debate scenario, with `guests` VMs (the first is the buggy one). */
function debate(guests = 4, patch: (json: typeof SHIPPED) => void = () => {}): typeof SHIPPED {
  const json = structuredClone(SHIPPED);
  json.guests = json.guests.slice(0, guests);
  json.host.pcpus = 3 * guests;
  patch(json);
  return json;
}

const outcomes = (summary: Summary) => summary.outcomes;
const mixOps = (summary: Summary, guest: string) =>
  summary.workloads.find((w) => w.guest === guest && w.kind === "mix")!.operations;

Deno.test("(i) SIGBUS: the buggy DMA kills the shared daemon and every VM behind it loses its network", () => {
  const json = debate();
  const { summary } = run(json, "snp.sigbus");
  const o = outcomes(summary);
  deepStrictEqual(o.killedProcesses, ["host/net-daemon"]);
  strictEqual(o.hostPanicked, false);
  deepStrictEqual(o.serviceLoss.map((l) => l.vm).sort(), ["buggy", "vm1", "vm2", "vm3"]);
  // Every VM lost it at the same moment, when the daemon died, until the end of the run.
  const lostAt = new Set(o.serviceLoss.map((l) => l.lostAtMs));
  strictEqual(lostAt.size, 1);
  ok([...lostAt][0] >= 70, `lost at ${[...lostAt][0]} ms (the fault is at 70 ms)`);
  for (const loss of o.serviceLoss) {
    ok(Math.abs(loss.lostAtMs + loss.downMs - summary.run.simulatedMs) < 1e-6);
  }
  // And it shows: no VM completes a request after the daemon died.
  const after = run(debate(4, (j) => (j.stop.simulatedMs = 200)), "snp.sigbus").summary;
  for (const vm of ["buggy", "vm1", "vm2", "vm3"]) {
    strictEqual(mixOps(after, vm), mixOps(summary, vm), `${vm} kept working`);
  }
});

Deno.test("(ii) auto-convert: only the buggy guest is hurt; it takes #VC and terminates", () => {
  const { summary } = run(debate(), "snp.auto-convert");
  const o = outcomes(summary);
  deepStrictEqual(o.killedProcesses, []);
  deepStrictEqual(o.guestsWithVc, ["buggy"]);
  deepStrictEqual(o.terminatedGuests, ["buggy"]);
  deepStrictEqual(o.serviceLoss.map((l) => l.vm), ["buggy"]);
  // The host converted the page: an RMP fault, then RMPUPDATE on the daemon's thread.
  const daemon = summary.threads.find((t) => t.name === "host/net-daemon")!;
  strictEqual(daemon.byPrimitive.HOST_RMP_FAULT.count, 1);
  ok(daemon.byPrimitive.RMPUPDATE.count === 1);
  // The other VMs keep their network for the whole run.
  const longer = run(debate(4, (j) => (j.stop.simulatedMs = 200)), "snp.auto-convert").summary;
  for (const vm of ["vm1", "vm2", "vm3"]) {
    ok(mixOps(longer, vm) > mixOps(summary, vm) + 100, `${vm} stopped working`);
  }
  strictEqual(mixOps(longer, "buggy"), mixOps(summary, "buggy"), "the buggy guest is gone");
});

Deno.test("(iii) guest_memfd (upstream): the write never reaches private memory and nothing fails", () => {
  const { summary } = run(debate(), "snp.upstream");
  strictEqual(summary.outcomes.events.length, 0);
  const daemon = summary.threads.find((t) => t.name === "host/net-daemon")!;
  strictEqual(daemon.byPrimitive.HOST_RMP_FAULT, undefined, "no host mapping faulted");
  strictEqual(daemon.byPrimitive.RMPUPDATE, undefined, "no private page changed hands");
});

Deno.test("(i) with an in-kernel backend the same bug panics the host and ends the run", () => {
  const json = debate(2, (j) => (j.choices = { virtio: "vhost" }));
  const { summary } = run(json, "snp.sigbus");
  strictEqual(summary.outcomes.hostPanicked, true);
  strictEqual(summary.run.stop, "host-panic");
  ok(summary.run.simulatedMs < 100, `ran to ${summary.run.simulatedMs} ms`);
  deepStrictEqual(summary.outcomes.serviceLoss.map((l) => l.vm).sort(), ["buggy", "vm1"]);
});

Deno.test("(i) a malicious guest converting a buffer under the VMM's I/O thread kills only its own VMM", () => {
  const json = debate(2, (j) => {
    j.guests[0].faults[0].kind = "convert-during-dma";
    j.choices = { virtio: "vmm" };
  });
  const { summary } = run(json, "snp.sigbus");
  deepStrictEqual(summary.outcomes.killedProcesses, ["buggy/iothread"]);
  deepStrictEqual(summary.outcomes.terminatedGuests, ["buggy"]);
  deepStrictEqual(summary.outcomes.serviceLoss.map((l) => l.vm), ["buggy"]);
  strictEqual(summary.outcomes.hostPanicked, false);
  strictEqual(summary.design.choices.virtio, "vmm", "the scenario's choice applies");
});

Deno.test("(i) guards every kernel map: each GHCB exit takes the SRCU read side and checks the RMP", () => {
  const json = debate(2, (j) => delete j.guests[0].faults);
  const loaded = checkScenario(json, "", { designs: ["snp.sigbus"] });
  const { summary, timeline } = simulate(loaded, "snp.sigbus", {
    timeline: { startCycles: 0, endCycles: Infinity, maxSpans: 5_000_000 },
  });
  strictEqual(timeline!.truncatedAtCycles, undefined);
  const lanes = timeline!.steps.column(0);
  const prims = timeline!.steps.column(1);
  const previous = new Map<number, number[]>();
  let guarded = 0;
  for (let i = 0; i < timeline!.steps.count; i++) {
    const lane = lanes[i];
    const history = previous.get(lane) ?? [];
    if (prims[i] === P.SNP_POST_MAP) {
      // Right after the VMGEXIT and its dispatch, on the same vCPU.
      deepStrictEqual(history.slice(-2), [P.VMGEXIT, P.KVM_EXIT_DISPATCH]);
      guarded++;
    }
    history.push(prims[i]);
    if (history.length > 2) history.shift();
    previous.set(lane, history);
  }
  const vmgexits = summary.totals.byPrimitive.VMGEXIT.count;
  strictEqual(guarded, vmgexits, "every VMGEXIT maps the GHCB under the guard");
  strictEqual(summary.totals.byPrimitive.SNP_POST_MAP.count, vmgexits);
  // The guard costs the same exits nothing under guest_memfd.
  const memfd = run(json, "snp.upstream").summary;
  strictEqual(memfd.totals.byPrimitive.SNP_POST_MAP, undefined);
  ok(summary.totals.byPrimitive.WAIT_SRCU.count > 0, "PSCs waited for guarded maps");
});

Deno.test("compare puts the blast radius next to the cycles, and renders it", () => {
  const json = debate(2);
  const summaries = ["snp.sigbus", "snp.auto-convert", "snp.upstream"].map((design) =>
    run(json, design).summary
  );
  const comparison = compareSummaries(summaries);
  const row = (metric: string) =>
    comparison.rows.find((r) => r.section === "outcomes" && r.metric === metric)!.values;
  deepStrictEqual(row("VMs that lost service"), [2, 1, 0]);
  deepStrictEqual(row("host processes killed (SIGBUS)"), [1, 0, 0]);
  deepStrictEqual(row("guests that took #VC"), [0, 1, 0]);
  ok(renderComparison(comparison).includes("Outcomes (blast radius)"));
  ok(renderSummary(summaries[0]).includes("processes killed by SIGBUS: host/net-daemon"));
  // Without failures there are no outcome rows at all.
  const quiet = compareSummaries([summaries[2], summaries[2]]);
  strictEqual(quiet.rows.some((r) => r.section === "outcomes"), false);
});
