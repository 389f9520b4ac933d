/**
 * Plain (non-confidential) x86 guests on KVM, in VMX and SVM flavours: the flavours share
 * the flows and differ in exit-reason names and in their cost profiles.
 *
 * Flows (VMX names):
 * - CPUID / hypercall / MSR: VMEXIT → dispatch → handler → entry
 * - port I/O, MMIO: VMEXIT → dispatch → (MMIO: decode) → in-kernel device, or
 *   IOCTL_RET → [VMM lock] VMM handler → IOCTL_ENTER → entry
 * - TSC-deadline write: VMEXIT → dispatch → KVM_TSC_DEADLINE (arm the timer) → entry
 * - ICR write: VMEXIT → dispatch → KVM_IPI_SEND → deliver → entry; with IPI
 *   virtualization, no exit: the CPU delivers it (IPIV_SEND)
 * - virtio notify: VMEXIT → KVM_IOEVENTFD → wake the backend → entry; or without
 *   ioeventfd, a userspace exit that processes the request on the vCPU thread
 * - first touch of a page: EPT violation → KVM_MMU_FAULT under mmu_lock (read) → allocate,
 *   clear 4 KiB (or 2 MiB with huge host pages) → entry
 *
 * @module
 */

import { EXIT } from "../host/exit_reasons.ts";
import { P, type PrimitiveName } from "../host/primitives.ts";
import type { Flow } from "../host/thread.ts";
import { PAGES_PER_2M } from "../host/memory.ts";
import {
  type ChoiceSpec,
  type DesignSpec,
  EXIT_KIND,
  EXIT_KIND_COUNT,
  INSN,
  type PlatformSpec,
  type PlatformVm,
} from "./platform.ts";
import { armTscDeadline, emulateIpi, notifiedAhead, notifyVirtio } from "./handlers.ts";
import { userspaceExit } from "./userspace.ts";
import type { Vcpu } from "./vcpu.ts";
import type { Vm } from "./vm.ts";

/** Exit reason id for each exit kind, per flavour. */
const VMX_REASONS = reasons({
  CPUID: EXIT.CPUID,
  HYPERCALL: EXIT.VMCALL,
  PIO: EXIT.IO_INSTRUCTION,
  MMIO: EXIT.EPT_MISCONFIG,
  MSR_READ: EXIT.MSR_READ,
  MSR_WRITE: EXIT.MSR_WRITE,
  TDP_FAULT: EXIT.EPT_VIOLATION,
  HLT: EXIT.HLT,
  EXTERNAL: EXIT.EXTERNAL_INTERRUPT,
  TIMER: EXIT.PREEMPTION_TIMER,
});

const SVM_REASONS = reasons({
  CPUID: EXIT.CPUID,
  HYPERCALL: EXIT.VMMCALL,
  PIO: EXIT.IOIO,
  MMIO: EXIT.NPF,
  MSR_READ: EXIT.MSR,
  MSR_WRITE: EXIT.MSR,
  TDP_FAULT: EXIT.NPF,
  HLT: EXIT.HLT,
  EXTERNAL: EXIT.INTR,
  TIMER: EXIT.INTR, // no preemption timer: the hrtimer's host interrupt forces the exit
});

function reasons(byKind: Record<keyof typeof EXIT_KIND, number>): Int32Array {
  const table = new Int32Array(EXIT_KIND_COUNT);
  for (const [kind, reason] of Object.entries(byKind)) {
    table[EXIT_KIND[kind as keyof typeof EXIT_KIND]] = reason;
  }
  return table;
}

/** A plain x86 VM's flows. */
class X86Vm implements PlatformVm {
  readonly #vm: Vm;
  readonly #reasons: Int32Array;
  readonly #devicesInKernel: boolean;
  readonly #notifyOnVcpuThread: boolean;
  /** A fault maps the whole 2 MiB region (2 MiB host pages back the guest). */
  readonly #huge: boolean;

