/**
 * The host scheduler's costs (src/host/cpu_pool.ts, HostThread.switchIn): wake-ups onto
 * idle pCPUs and the idle states they leave, placement, cold caches, IBPB with mitigations.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { Rng, RngStreams, Signal, Simulator } from "../../src/engine/mod.ts";
import { P, PRIMITIVE_COUNT } from "../../src/host/primitives.ts";
import { HostThread } from "../../src/host/thread.ts";
import { CpuPool } from "../../src/host/cpu_pool.ts";
import { resolveProfile } from "../../src/host/profile.ts";
import { shippedProfile } from "../../src/profiles/mod.ts";
import type { Summary } from "../../src/report/summary.ts";
import { assertConserved, run } from "../helpers.ts";

const VMX = resolveProfile(shippedProfile("intel-vmx")!, shippedProfile);
const cost = (name: string) => VMX.costs[name as keyof typeof VMX.costs]!.cycles;
const state = (name: string) => VMX.idleStates.find((s) => s.name === name)!;
const prim = (s: Summary, name: string) => s.totals.byPrimitive[name] ?? { count: 0, cycles: 0 };

/** vCPU 0 sends an IPI every 5 ms to vCPU 1, which sleeps in HLT (no halt polling). */
const ipiToSleeper = (cpuIdle: string) =>
  run({
    name: "ipi-sleeper",
    seed: 1,
    host: { haltPollUs: 0, cpuIdle },
    guests: [{
      vcpus: 2,
      workloads: [{
        kind: "loop",
        operation: "ipi",
        iterations: 20,
        guestCyclesBetween: 12_500_000,
        vcpus: [0],
      }],
    }],
    designs: ["vmx.io-in-kernel"],
  }).summary;

Deno.test("a wake-up onto an idle pCPU in a deep C-state costs more than onto a polling one", () => {
  const poll = ipiToSleeper("poll");
  const shallow = ipiToSleeper("shallow");
  const deep = ipiToSleeper("deep");
  for (const s of [poll, shallow, deep]) {
    assertConserved(s);
    strictEqual(prim(s, "SCHED_WAKEUP").count, 20, "each IPI wakes the sleeping vCPU");
  }
  const latency = (s: Summary) => s.operations.ipi.meanCycles;
  ok(latency(poll) < latency(shallow) && latency(shallow) < latency(deep));
  strictEqual(prim(poll, "CSTATE_EXIT").count, 0, "a polling pCPU has no state to leave");
  // 5 ms idle reaches C1E's residency when only shallow states are allowed, C6's when all are.
  strictEqual(prim(shallow, "CSTATE_EXIT").cycles, 20 * state("C1E").exitCycles);
  strictEqual(prim(deep, "CSTATE_EXIT").cycles, 20 * state("C6").exitCycles);
  // C6 also leaves the core's caches cold.
  strictEqual(prim(deep, "CACHE_COLD").count - prim(shallow, "CACHE_COLD").count, 20);
  const extra = latency(deep) - latency(poll);
  const expected = state("C6").exitCycles + cost("CACHE_COLD");
  ok(Math.abs(extra - expected) < 0.01 * expected, `${extra} vs ${expected}`);
});

Deno.test("wake-up latencies are drawn from the profile's distribution, the same for a seed", () => {
  const rng = new Rng(1, 2, 3, 4);
  const median = cost("SCHED_WAKEUP");
  const p99 = VMX.costs.SCHED_WAKEUP!.p99Cycles!;
  ok(p99 > median);
  const draws = Array.from({ length: 20000 }, () => rng.logNormalInt(median, p99)).sort((a, b) =>
    a - b
  );
  const at = (q: number) => draws[Math.floor(q * draws.length)];
  ok(Math.abs(at(0.5) - median) <= 0.005 * median, `median ${at(0.5)} vs ${median}`);
  ok(Math.abs(at(0.99) - p99) <= 0.01 * p99, `p99 ${at(0.99)} vs ${p99}`);
  const pool = (seed: number) =>
    new CpuPool(new Simulator(), 1, 1, {
      idleStates: [],
      mitigations: false,
      rng: new RngStreams(seed).stream("host/scheduler"),
    });
  const a = pool(5), b = pool(5);
  for (let i = 0; i < 10; i++) strictEqual(a.wakeupCycles(1000, 1100), b.wakeupCycles(1000, 1100));
});

Deno.test("the idle state a pCPU leaves is the deepest allowed one its idle time reached", () => {
  const pool = new CpuPool(new Simulator(), 1, 1, {
    idleStates: VMX.idleStates,
    mitigations: false,
    rng: undefined,
  });
  strictEqual(pool.idleExit(state("C1").residencyCycles - 1).exitCycles, 0, "it only polled");
  strictEqual(pool.idleExit(state("C1E").residencyCycles - 1).exitCycles, state("C1").exitCycles);
  strictEqual(pool.idleExit(state("C6").residencyCycles - 1).exitCycles, state("C1E").exitCycles);
  strictEqual(pool.idleExit(1e12).exitCycles, state("C6").exitCycles);
});

/** Two 1-vCPU VMs computing on one pCPU: the scheduler time-slices between them. */
const twoVmsOnePcpu = (profile: string) =>
  run({
    name: "two-vms",
    seed: 1,
    profile,
    host: { pcpus: 1, timesliceUs: 500 },
    guests: [
      { vcpus: 1, workloads: [{ kind: "compute", durationMs: 5 }] },
      { vcpus: 1, workloads: [{ kind: "compute", durationMs: 5 }] },
    ],
    designs: ["vmx.io-in-kernel"],
  }).summary;

