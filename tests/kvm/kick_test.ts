import { strictEqual } from "node:assert/strict";
import { RngStreams, Simulator } from "../../src/engine/mod.ts";
import { CpuPool } from "../../src/host/cpu_pool.ts";
import { EXIT } from "../../src/host/exit_reasons.ts";
import { resolveProfile } from "../../src/host/profile.ts";
import { P } from "../../src/host/primitives.ts";
import { HostThread } from "../../src/host/thread.ts";
import { vcpuLoop } from "../../src/kvm/guest.ts";
import { kickAndWait } from "../../src/kvm/kick.ts";
import { Vm } from "../../src/kvm/vm.ts";
import { VMX_PLATFORM } from "../../src/kvm/x86.ts";
import { INTEL_VMX } from "../../src/profiles/intel_vmx.ts";
import { shippedProfile } from "../../src/profiles/mod.ts";
import { Recorder } from "../../src/report/recorder.ts";
import { SequenceProgram } from "../../src/workloads/program.ts";
import { createProgram } from "../../src/workloads/workloads.ts";

const costs = resolveProfile(INTEL_VMX, shippedProfile).cyclesById;
const cost = (name: keyof typeof P) => costs[P[name]];

Deno.test("a kick waits for the vCPU in guest mode to exit and acknowledge; a halted one acks at once", () => {
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
    { name: "vm", vcpus: 2, memoryMiB: 16, hostPageSize: "4K", timerHz: 0 },
    2.5e9,
  );
  const platform = VMX_PLATFORM.createVm(vm, { devices: "kernel", virtio: "vhost" });
  const recorder = new Recorder();
  for (const vcpu of vm.vcpus) {
    vcpu.platform = platform;
    // vCPU 0 computes for 1 ms; vCPU 1 has nothing to do and sleeps in HLT.
    const program = vcpu.index === 0
      ? new SequenceProgram([
        createProgram({ kind: "compute", durationMs: 1, vcpus: "all" }, {
          rng: new RngStreams(1).stream("x"),
          cyclesPerMs: 2.5e6,
          rank: 0,
          ranks: 1,
          guestMemoryMiB: 16,
        }),
      ])
      : undefined;
    vcpu.start(vcpuLoop({ vcpu, vm, program, workloadIds: [0], recorder, onFinished: () => {} }));
  }
  recorder.addWorkload({
    guest: "vm",
    index: 0,
    kind: "compute",
    vcpus: 1,
    operations: 0,
    finishedVcpus: 0,
  });
  const kicker = new HostThread(sim, costs, pool, "kicker", "kernel");
  const kickAt = 100_000;
  let acknowledgedAt = -1;
  kicker.start(function* () {
    yield* kicker.takeCpu();
    yield* kicker.spend(P.IDLE, kickAt - kicker.cursorCycles);
    yield* kickAndWait(vm.vcpus, kicker);
    acknowledgedAt = kicker.cursorCycles;
  }());
  sim.run({ untilCycles: 5_000_000 });
  const [running, halted] = vm.vcpus;
  strictEqual(running.exitCounts[EXIT.EXTERNAL_INTERRUPT], 1);
  strictEqual(halted.exitCounts[EXIT.EXTERNAL_INTERRUPT], 0);
  // The IPI lands when the kicker's ICR write is done; the target exits and acknowledges
  // in its IRQ handler.
  strictEqual(
    acknowledgedAt,
    kickAt + cost("KICK_SEND") + cost("VMEXIT") + cost("KVM_EXIT_DISPATCH") + cost("KVM_IRQ_ACK"),
  );
  strictEqual(kicker.primCounts[P.KICK_SEND], 1); // only the vCPU in guest mode needed an IPI
  strictEqual(
    kicker.primCycles[P.WAIT_ACK],
    cost("VMEXIT") + cost("KVM_EXIT_DISPATCH") + cost("KVM_IRQ_ACK"),
  );
});
