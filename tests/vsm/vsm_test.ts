/**
 * Hyper-V VSM on KVM (flows.md A.1-A.5): primitive counts per flow for each design, what
 * memslot protections cost against memory attributes, the kick path of an interrupt for
 * VTL1, and that every thread's time adds up.
 */
import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import { resolveProfile } from "../../src/host/profile.ts";
import { shippedProfile } from "../../src/profiles/mod.ts";
import type { Summary } from "../../src/report/summary.ts";
import { ScenarioError } from "../../src/scenario/load.ts";
import type { SimulationResult } from "../../src/scenario/run.ts";
import { KVM_USER_MEM_SLOTS } from "../../src/vsm/memslots.ts";
import {
  INTERCEPT_GUEST_READS,
  MINIMAL_IOCTLS,
  PROTOTYPE_IOCTLS,
  VSM_DESIGNS,
  type VsmVm,
} from "../../src/vsm/platform.ts";
import { VTL0, VTL1 } from "../../src/vsm/vtl.ts";
import { assertConserved, load, run } from "../helpers.ts";

const VSM = resolveProfile(shippedProfile("intel-vsm")!, shippedProfile);
const cost = (name: string) => VSM.costs[name as keyof typeof VSM.costs]!.cycles;
const count = (summary: Summary, name: string) => summary.totals.byPrimitive[name]?.count ?? 0;
const vcpuCount = (summary: Summary, vcpu: number, name: string) =>
  summary.vcpus[vcpu].byPrimitive[name]?.count ?? 0;
const thread = (summary: Summary, name: string) => summary.threads.find((t) => t.name === name)!;

/** Every vCPU's and host thread's domains add up to the run. */

/** A VSM guest whose vCPU 0 runs `workloads`; the other vCPUs compute meanwhile. */
function vsm(
  design: string,
  workloads: unknown[],
  options: { vcpus?: number; memoryMiB?: number; othersMs?: number; pcpus?: number } = {},
): SimulationResult {
  const vcpus = options.vcpus ?? 1;
  const others = vcpus > 1
    ? [{
      kind: "compute",
      durationMs: options.othersMs ?? 20,
      vcpus: [...Array(vcpus - 1).keys()].map((i) => i + 1),
    }]
    : [];
  return run({
    name: "vsm-test",
    seed: 1,
    // A pCPU for every vCPU and for every VTL1 thread of the two-thread design.
    host: { pcpus: options.pcpus ?? 2 * vcpus },
    guests: [{
      vcpus,
      memoryMiB: options.memoryMiB ?? 64,
      workloads: [...workloads.map((w) => ({ vcpus: [0], ...w as object })), ...others],
    }],
    designs: [design],
  });
}

const loop = (operation: string, iterations: number, extra: Record<string, unknown> = {}) => ({
  kind: "loop",
  operation,
  iterations,
  guestCyclesBetween: 5000,
  ...extra,
});

/** Counts per operation: the difference between runs of 200 and 100 iterations, / 100. */
function perOperation(design: string, operation: string, names: string[]): Record<string, number> {
  const small = vsm(design, [loop(operation, 100)]).summary;
  const large = vsm(design, [loop(operation, 200)]).summary;
  assertConserved(large);
  return Object.fromEntries(names.map((n) => [n, (count(large, n) - count(small, n)) / 100]));
}

const SWITCH_PRIMITIVES = [
  "VMEXIT",
  "VMENTRY",
  "KVM_VTL_SWITCH",
  "KVM_MMU_VIEW_SWITCH",
  "IOCTL_RET",
  "IOCTL_ENTER",
  "STATE_SYNC_GET",
  "STATE_SYNC_PUT",
  "THREAD_HANDOFF",
  "CONTEXT_SWITCH",
  "SCHED_WAKEUP",
  "CSTATE_EXIT",
  "GUEST_SECURE_CALL",
];

Deno.test("S1: an in-kernel VTL call is one exit and one entry each way, no userspace", () => {
  deepStrictEqual(perOperation("vsm.in-kernel", "vtl-call", SWITCH_PRIMITIVES), {
    VMEXIT: 2, // the call and the return, each one exit
    VMENTRY: 2, // into VTL1, back into VTL0
    KVM_VTL_SWITCH: 2,
    KVM_MMU_VIEW_SWITCH: 2,
    IOCTL_RET: 0,
    IOCTL_ENTER: 0,
    STATE_SYNC_GET: 0,
    STATE_SYNC_PUT: 0,
    THREAD_HANDOFF: 0,
    CONTEXT_SWITCH: 0,
    SCHED_WAKEUP: 0,
    CSTATE_EXIT: 0,
    GUEST_SECURE_CALL: 1,
  });
  // The latency is exactly the flow's steps.
  const summary = vsm("vsm.in-kernel", [loop("vtl-call", 100)]).summary;
  const oneWay = cost("VMEXIT") + cost("KVM_EXIT_DISPATCH") + cost("KVM_VTL_SWITCH") +
    cost("KVM_MMU_VIEW_SWITCH") + cost("VMENTRY");
  strictEqual(summary.operations["vtl-call"].meanCycles, 2 * oneWay + cost("GUEST_SECURE_CALL"));
  strictEqual(summary.vcpus[0].exitsByReason.VMCALL, 200);
});

