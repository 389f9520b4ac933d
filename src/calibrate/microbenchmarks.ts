/**
 * The kvm-unit-tests `vmexit` microbenchmarks as simulated scenarios: each test is one
 * guest operation run in a loop, on the platform the profile was measured on, so a
 * profile can be checked against the figures it was built from.
 *
 * @module
 */

import type { Reference, ResolvedProfile } from "../host/profile.ts";
import type { GuestOperation } from "../host/operations.ts";
import type { PrimitiveName } from "../host/primitives.ts";
import { checkScenario } from "../scenario/load.ts";
import type { MicrobenchmarkName } from "../scenario/microbenchmark_names.ts";
import { simulate } from "../scenario/run.ts";

/** One reproduced test. */
export interface Microbenchmark {
  test: MicrobenchmarkName;
  operation: GuestOperation;
  /** The test VM's vCPUs (ipi sends to a second vCPU idling in HLT). */
  vcpus: number;
  /** Where the port read's device lives (inl_from_qemu reads a port only QEMU emulates). */
  devices: "kernel" | "vmm";
  /** Platforms the test runs on (default: every platform with a design for `devices`). */
  platforms?: string[];
  /** The flow's own step, which an imported measurement of the test sets. */
  ownStep: PrimitiveName;
  /** What the guest does, as in x86/vmexit.c. */
  doc: string;
}

/** The reproduced tests, in the order x86/vmexit.c runs them. */
export const MICROBENCHMARKS: readonly Microbenchmark[] = [
  {
    test: "cpuid",
    operation: "cpuid",
    vcpus: 1,
    devices: "kernel",
    ownStep: "KVM_CPUID",
    doc: "CPUID, handled in KVM",
  },
  {
    test: "vmcall",
    operation: "hypercall",
    vcpus: 1,
    devices: "kernel",
    ownStep: "KVM_HYPERCALL",
    doc: "VMCALL, handled in KVM",
  },
  {
    test: "inl_from_qemu",
    operation: "pio-read",
    vcpus: 1,
    devices: "vmm",
    ownStep: "VMM_PIO",
    doc: "inl from port 0x1234, which only QEMU emulates",
  },
  {
    test: "inl_from_kernel",
    operation: "pio-read",
    vcpus: 1,
    devices: "kernel",
    ownStep: "KVM_PIO",
    doc: "inb from port 0x4d0 (ELCR), emulated in KVM",
  },
  {
    test: "self_ipi_sti_hlt",
    operation: "self-ipi-hlt",
    vcpus: 1,
    devices: "kernel",
    ownStep: "KVM_HLT",
    doc: "cli; self-IPI; sti; hlt; the handler runs",
  },
  {
    test: "ipi",
    operation: "ipi",
    vcpus: 2,
    devices: "kernel",
    ownStep: "KVM_HALT_RESUME",
    doc: "IPI to vCPU 1, idling in HLT, and wait for its handler",
  },
  {
    test: "wr_tsc_adjust_msr",
    operation: "msr-write",
    vcpus: 1,
    devices: "kernel",
    ownStep: "KVM_MSR",
    doc: "wrmsr of TSC_ADJUST, handled in KVM",
  },
  {
    test: "rd_tsc_adjust_msr",
    operation: "msr-read",
    vcpus: 1,
    devices: "kernel",
    ownStep: "KVM_MSR",
    doc: "rdmsr of TSC_ADJUST, handled in KVM",
  },
  {
    test: "td_accept_4k",
    operation: "accept-page",
    vcpus: 1,
    devices: "kernel",
    ownStep: "SEAMCALL(TDH.MEM.PAGE.AUG)",
    doc: "a TD accepts fresh 4 KiB private pages one by one",
    platforms: ["tdx"],
  },
  {
    test: "tscdeadline_immed",
    operation: "tsc-deadline",
    vcpus: 1,
    devices: "kernel",
    ownStep: "KVM_TSC_DEADLINE",
    doc: "arm the TSC deadline in the past; the timer interrupt's handler runs",
  },
];

/** A test's simulated result next to the profile's reference figure. */
export interface MicrobenchmarkResult {
  test: MicrobenchmarkName;
  design: string;
  /** Mean simulated cycles per iteration. */
  simulatedCycles: number;
  reference: Reference | undefined;
  /** (simulated - reference) / reference, when there is a reference. */
  relativeDifference: number | undefined;
}

/** Iterations per test: the loops are deterministic, so the mean settles quickly. */
const ITERATIONS = 500;

/** The design a test runs under on `platform`, if the platform can run it. */
function designFor(bench: Microbenchmark, platform: string): string | undefined {
  if (bench.platforms !== undefined && !bench.platforms.includes(platform)) return undefined;
  if (platform === "tdx") return bench.devices === "kernel" ? "tdx.upstream" : undefined;
  if (platform === "snp") return bench.devices === "kernel" ? "snp.upstream" : "snp.io-in-vmm";
  if (platform === "vsm") return bench.devices === "kernel" ? "vsm.in-kernel" : undefined;
  return `${platform}.io-in-${bench.devices}`;
}

/** Simulates every test `profile`'s platform can run and compares with its references. */
export function runMicrobenchmarks(profile: ResolvedProfile): MicrobenchmarkResult[] {
  const platform = profile.platform ?? "vmx";
  return MICROBENCHMARKS.flatMap((bench) => {
    const design = designFor(bench, platform);
    if (design === undefined) return [];
    const loaded = checkScenario(
      {
        name: `vmexit-${bench.test.replaceAll("_", "-")}`,
        guests: [{
          vcpus: bench.vcpus,
          memoryMiB: 64,
          workloads: [{
            kind: "loop",
            operation: bench.operation,
            iterations: ITERATIONS,
            vcpus: [0],
          }],
        }],
        designs: [design],
      },
      "",
      { profile },
    );
    const { summary } = simulate(loaded, design);
    const simulatedCycles = summary.operations[bench.operation].meanCycles;
    const reference = profile.references[bench.test];
    return [{
      test: bench.test,
      design,
      simulatedCycles,
      reference,
      relativeDifference: reference === undefined || reference.cycles === 0
        ? undefined
        : (simulatedCycles - reference.cycles) / reference.cycles,
    }];
  });
}
