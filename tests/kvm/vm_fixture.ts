/**
 * A VMX VM built by hand for tests that drive vCPUs directly: vCPU 0 computes for 1 ms and
 * the others have nothing to do (they sleep in HLT).
 *
 * @module
 */
import { RngStreams, Simulator } from "../../src/engine/mod.ts";
import { CpuPool } from "../../src/host/cpu_pool.ts";
import { resolveProfile } from "../../src/host/profile.ts";
import { vcpuLoop } from "../../src/kvm/guest.ts";
import { Vm } from "../../src/kvm/vm.ts";
import { VMX_PLATFORM } from "../../src/kvm/x86.ts";
import { INTEL_VMX } from "../../src/profiles/intel_vmx.ts";
import { shippedProfile } from "../../src/profiles/mod.ts";
import { Recorder } from "../../src/report/recorder.ts";
import { SequenceProgram } from "../../src/workloads/program.ts";
import { createProgram } from "../../src/workloads/workloads.ts";

/** The Intel profile's cycles by primitive id. */
export const VMX_COSTS: Float64Array = resolveProfile(INTEL_VMX, shippedProfile).cyclesById;

/** A VM of `vcpus` vCPUs on 4 pCPUs whose vCPU 0 computes for 1 ms; its threads started. */
export function computingVm(vcpus: number): { sim: Simulator; pool: CpuPool; vm: Vm } {
  const sim = new Simulator();
  const pool = new CpuPool(sim, 4, 1e9);
  const env = {
    sim,
    costs: VMX_COSTS,
    pool,
    config: { postedInterrupts: true, ipiVirtualization: false, haltPollCycles: 0 },
  };
  const vm = new Vm(
    env,
    { name: "vm", vcpus, memoryMiB: 16, hostPageSize: "4K", timerHz: 0 },
    2.5e9,
  );
  const platform = VMX_PLATFORM.createVm(vm, { devices: "kernel", virtio: "vhost" });
  const recorder = new Recorder();
  for (const vcpu of vm.vcpus) {
    vcpu.platform = platform;
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
  return { sim, pool, vm };
}