Deno.test("S1: the prototyped userspace call adds two returns to userspace, ~30 ioctls and a hand-off", () => {
  const n = PROTOTYPE_IOCTLS;
  const call = n.callVtl0Get + n.callVtl1Get + n.callVtl1Put;
  const back = n.returnVtl1Get + n.returnVtl0Put + n.returnParkPut;
  strictEqual(call, 31, "flows.md A.1: ~30 ioctls for the call");
  strictEqual(back, 25, "flows.md A.1: ~25 for the return");
  deepStrictEqual(perOperation("vsm.userspace", "vtl-call", SWITCH_PRIMITIVES), {
    VMEXIT: 2, // VTL0's hypercall, VTL1's return: still one exit each way
    VMENTRY: 2,
    KVM_VTL_SWITCH: 0,
    KVM_MMU_VIEW_SWITCH: 0, // each VTL is its own KVM vCPU with its own MMU
    IOCTL_RET: 3, // the call: VTL0's KVM_RUN and VTL1's parked one; the return: VTL1's
    IOCTL_ENTER: 3, // VTL1 enters, VTL1 parks again, VTL0 re-enters
    STATE_SYNC_GET: n.callVtl0Get + n.callVtl1Get + n.returnVtl1Get,
    STATE_SYNC_PUT: n.callVtl1Put + n.returnVtl0Put + n.returnParkPut,
    THREAD_HANDOFF: 2, // VTL0's thread to VTL1's, and back
    // Each crossing wakes the other thread onto its own idle pCPU (the waker's is busy at
    // the time, as Linux places wakees), which leaves C1E: the scheduler path both ways.
    CONTEXT_SWITCH: 0,
    SCHED_WAKEUP: 2,
    CSTATE_EXIT: 2,
    GUEST_SECURE_CALL: 1,
  });
  // The call's half: VTL0's thread returns to userspace once and syncs VTL0 out; the other
  // return to userspace and VTL1's syncs are on VTL1's thread, which VTL1 runs on.
  const summary = vsm("vsm.userspace", [loop("vtl-call", 100)]).summary;
  strictEqual(vcpuCount(summary, 0, "IOCTL_RET"), 100);
  strictEqual(vcpuCount(summary, 0, "STATE_SYNC_GET"), 100 * n.callVtl0Get);
  strictEqual(vcpuCount(summary, 0, "THREAD_HANDOFF"), 100);
  strictEqual(vcpuCount(summary, 0, "GUEST_SECURE_CALL"), 0);
  const vtl1 = thread(summary, "vm0/vcpu0-vtl1");
  strictEqual(vtl1.byPrimitive.IOCTL_RET.count, 200);
  strictEqual(vtl1.byPrimitive.GUEST_SECURE_CALL.count, 100);
  ok(summary.vcpus[0].byDomain.wait > vtl1.byDomain.guest, "VTL0's thread waits meanwhile");
  strictEqual(summary.vcpus[0].exitsByReason.VMCALL, 200, "VTL1's exits count for the vCPU");
});

