/**
 * Interrupts raised at a sender's local time, ahead of the simulator's (Vcpu.raiseIrqAhead,
 * which a vhost worker uses for its completions): the vCPU takes them at that time, even
 * when something else cuts its guest stretch short first.
 */
import { ok, strictEqual } from "node:assert/strict";
import { RngStreams, Simulator } from "../../src/engine/mod.ts";
import { CpuPool } from "../../src/host/cpu_pool.ts";
import { resolveProfile } from "../../src/host/profile.ts";
import { P } from "../../src/host/primitives.ts";
import { HostThread } from "../../src/host/thread.ts";
import { vcpuLoop } from "../../src/kvm/guest.ts";
import { Vm } from "../../src/kvm/vm.ts";
import { VMX_PLATFORM } from "../../src/kvm/x86.ts";
import { INTEL_VMX } from "../../src/profiles/intel_vmx.ts";
import { shippedProfile } from "../../src/profiles/mod.ts";
import { Recorder } from "../../src/report/recorder.ts";
import { SequenceProgram } from "../../src/workloads/program.ts";
import { createProgram } from "../../src/workloads/workloads.ts";

const costs = resolveProfile(INTEL_VMX, shippedProfile).cyclesById;

/** One vCPU computing for 1 ms, an interrupt source that logs when the guest handles it. */
function computingVcpu() {
  const sim = new Simulator();
  const pool = new CpuPool(sim, 4, 1e9);
  const env = {
    sim,
    costs,
    pool,
    config: { postedInterrupts: true, ipiVirtualization: false, haltPollCycles: 0 },
  };
  const vm = new Vm(
    env,
    { name: "vm", vcpus: 1, memoryMiB: 16, hostPageSize: "4K", timerHz: 0 },
    2.5e9,
  );
  const vcpu = vm.vcpus[0];
  vcpu.platform = VMX_PLATFORM.createVm(vm, { devices: "kernel", virtio: "vhost" });
  const handledAt: number[] = [];
  const id = vcpu.addIrqSource({
    name: "test",
    guestHandler: (v) => void handledAt.push(v.cursorCycles),
  });
  const program = new SequenceProgram([
    createProgram({ kind: "compute", durationMs: 1, vcpus: "all" }, {
      rng: new RngStreams(1).stream("x"),
      cyclesPerMs: 2.5e6,
      rank: 0,
      ranks: 1,
      guestMemoryMiB: 16,
    }),
  ]);
  const recorder = new Recorder();
  recorder.addWorkload({
    guest: "vm",
    index: 0,
    kind: "compute",
    vcpus: 1,
    operations: 0,
    finishedVcpus: 0,
  });
  vcpu.start(vcpuLoop({ vcpu, vm, program, workloadIds: [0], recorder, onFinished: () => {} }));
  const sender = new HostThread(sim, costs, pool, "sender", "kernel");
  return { sim, vcpu, id, handledAt, sender };
}

Deno.test("an interrupt raised ahead is taken at the sender's time", () => {
  const { sim, vcpu, id, handledAt, sender } = computingVcpu();
  sim.call(100_000, () => {
    sender.cursorCycles = 600_000; // the sender's own time is ahead
    ok(vcpu.takesIrqAhead(sender.cursorCycles));
    vcpu.raiseIrqAhead(id, sender);
    ok(!vcpu.takesIrqAhead(700_000), "one ahead interrupt at a time");
  });
  sim.run({ untilCycles: 5_000_000 });
  strictEqual(handledAt.length, 1);
  ok(handledAt[0] >= 600_000 && handledAt[0] < 610_000, `handled at ${handledAt[0]}`);
});

Deno.test("an interrupt raised ahead waits for its time when an earlier event cuts in first", () => {
  const { sim, vcpu, id, handledAt, sender } = computingVcpu();
  sim.call(100_000, () => {
    sender.cursorCycles = 600_000;
    vcpu.raiseIrqAhead(id, sender);
  });
  // At 200,000 the scheduler wants the pCPU: the guest exits then, not at 600,000, and the
  // ahead interrupt still arrives at 600,000.
  sim.call(200_000, () => vcpu.requestResched());
  sim.run({ untilCycles: 5_000_000 });
  strictEqual(handledAt.length, 1);
  ok(handledAt[0] >= 600_000 && handledAt[0] < 610_000, `handled at ${handledAt[0]}`);
  ok(vcpu.primCounts[P.VCPU_PUT] >= 1, "the resched cut the stretch at 200,000");
});