  constructor(vm: Vm, reasonTable: Int32Array, choices: Record<string, string>) {
    this.#vm = vm;
    this.#reasons = reasonTable;
    this.#devicesInKernel = choices.devices === "kernel";
    this.#notifyOnVcpuThread = choices.virtio === "vmm-vcpu";
    this.#huge = choices["host-pages"] === "2M" || vm.spec.hostPageSize === "2M";
  }

  exit(vcpu: Vcpu, kind: number): void {
    vcpu.countExit(this.#reasons[kind]);
    vcpu.step(P.VMEXIT);
    vcpu.step(P.KVM_EXIT_DISPATCH);
  }

  enter(vcpu: Vcpu): void {
    vcpu.step(P.VMENTRY);
  }

  *execute(vcpu: Vcpu, insn: number, arg: number): Flow {
    const vm = this.#vm;
    switch (insn) {
      case INSN.CPUID:
        this.exit(vcpu, EXIT_KIND.CPUID);
        vcpu.step(P.KVM_CPUID);
        break;
      case INSN.HYPERCALL:
        this.exit(vcpu, EXIT_KIND.HYPERCALL);
        vcpu.step(P.KVM_HYPERCALL);
        break;
      case INSN.PIO_READ:
      case INSN.PIO_WRITE:
        this.exit(vcpu, EXIT_KIND.PIO);
        if (this.#devicesInKernel) vcpu.step(P.KVM_PIO);
        else yield* userspaceExit(vcpu, vm, P.VMM_PIO);
        break;
      case INSN.MMIO_READ:
      case INSN.MMIO_WRITE:
        this.exit(vcpu, EXIT_KIND.MMIO);
        vcpu.step(P.KVM_MMIO_DECODE);
        if (this.#devicesInKernel) vcpu.step(P.KVM_MMIO_DEVICE);
        else yield* userspaceExit(vcpu, vm, P.VMM_MMIO);
        break;
      case INSN.MSR_READ:
        this.exit(vcpu, EXIT_KIND.MSR_READ);
        vcpu.step(P.KVM_MSR);
        break;
      case INSN.MSR_WRITE:
        this.exit(vcpu, EXIT_KIND.MSR_WRITE);
        vcpu.step(P.KVM_MSR);
        break;
      case INSN.TSC_DEADLINE:
        this.exit(vcpu, EXIT_KIND.MSR_WRITE);
        yield* armTscDeadline(vcpu, arg);
        break;
      case INSN.ICR_WRITE:
        if (vcpu.config.ipiVirtualization && arg !== vcpu.index) {
          // The CPU sends it: no exit, and a running target takes it as a posted interrupt.
          vcpu.step(P.IPIV_SEND);
          if (vcpu.lagCycles > 0) yield vcpu.lagCycles;
          vm.sendIpi(vcpu, arg, undefined);
          return;
        }
        this.exit(vcpu, EXIT_KIND.MSR_WRITE);
        yield* emulateIpi(vcpu, vm, arg);
        break;
      case INSN.VIRTIO_NOTIFY:
        this.exit(vcpu, EXIT_KIND.MMIO);
        // Without an ioeventfd KVM decodes the write before returning to the VMM.
        if (this.#notifyOnVcpuThread) vcpu.step(P.KVM_MMIO_DECODE);
        if (this.#notifyOnVcpuThread || !notifiedAhead(vcpu, vm, arg)) {
          yield* notifyVirtio(vcpu, vm, arg, this.#notifyOnVcpuThread);
        }
        break;
      case INSN.MEM_TOUCH:
      case INSN.ACCEPT_4K: // a plain guest has nothing to accept: the access faults it in
        if (vm.memory.isMapped(arg)) return; // mapped already: plain guest access
        yield* this.#tdpFault(vcpu, arg);
        break;
      case INSN.ACCEPT_2M: {
        // The guest touches every page of the chunk; each unmapped one faults.
        const first = arg * PAGES_PER_2M;
        const last = Math.min(first + PAGES_PER_2M, vm.memory.pages);
        for (let page = first; page < last; page++) {
          if (vm.memory.isMapped(page)) continue;
          yield* this.#tdpFault(vcpu, page);
          if (vcpu.needResched) yield* vcpu.preempt();
          vcpu.enter();
        }
        return;
      }
      case INSN.MAP_GPA_SHARED:
      case INSN.MAP_GPA_PRIVATE:
        return; // no private memory on a plain guest: nothing to convert
      default:
        throw new Error(`${vcpu.name} cannot execute instruction ${insn}`);
    }
    if (vcpu.needResched) yield* vcpu.preempt();
    vcpu.enter();
  }

  *#tdpFault(vcpu: Vcpu, page: number): Flow {
    const vm = this.#vm;
    this.exit(vcpu, EXIT_KIND.TDP_FAULT);
    vcpu.step(P.KVM_MMU_FAULT);
    yield* vcpu.waitOn(vm.mmuLock.read, P.WAIT_MMU_LOCK);
    // Another vCPU may have mapped it meanwhile (a spurious fault).
    if (!vm.memory.isMapped(page)) {
      const huge = this.#huge;
      vcpu.step(P.PAGE_ALLOC);
      vcpu.stepTimes(P.PAGE_CLEAR, huge ? PAGES_PER_2M : 1);
      if (vcpu.lagCycles > 0) yield vcpu.lagCycles;
      if (huge) vm.memory.map2m(page);
      else vm.memory.map4k(page);
    } else {
      if (vcpu.lagCycles > 0) yield vcpu.lagCycles;
    }
    vm.mmuLock.read.release();
  }
}

/** Where emulated devices and virtio live: choices every x86-based platform offers. */
export const X86_IO_CHOICES: PlatformSpec["choices"] = [
  {
    id: "devices",
    doc: "Where emulated devices (port I/O and MMIO registers) live",
    options: {
      kernel: "in KVM: an in-kernel device completes the access (kvm-unit-tests inl_from_kernel)",
      vmm: "in the userspace VMM: KVM_RUN returns to it for every access (inl_from_qemu)",
    },
  },
  {
    id: "virtio",
    doc: "Where virtio-net requests are processed",
    options: {
      vhost: "an in-kernel worker per VM (vhost-net); notifies are ioeventfds handled in KVM",
      vmm: "the VMM's I/O thread per VM, under its device lock; notifies are ioeventfds",
      "vmm-vcpu": "the VMM on the vCPU thread: each notify returns to userspace (no ioeventfd)",
      daemon: "one userspace daemon for every VM on the host (vhost-user); notifies are ioeventfds",
    },
  },
];

/** What backs a plain guest's memory in the host (the THP on/off reference). */
const HOST_PAGES_CHOICE: ChoiceSpec = {
  id: "host-pages",
  doc: "Host pages backing a plain guest's memory: what its EPT/NPT leaves can be",
  options: {
    scenario: "as the guest's `hostPageSize` says (4 KiB unless the scenario asks for 2 MiB)",
    "2M": "2 MiB (THP or hugetlbfs): a fault maps the whole 2 MiB region with one leaf",
  },
};

/**
 * Primitives every x86 platform's flows may charge: the guest's interrupt handling, KVM's
 * exit handlers, interrupt and timer paths, the host scheduler, virtio backends and the
 * userspace VMM. Each platform adds its own entry/exit path and extras.
 */
export const X86_COMMON_PRIMITIVES: readonly PrimitiveName[] = [
  "GUEST_ISR",
  "GUEST_TICK",
  "GUEST_IO_IRQ",
  "KVM_EXIT_DISPATCH",
  "KVM_CPUID",
  "KVM_HYPERCALL",
  "KVM_MSR",
  "KVM_PIO",
  "KVM_MMIO_DEVICE",
  "KVM_IOEVENTFD",
  "KVM_INJECT_IRQ",
  "KVM_IPI_SEND",
  "KVM_TSC_DEADLINE",
  "KVM_TIMER_FIRE",
  "KVM_HLT",
  "KVM_HALT_RESUME",
  "KVM_WAKE",
  "KVM_IRQ_ACK",
  "KICK_SEND",
  "KVM_MMU_FAULT",
  "PAGE_ALLOC",
  "PAGE_CLEAR",
  "IRQFD_SIGNAL",
  "VHOST_TX",
  "VHOST_RX",
  "SYSCALL",
  "CONTEXT_SWITCH",
  "SCHED_WAKEUP",
  "CACHE_COLD",
  "IBPB",
  "VCPU_LOAD",
  "VCPU_PUT",
  "IOCTL_RET",
  "IOCTL_ENTER",
  "VMM_PIO",
  "VMM_MMIO",
  "VMM_VIRTIO_TX",
  "VMM_VIRTIO_RX",
];

const PRIMITIVES: readonly PrimitiveName[] = [
  "IPIV_SEND",
  "VMEXIT",
  "VMENTRY",
  "KVM_MMIO_DECODE",
  ...X86_COMMON_PRIMITIVES,
];

/** Guest operations every x86 platform performs (confidential ones add their memory operations). */
export const X86_COMMON_OPERATIONS: PlatformSpec["operations"] = [
  "cpuid",
  "hypercall",
  "pio-read",
  "pio-write",
  "mmio-read",
  "mmio-write",
  "msr-read",
  "msr-write",
  "tsc-deadline",
  "ipi",
  "self-ipi-hlt",
  "virtio-rr",
  "touch",
  "memory",
];

const OPERATIONS: PlatformSpec["operations"] = [
  ...X86_COMMON_OPERATIONS,
  "accept-page",
  "accept-2m",
  "convert-shared",
  "convert-private",
];

function platform(
  name: "vmx" | "svm",
  table: Int32Array,
  description: string,
  defaultProfile: string,
): PlatformSpec {
  return {
    name,
    description,
    defaultProfile,
    choices: [HOST_PAGES_CHOICE, ...X86_IO_CHOICES],
    primitives: PRIMITIVES,
    operations: OPERATIONS,
    createVm: (vm, choices) => new X86Vm(vm, table, choices),
  };
}

/** Plain VMX guests on KVM. */
export const VMX_PLATFORM: PlatformSpec = platform(
  "vmx",
  VMX_REASONS,
  "A plain (non-confidential) Intel VMX guest on KVM",
  "intel-vmx",
);

/** Plain SVM guests on KVM. */
export const SVM_PLATFORM: PlatformSpec = platform(
  "svm",
  SVM_REASONS,
  "A plain (non-confidential) AMD SVM guest on KVM",
  "amd-svm",
);

function designs(prefix: "vmx" | "svm"): DesignSpec[] {
  return [
    {
      name: `${prefix}.io-in-kernel`,
      platform: prefix,
      summary: `plain ${prefix.toUpperCase()} guest; devices in KVM, virtio in vhost-net`,
      choices: { "host-pages": "scenario", devices: "kernel", virtio: "vhost" },
    },
    {
      name: `${prefix}.thp`,
      platform: prefix,
      summary: `plain ${prefix.toUpperCase()} guest on 2 MiB host pages (THP); devices in KVM`,
      splits: ["S15"],
      choices: { "host-pages": "2M", devices: "kernel", virtio: "vhost" },
    },
    {
      name: `${prefix}.io-in-vmm`,
      platform: prefix,
      summary: `plain ${prefix.toUpperCase()} guest; devices in the VMM, virtio on its I/O thread`,
      choices: { "host-pages": "scenario", devices: "vmm", virtio: "vmm" },
    },
    {
      name: `${prefix}.io-in-vmm-vcpu`,
      platform: prefix,
      summary:
        `plain ${prefix.toUpperCase()} guest; devices in the VMM, virtio notifies exit to userspace`,
      choices: { "host-pages": "scenario", devices: "vmm", virtio: "vmm-vcpu" },
    },
    {
      name: `${prefix}.io-daemon`,
      platform: prefix,
      summary: `plain ${prefix.toUpperCase()} guest; virtio served by one host-wide daemon`,
      choices: { "host-pages": "scenario", devices: "kernel", virtio: "daemon" },
    },
  ];
}

/** Designs of the VMX platform. */
export const VMX_DESIGNS: readonly DesignSpec[] = designs("vmx");
/** Designs of the SVM platform. */
export const SVM_DESIGNS: readonly DesignSpec[] = designs("svm");