Deno.test("S1: minimal userspace adds one crossing and 4-6 ioctls each way; planes one crossing and no hand-off", () => {
  deepStrictEqual(perOperation("vsm.userspace-minimal", "vtl-call", SWITCH_PRIMITIVES), {
    VMEXIT: 2,
    VMENTRY: 2,
    KVM_VTL_SWITCH: 0,
    KVM_MMU_VIEW_SWITCH: 2, // one KVM vCPU for both VTLs: entry loads the other view
    IOCTL_RET: 2,
    IOCTL_ENTER: 2,
    STATE_SYNC_GET: 2 * MINIMAL_IOCTLS.get,
    STATE_SYNC_PUT: 2 * MINIMAL_IOCTLS.put,
    THREAD_HANDOFF: 0,
    CONTEXT_SWITCH: 0,
    SCHED_WAKEUP: 0,
    CSTATE_EXIT: 0,
    GUEST_SECURE_CALL: 1,
  });
  ok(MINIMAL_IOCTLS.get + MINIMAL_IOCTLS.put >= 4 && MINIMAL_IOCTLS.get + MINIMAL_IOCTLS.put <= 6);
  deepStrictEqual(perOperation("vsm.planes", "vtl-call", SWITCH_PRIMITIVES), {
    VMEXIT: 2,
    VMENTRY: 2,
    KVM_VTL_SWITCH: 0,
    KVM_MMU_VIEW_SWITCH: 0,
    IOCTL_RET: 2,
    IOCTL_ENTER: 2,
    STATE_SYNC_GET: 0,
    STATE_SYNC_PUT: 0,
    THREAD_HANDOFF: 0,
    CONTEXT_SWITCH: 0,
    SCHED_WAKEUP: 0,
    CSTATE_EXIT: 0,
    GUEST_SECURE_CALL: 1,
  });
  const latency = (design: string) =>
    vsm(design, [loop("vtl-call", 100)]).summary.operations["vtl-call"].meanCycles;
  const userspace = latency("vsm.userspace");
  const minimal = latency("vsm.userspace-minimal");
  ok(userspace > 2 * minimal, `prototype ${userspace} vs minimal ${minimal}`);
  ok(minimal > latency("vsm.in-kernel") && minimal > latency("vsm.planes"));
});

Deno.test("each VTL keeps its own registers: VTL0 resumes after its VMCALL, VTL1 after its return", () => {
  for (const design of ["vsm.in-kernel", "vsm.userspace"]) {
    const result = vsm(design, [loop("vtl-call", 50)]);
    const vtls = (result.vcpus[0].platform as VsmVm).vtls;
    strictEqual(vtls.rip(0, VTL0), 50 * 3, design);
    strictEqual(vtls.rip(0, VTL1), 50 * 3, design);
    strictEqual(vtls.active[0], VTL0, `${design}: back in VTL0`);
  }
});

/** vCPU 0 protects `protects` ranges of `pages` after touching `touches` pages. */
const protect = (design: string, protects: number, pages = 1, touches = 0, vcpus = 1) =>
  vsm(design, [
    ...(touches > 0 ? [loop("touch", touches)] : []),
    loop("protect", protects, { pages }),
  ], { vcpus, othersMs: 5 });

Deno.test("S2: memslot protections quiesce every vCPU; attributes only flush remote TLBs", () => {
  const memslots = protect("vsm.in-kernel", 50, 1, 0, 4).summary;
  assertConserved(memslots);
  strictEqual(count(memslots, "SRCU_SYNC"), 2 * 50, "invalidate and create");
  strictEqual(count(memslots, "KVM_SET_MEMSLOT"), 2 * 50);
  // Each change pauses the three other vCPUs: each leaves guest mode and waits in userspace.
  strictEqual(vcpuCount(memslots, 0, "KICK_SEND"), 3 * 50);
  for (const vcpu of [1, 2, 3]) {
    strictEqual(memslots.vcpus[vcpu].exitsByReason.EXTERNAL_INTERRUPT, 50, `vcpu${vcpu}`);
    strictEqual(vcpuCount(memslots, vcpu, "IOCTL_RET"), 50);
    ok(memslots.vcpus[vcpu].byPrimitive.WAIT_PAUSED.cycles > 50 * cost("SRCU_SYNC"));
  }
  strictEqual(vcpuCount(memslots, 0, "THREAD_HANDOFF"), 3 * 50, "resume_all_vcpus");
  const attributes = protect("vsm.in-kernel-attributes", 50, 1, 0, 4).summary;
  assertConserved(attributes);
  strictEqual(count(attributes, "KVM_SET_ATTRIBUTES"), 50);
  strictEqual(count(attributes, "XA_OP"), 50);
  strictEqual(count(attributes, "SRCU_SYNC"), 0);
  strictEqual(count(attributes, "WAIT_PAUSED"), 0);
  // Nothing was mapped, so nothing is zapped and no TLB needs flushing.
  strictEqual(count(attributes, "KVM_ZAP"), 0);
  strictEqual(vcpuCount(attributes, 0, "KICK_SEND"), 0);
  const latency = (s: Summary) => s.operations.protect.meanCycles;
  ok(latency(memslots) > 3 * latency(attributes), `${latency(memslots)} vs ${latency(attributes)}`);
});