Deno.test("switching a pCPU between two VMs' vCPUs: cold caches, and an IBPB with mitigations on", () => {
  const off = twoVmsOnePcpu("intel-vmx");
  const on = twoVmsOnePcpu("intel-vmx-mitigations");
  assertConserved(on);
  const switches = prim(off, "CONTEXT_SWITCH").count;
  ok(switches >= 18, `${switches} switches in 10 ms of 500 us slices`);
  // Every switch after the first brings in the other VM's thread (another process).
  strictEqual(prim(off, "CACHE_COLD").count, switches - 1);
  strictEqual(prim(off, "IBPB").count, 0, "mitigations off: no IBPB");
  // With mitigations on, each VCPU_LOAD of the other VM's vCPU issues one, as does each
  // vCPU's first KVM_RUN (the pCPU had no vCPU loaded, or the other one).
  strictEqual(prim(on, "IBPB").count, prim(on, "VCPU_LOAD").count + 2);
  ok(prim(on, "VCPU_LOAD").count > 0);
});

Deno.test("a thread goes back to its previous pCPU when that is idle", () => {
  // Two vCPUs sleeping in HLT and woken by their ticks on a 4-pCPU host never move.
  const s = run({
    name: "affinity",
    seed: 1,
    host: { pcpus: 4, haltPollUs: 0 },
    guests: [{ vcpus: 2, timerHz: 1000, workloads: [{ kind: "idle", durationMs: 20 }] }],
    designs: ["tdx.upstream"],
  }).summary;
  ok(prim(s, "SCHED_WAKEUP").count >= 38, "each tick wakes each vCPU");
  strictEqual(prim(s, "SEAMCALL(TDH.VP.FLUSH)").count, 0, "no TD vCPU moved to another pCPU");
});

/** A thread on `pool` whose every step of `P.VMEXIT` costs 1,000 cycles. */
function testThread(sim: Simulator, pool: CpuPool, name: string): HostThread {
  const costs = new Float64Array(PRIMITIVE_COUNT);
  costs[P.VMEXIT] = 1000;
  costs[P.CONTEXT_SWITCH] = 100;
  return new HostThread(sim, costs, pool, name, "kernel");
}

Deno.test("a thread that sleeps ahead of the simulator's time holds its pCPU until its own time", () => {
  const sim = new Simulator();
  const pool = new CpuPool(sim, 1, 1e9);
  const sleeper = testThread(sim, pool, "sleeper");
  const other = testThread(sim, pool, "other");
  const wake = new Signal();
  let otherGotCpuAt = -1;
  sleeper.start(function* () {
    yield* sleeper.takeCpu();
    sleeper.step(P.VMEXIT); // local time 1,100 (after the context switch), simulator still at 0
    yield* sleeper.sleep(wake, P.IDLE); // gives the pCPU back at 1,100 without an event
  }());
  other.start(function* () {
    other.stepCycles(P.GUEST, 500);
    yield* other.takeCpu(); // at 500; the only pCPU is held until 1,100
    otherGotCpuAt = sim.now;
  }());
  sim.run();
  strictEqual(otherGotCpuAt, 1100);
  strictEqual(other.primCycles[P.WAIT_PCPU], 600);
  strictEqual(sleeper.onCpu, false);
  strictEqual(other.onCpu, true);
});

Deno.test("a thread woken on its way to sleep goes on at its own time, once for every wake-up", () => {
  const sim = new Simulator();
  const pool = new CpuPool(sim, 1, 1e9);
  const sleeper = testThread(sim, pool, "sleeper");
  const wake = new Signal();
  const resumedAt: number[] = [];
  sleeper.start(function* () {
    yield* sleeper.takeCpu();
    sleeper.step(P.VMEXIT); // local time 1,100
    yield* sleeper.sleep(wake, P.IDLE);
    resumedAt.push(sleeper.cursorCycles);
    yield* sleeper.sleep(wake, P.IDLE); // the second fire came before 1,100: no wake-up
    resumedAt.push(sleeper.cursorCycles);
  }());
  sim.call(300, () => wake.fire());
  sim.call(400, () => wake.fire());
  sim.call(5000, () => wake.fire());
  sim.run({ untilCycles: 10_000 });
  // Woken at 300 and 400, both before it slept: it goes on at 1,100, switched straight back
  // in (its pCPU never idled); the 5,000 fire is the next wake-up, onto the idle pCPU (a
  // wake-up that costs nothing here).
  strictEqual(resumedAt[0], 1100 + 100);
  strictEqual(sleeper.primCounts[P.CONTEXT_SWITCH], 2);
  strictEqual(resumedAt[1], 5000);
  sleeper.finalize(10_000);
  strictEqual(sleeper.chargedCycles(), 10_000);
});

Deno.test("a thread still at work until its local time does not sleep when work comes before then", () => {
  const sim = new Simulator();
  const pool = new CpuPool(sim, 1, 1e9);
  const worker = testThread(sim, pool, "worker");
  const work = new Signal();
  const slept: boolean[] = [];
  const at: number[] = [];
  worker.start(function* () {
    yield* worker.takeCpu();
    worker.step(P.VMEXIT); // busy until 1,100
    slept.push(yield* worker.sleep(work, P.IDLE, true));
    at.push(worker.cursorCycles);
    // The fire that came while it worked is remembered, as it is for a busy thread: the
    // next sleep returns at once, through the scheduler.
    slept.push(yield* worker.sleep(work, P.IDLE, true));
    at.push(worker.cursorCycles);
  }());
  sim.call(300, () => work.fire());
  sim.run({ untilCycles: 10_000 });
  deepStrictEqual(slept, [false, true]);
  deepStrictEqual(at, [1100, 1200]);
  strictEqual(worker.primCycles[P.IDLE], 0);
  strictEqual(worker.onCpu, true);
});
