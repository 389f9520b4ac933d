/**
 * Plain VMX guests on KVM: exits handled in the kernel, or forwarded to the userspace VMM.
 *
 * CPUID:     VMEXIT → dispatch → KVM_CPUID → VMENTRY
 * hypercall: VMEXIT → dispatch → KVM_HYPERCALL → VMENTRY
 * port I/O:  VMEXIT → dispatch → KVM_PIO (in-kernel device) → VMENTRY, or
 *            VMEXIT → dispatch → IOCTL_RET → [VMM lock] VMM_PIO → IOCTL_ENTER → VMENTRY
 *
 * @module
 */

import { EXIT } from "../host/exit_reasons.ts";
import { OP } from "../host/operations.ts";
import { P } from "../host/primitives.ts";
import type { Flow } from "../host/thread.ts";
import type { DesignSpec, PlatformSpec, PlatformVm } from "./platform.ts";
import { userspaceExit } from "./userspace.ts";
import type { Vcpu } from "./vcpu.ts";
import type { Vm } from "./vm.ts";

class VmxVm implements PlatformVm {
  readonly #vm: Vm;
  readonly #ioInKernel: boolean;

  constructor(vm: Vm, choices: Record<string, string>) {
    this.#vm = vm;
    this.#ioInKernel = choices.io === "kernel";
  }

  *perform(vcpu: Vcpu, op: number): Flow {
    switch (op) {
      case OP.cpuid:
        exit(vcpu, EXIT.CPUID);
        vcpu.step(P.KVM_CPUID);
        break;
      case OP.hypercall:
        exit(vcpu, EXIT.VMCALL);
        vcpu.step(P.KVM_HYPERCALL);
        break;
      case OP["pio-read"]:
      case OP["pio-write"]:
        exit(vcpu, EXIT.IO_INSTRUCTION);
        if (this.#ioInKernel) vcpu.step(P.KVM_PIO);
        else yield* userspaceExit(vcpu, this.#vm, P.VMM_PIO);
        break;
      default:
        throw new Error(`VMX cannot perform guest operation ${op}`);
    }
    vcpu.step(P.VMENTRY);
  }
}

function exit(vcpu: Vcpu, reason: number): void {
  vcpu.countExit(reason);
  vcpu.step(P.VMEXIT);
  vcpu.step(P.KVM_EXIT_DISPATCH);
}

/** The plain VMX platform. */
export const VMX_PLATFORM: PlatformSpec = {
  name: "vmx",
  description: "A plain (non-confidential) VMX guest on KVM",
  choices: [{
    id: "io",
    doc: "Where emulated port I/O is handled",
    options: {
      kernel: "an in-kernel device completes the access (like kvm-unit-tests inl_from_kernel)",
      vmm: "KVM_RUN returns to the userspace VMM, which emulates the device (inl_from_qemu)",
    },
  }],
  primitives: [
    "VMEXIT",
    "VMENTRY",
    "KVM_EXIT_DISPATCH",
    "KVM_CPUID",
    "KVM_HYPERCALL",
    "KVM_PIO",
    "IOCTL_RET",
    "IOCTL_ENTER",
    "VMM_PIO",
  ],
  operations: ["cpuid", "hypercall", "pio-read", "pio-write"],
  createVm: (vm, choices) => new VmxVm(vm, choices),
};

/** Designs of the VMX platform. */
export const VMX_DESIGNS: readonly DesignSpec[] = [
  {
    name: "vmx.io-in-kernel",
    platform: "vmx",
    summary: "plain VMX guest; port I/O completed by an in-kernel device",
    choices: { io: "kernel" },
  },
  {
    name: "vmx.io-in-vmm",
    platform: "vmx",
    summary: "plain VMX guest; port I/O forwarded to the userspace VMM",
    choices: { io: "vmm" },
  },
];