Deno.test("S2: page-granular memslot protections fragment the slots, and each lookup walks deeper", () => {
  const levels = (slots: number) => 32 - Math.clz32(slots - 1);
  for (const protects of [100, 3000]) {
    const result = protect("vsm.in-kernel", protects);
    const slots = (result.vcpus[0].platform as VsmVm).memslots!;
    // 8 base slots and the locked kernel code's; each single-page change adds one.
    strictEqual(slots.slots, 9 + protects);
    // Each change: one lookup before it (invalidate) and one after it (create).
    let expected = 0;
    for (let k = 0; k < protects; k++) expected += levels(9 + k) + levels(10 + k);
    strictEqual(count(result.summary, "MEMSLOT_LOOKUP"), expected, `${protects} changes`);
  }
  const latency = (n: number) => protect("vsm.in-kernel", n).summary.operations.protect.meanCycles;
  ok(latency(3000) > latency(100), "changes get slower as slots multiply");
  ok(3000 + 9 < KVM_USER_MEM_SLOTS, "(a boot's 100,000s of changes would not even fit)");
  // Memory attributes leave the memslots alone.
  const attributes = protect("vsm.in-kernel-attributes", 3000);
  strictEqual((attributes.vcpus[0].platform as VsmVm).memslots, undefined);
  strictEqual(count(attributes.summary, "MEMSLOT_LOOKUP"), 0);
});

Deno.test("S2: attributes zap only the changed range; a memslot edit zaps the whole old slot", () => {
  // vCPU 0 first maps 64 pages, then protects 4 of them.
  const attributes = protect("vsm.in-kernel-attributes", 1, 4, 64).summary;
  strictEqual(count(attributes, "KVM_ZAP"), 4);
  strictEqual(count(attributes, "XA_OP"), 4);
  const memslots = protect("vsm.in-kernel", 1, 4, 64).summary;
  strictEqual(count(memslots, "KVM_ZAP"), 64, "the slot held all 64 mapped pages");
  // With a second vCPU the zap needs a remote TLB flush: one kick.
  const remote = protect("vsm.in-kernel-attributes", 1, 4, 64, 2).summary;
  strictEqual(vcpuCount(remote, 0, "KICK_SEND"), 1);
  strictEqual(remote.vcpus[1].exitsByReason.EXTERNAL_INTERRUPT, 1);
});

Deno.test("S3: an intercept built in userspace adds a state sync and guest-memory reads", () => {
  const secure = (design: string) => vsm(design, [loop("secure-touch", 100)]).summary;
  const kernel = secure("vsm.userspace-kernel-intercepts");
  const user = secure("vsm.userspace");
  assertConserved(user);
  strictEqual(kernel.vcpus[0].exitsByReason.EPT_VIOLATION, 100);
  strictEqual(count(kernel, "KVM_SYNIC_MESSAGE"), 100);
  strictEqual(count(user, "VMM_INTERCEPT"), 100);
  strictEqual(count(user, "VMM_GUEST_READ"), 100 * INTERCEPT_GUEST_READS);
  strictEqual(count(user, "GUEST_SECURE_INTERCEPT"), 100);
  strictEqual(
    user.operations["secure-touch"].meanCycles - kernel.operations["secure-touch"].meanCycles,
    11 * cost("STATE_SYNC_GET") + INTERCEPT_GUEST_READS * cost("VMM_GUEST_READ") +
      cost("VMM_INTERCEPT") - cost("KVM_SYNIC_MESSAGE"),
  );
  // In KVM with an in-kernel switch no userspace is involved at all.
  const inKernel = secure("vsm.in-kernel");
  strictEqual(count(inKernel, "IOCTL_RET"), 0);
  ok(inKernel.operations["secure-touch"].meanCycles < kernel.operations["secure-touch"].meanCycles);
});

Deno.test("S4: a cross-VTL hypercall in userspace costs a user round trip and a state sync more", () => {
  const get = (design: string) =>
    vsm(design, [loop("vtl-get-registers", 100)]).summary.operations["vtl-get-registers"];
  strictEqual(
    get("vsm.userspace").meanCycles - get("vsm.userspace-kernel-hypercalls").meanCycles,
    cost("IOCTL_RET") + cost("VMM_HYPERCALL") + 11 * cost("STATE_SYNC_GET") +
      cost("IOCTL_ENTER") - cost("KVM_HYPERCALL"),
  );
});

/**
 * vCPU 0 sends `n` interrupts to VTL1 of vCPU 1, which computes in VTL0 meanwhile; far
 * enough apart that VTL1's thread (two-thread design) is parked again for each.
 */
const vtlIpis = (design: string, n = 100) =>
  vsm(design, [loop("vtl-ipi", n, { guestCyclesBetween: 200_000 })], {
    vcpus: 2,
    othersMs: 40,
  }).summary;

Deno.test("A.2: an interrupt for VTL1 while VTL0 runs on another vCPU takes the kick path", () => {
  const kernel = vtlIpis("vsm.in-kernel");
  assertConserved(kernel);
  strictEqual(vcpuCount(kernel, 0, "KICK_SEND"), 100, "KVM kicks the target");
  strictEqual(kernel.vcpus[1].exitsByReason.EXTERNAL_INTERRUPT, 100);
  strictEqual(vcpuCount(kernel, 1, "KVM_VTL_SWITCH"), 200, "to VTL1 and back");
  strictEqual(vcpuCount(kernel, 1, "GUEST_ISR"), 100, "VTL1's handler");
  strictEqual(kernel.vcpus[1].exitsByReason.VMCALL, 100, "VTL1's return");
  strictEqual(kernel.operations["vtl-ipi"].count, 100);
  // Two threads: KVM wakes VTL1's parked thread, which signals VTL0's out of KVM_RUN.
  const user = vtlIpis("vsm.userspace");
  assertConserved(user);
  strictEqual(vcpuCount(user, 0, "KVM_WAKE"), 100, "the parked KVM_RUN is woken");
  const vtl1 = thread(user, "vm0/vcpu1-vtl1");
  strictEqual(vtl1.byPrimitive.KICK_SEND.count, 100, "VTL1's thread kicks VTL0's");
  strictEqual(vtl1.byPrimitive.THREAD_HANDOFF.count, 200, "the signal, and the hand-back");
  strictEqual(user.vcpus[1].exitsByReason.EXTERNAL_INTERRUPT, 100);
  strictEqual(vcpuCount(user, 1, "THREAD_HANDOFF"), 100, "VTL0's thread hands over");
  // Planes: a kick, and one crossing each way on the target's one thread.
  const planes = vtlIpis("vsm.planes");
  strictEqual(vcpuCount(planes, 0, "KICK_SEND"), 100);
  strictEqual(vcpuCount(planes, 1, "IOCTL_RET"), 200);
  const latency = (s: Summary) => s.operations["vtl-ipi"].meanCycles;
  ok(latency(user) > 3 * latency(kernel), `${latency(user)} vs ${latency(kernel)}`);
});

Deno.test("A.2: an interrupt for VTL1 wakes a halted vCPU", () => {
  const summary = run({
    name: "vsm-halted",
    seed: 1,
    host: { haltPollUs: 0 }, // a halted vCPU sleeps at once
    guests: [{
      vcpus: 2,
      memoryMiB: 64,
      workloads: [loop("vtl-ipi", 20, { vcpus: [0] }), {
        kind: "idle",
        durationMs: 5,
        vcpus: [1],
      }],
    }],
    designs: ["vsm.in-kernel"],
  }).summary;
  assertConserved(summary);
  strictEqual(summary.operations["vtl-ipi"].count, 20);
  strictEqual(summary.vcpus[1].exitsByReason.VMCALL, 20, "VTL1 returns after each");
  ok(vcpuCount(summary, 0, "KVM_WAKE") > 0, "the sender wakes the sleeping target");
});

Deno.test("every VSM design: time adds up on every thread in a busy SMP guest", () => {
  for (const design of VSM_DESIGNS) {
    const summary = run({
      name: "vsm-busy",
      seed: 5,
      host: { pcpus: 6 },
      guests: [{
        vcpus: 4,
        memoryMiB: 32,
        timerHz: 250,
        workloads: [{
          kind: "mix",
          operations: [
            { operation: "vtl-call", ratePerSec: 20000 },
            { operation: "protect", ratePerSec: 20000, pages: 4 },
            { operation: "touch", ratePerSec: 50000 },
            { operation: "secure-touch", ratePerSec: 10000 },
            { operation: "vtl-ipi", ratePerSec: 10000 },
          ],
          durationMs: 2,
        }],
      }],
      designs: [design.name],
    }).summary;
    assertConserved(summary);
    strictEqual(summary.run.stop, "workloads-complete", design.name);
  }
});

Deno.test("other platforms reject VSM operations when the scenario is loaded", () => {
  const json = {
    name: "vsm-on-vmx",
    guests: [{ vcpus: 1, workloads: [loop("vtl-call", 1)] }],
    designs: ["vmx.io-in-kernel"],
  };
  throws(() => load(json), (error: unknown) => {
    ok(error instanceof ScenarioError);
    ok(error.message.includes('cannot perform "vtl-call"'), error.message);
    return true;
  });
});
