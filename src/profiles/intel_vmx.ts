/**
 * Intel Xeon server (Skylake-SP to Sapphire Rapids class), plain VMX guests on KVM with
 * host mitigations off. Built from the kvm-unit-tests `vmexit` figures posted to the KVM
 * list and the host baselines in ../shared/design/calibration.md. How a round trip splits
 * into its steps is not published, so those shares are estimates chosen so that each
 * flow's sum reproduces the published total; `deno task sim calibrate` checks them.
 *
 * @module
 */

import type { CostSpec, ProfileSpec } from "../host/profile.ts";
import type { PrimitiveName } from "../host/primitives.ts";
import { SPR_TRANSLATION } from "./translation.ts";

/** The published figures this profile is calibrated on (cycles unless noted). */
export const INTEL_FIGURES = {
  cpuid: 1027, // vmexit cpuid, pinned vCPU, after the fix (Christopherson 2024)
  vmcall: 1529, // vmexit vmcall, Skylake-SP, after (Wanpeng Li 2020-03-13)
  ipi: 3293, // vmexit ipi send → ACK, with both fast paths (Wanpeng Li 2020-04-10)
  tscdeadlineImmed: 2495, // vmexit tscdeadline_immed 2494.75, fast path (Wanpeng Li 2020-04-28)
  nestedCpuid: 13142, // nested vmexit, after (Bonzini 2019)
  nestedInlKernel: 13518,
  nestedInlQemu: 44826,
  getpidNs: 250, // getpid round trip, i3-7100 at 3.9 GHz (D. Sites)
  getpidGHz: 3.9,
  contextSwitchUs: 1.02, // lmbench lat_ctx, 2 processes
  zeroMsPerGiB: 130, // zeroing guest memory (acrn-hypervisor PR #7300)
  // A futex wake to a thread waiting on another CPU, until its wait returns: the target
  // CPU polling (POLL), median, and the published histogram's p99/median (Zen2, 4.0 GHz).
  wakeupPollNs: 1071,
  wakeupP99OverMedian: 1.037,
};

const F = INTEL_FIGURES;
const CLOCK_GHZ = 2.5;

/** Citations used by the profile's costs and references. */
export const SOURCES = {
  christopherson: "S. Christopherson, kvm list 2024-12-09, Z1ecILHBlpkiAThl@google.com",
  vmcall:
    "Wanpeng Li, kvm list 2020-03-13, 1584071718-17163-1-git-send-email-wanpengli@tencent.com",
  ipi: "Wanpeng Li, kvm list 2020-04-10, 1586480607-5408-1-git-send-email-wanpengli@tencent.com",
  tscdeadline:
    "Wanpeng Li, kvm list 2020-04-28, 1588055009-12677-1-git-send-email-wanpengli@tencent.com",
  bonzini: 'P. Bonzini, "[PATCH 00/43] VMX optimizations", kvm list 2019',
  sites: "D. Sites (KUtrace), clearlinux/distribution issue #3168",
  latCtx: "lmbench lat_ctx, xxyzz/ostep-hw issue #19",
  acrn: "projectacrn/acrn-hypervisor PR #7300",
  wakeup: "Zen2 Threadripper at 4.0 GHz, Linux 5.13, LKML 2021-10, " +
    "70998f86-74d7-7ced-867e-f17695bc88e7@gmail.com (and 035c23b4-118e-6a35-36d9-1b11e3d679f8@gmail.com)",
  intelIdle: "intel_idle.c spr_cstates (torvalds/linux drivers/idle/intel_idle.c, Intel's " +
    "wult measurements)",
  contextSwitchCost: "Li, Ding & Shen, Quantifying the Cost of Context Switch, ExpCS 2007",
};

/** Cycles at the profile's clock of a time in microseconds. */
const us = (micros: number) => Math.round(micros * CLOCK_GHZ * 1e3);

// Shares of a round trip (estimates; their sums reproduce the published totals).
const VMEXIT = 330;
const VMENTRY = 400;
const DISPATCH = 200;
const EXIT_ENTRY = VMEXIT + VMENTRY + DISPATCH;
const GUEST_ISR = 300;
const INJECT = 150;
const TIMER_FIRE = 400;
const IPI_SEND = 500;
const KVM_CPUID = F.cpuid - EXIT_ENTRY;
const KVM_PIO = KVM_CPUID + (F.nestedInlKernel - F.nestedCpuid);
const INL_FROM_KERNEL = EXIT_ENTRY + KVM_PIO;
// Assumption: the userspace/in-kernel ratio of the nested pair carries over to bare metal.
const INL_FROM_QEMU = Math.round(INL_FROM_KERNEL * F.nestedInlQemu / F.nestedInlKernel);
const IOCTL_CROSSING = 1250;
const VMM_PIO = INL_FROM_QEMU - EXIT_ENTRY - 2 * IOCTL_CROSSING;
const SYSCALL = Math.round(F.getpidNs * F.getpidGHz);
const WAKE = 1500;

const estimate = (cycles: number, basis: string): CostSpec => ({
  cycles,
  kind: "estimate",
  basis,
});
const derived = (cycles: number, basis: string): CostSpec => ({ cycles, kind: "derived", basis });

const costs: Partial<Record<PrimitiveName, CostSpec>> = {
  GUEST_ISR: estimate(
    GUEST_ISR,
    "a minimal handler: IDT delivery, a counter increment, an EOI the CPU virtualizes (APICv), IRET",
  ),
  GUEST_TICK: estimate(
    5000,
    "a Linux tick (timekeeping, hrtimers, RCU and scheduler bookkeeping) takes about 2 us",
  ),
  GUEST_IO_IRQ: estimate(
    2500,
    "a virtio-net interrupt, a NAPI poll of one packet and the socket wake-up: about 1 us",
  ),
  IPIV_SEND: estimate(100, "the CPU sends the IPI on the ICR write without an exit: a bus message"),
  VMEXIT: estimate(
    VMEXIT,
    `about a third of the ${F.cpuid}-cycle CPUID round trip (${SOURCES.christopherson}); ` +
      "the hardware saves guest state and loads host state",
  ),
  VMENTRY: estimate(
    VMENTRY,
    "a little above VMEXIT: entry also runs the VM-entry checks; exit + entry + dispatch " +
      `= ${EXIT_ENTRY} of the ${F.cpuid}-cycle CPUID round trip`,
  ),
  KVM_EXIT_DISPATCH: estimate(
    DISPATCH,
    "exit-reason read, handler dispatch and pre-entry request checks: the part of the CPUID " +
      "round trip every exit pays besides the hardware switch",
  ),
  KVM_CPUID: derived(
    KVM_CPUID,
    `${F.cpuid} (vmexit cpuid, ${SOURCES.christopherson}) - VMEXIT - VMENTRY - KVM_EXIT_DISPATCH`,
  ),
  KVM_HYPERCALL: derived(
    F.vmcall - EXIT_ENTRY,
    `${F.vmcall} (vmexit vmcall, Skylake-SP, ${SOURCES.vmcall}) - VMEXIT - VMENTRY - ` +
      "KVM_EXIT_DISPATCH; measured on a different host than the CPUID figure",
  ),
  KVM_MSR: estimate(
    150,
    "MSR emulation is a table lookup like CPUID (KVM_CPUID) plus the MSR switch",
  ),
  KVM_PIO: derived(
    KVM_PIO,
    `KVM_CPUID + ${F.nestedInlKernel - F.nestedCpuid}, the inl_from_kernel - cpuid gap of the ` +
      `nested pair (${F.nestedInlKernel} - ${F.nestedCpuid}, ${SOURCES.bonzini})`,
  ),
  KVM_MMIO_DECODE: estimate(
    1200,
    "KVM's x86 emulator fetches and decodes the faulting instruction: about 0.5 us",
  ),
  KVM_MMIO_DEVICE: estimate(KVM_PIO, "same as KVM_PIO: a device on the in-kernel I/O bus"),
  KVM_IOEVENTFD: estimate(
    300,
    "an I/O-bus match and eventfd_signal; waking a sleeping consumer is KVM_WAKE on top",
  ),
  KVM_INJECT_IRQ: estimate(INJECT, "set up event injection (or sync the PIR) before entry"),
  KVM_IPI_SEND: estimate(
    IPI_SEND,
    "the x2APIC ICR fast path: decode the destination, set the IRR/PIR bit, notify or wake",
  ),
  KVM_TSC_DEADLINE: derived(
    F.tscdeadlineImmed - VMEXIT - DISPATCH - TIMER_FIRE - INJECT - VMENTRY - GUEST_ISR,
    `${F.tscdeadlineImmed} (vmexit tscdeadline_immed 2494.75, Skylake-SP, ${SOURCES.tscdeadline}) ` +
      "- VMEXIT - KVM_EXIT_DISPATCH - KVM_TIMER_FIRE - KVM_INJECT_IRQ - VMENTRY - GUEST_ISR",
  ),
  KVM_TIMER_FIRE: estimate(
    TIMER_FIRE,
    "expire the emulated LAPIC timer and make its interrupt pending",
  ),
  KVM_HLT: estimate(150, "kvm_emulate_halt: skip the instruction and check for pending events"),
  KVM_HALT_RESUME: derived(
    F.ipi - (VMEXIT + DISPATCH + IPI_SEND) - (INJECT + VMENTRY + GUEST_ISR),
    `${F.ipi} (vmexit ipi send to ACK, Skylake-SP, ${SOURCES.ipi}) minus the sender's exit and ` +
      "KVM_IPI_SEND and the target's KVM_INJECT_IRQ, VMENTRY and GUEST_ISR: the polling " +
      "target's way back to entry, with the cross-core signalling",
  ),
  KVM_WAKE: estimate(
    WAKE,
    "try_to_wake_up of a sleeping thread on another pCPU with its IPI: about half of lat_ctx",
  ),
  KVM_IRQ_ACK: estimate(
    300,
    "host interrupt entry and the smp-call handler that acknowledges a kick",
  ),
  KICK_SEND: estimate(300, "an x2APIC ICR write on the host to the target pCPU"),
  KVM_MMU_FAULT: estimate(
    1500,
    "TDP MMU fault: walk, memslot lookup, pin the host page, install the SPTE: about 0.6 us",
  ),
  PAGE_ALLOC: estimate(400, "a page from the buddy allocator's per-CPU lists"),
  PAGE_CLEAR: derived(
    Math.round(F.zeroMsPerGiB * 1e-3 / 262144 * CLOCK_GHZ * 1e9),
    `zeroing ${F.zeroMsPerGiB} ms per GiB (${SOURCES.acrn}) = 0.496 us per 4 KiB at ${CLOCK_GHZ} GHz`,
  ),
  IRQFD_SIGNAL: estimate(500, "eventfd signal, irqfd wake-up and MSI delivery to the vCPU"),
  VHOST_TX: estimate(
    3000,
    "vhost-net sends one packet (descriptor fetch, copy, hand to the tap/bridge): about 1.2 us",
  ),
  VHOST_RX: estimate(3000, "vhost-net receives one packet into the virtqueue: about 1.2 us"),
  SYSCALL: derived(
    SYSCALL,
    `getpid round trip ${F.getpidNs} ns at ${F.getpidGHz} GHz (${SOURCES.sites})`,
  ),
  SRCU_SYNC: estimate(
    10000,
    "synchronize_srcu_expedited's own work (IPIs, callbacks) besides waiting for readers: ~4 us",
  ),
  CONTEXT_SWITCH: derived(
    Math.round(F.contextSwitchUs * 1e3 * CLOCK_GHZ),
    `${F.contextSwitchUs} us (${SOURCES.latCtx}) at ${CLOCK_GHZ} GHz`,
  ),
  THREAD_HANDOFF: derived(
    SYSCALL + WAKE,
    "a futex wake or pthread_kill: a system call (SYSCALL, the getpid round trip) plus " +
      "try_to_wake_up with its IPI (KVM_WAKE)",
  ),
  SCHED_WAKEUP: {
    cycles: Math.round(F.wakeupPollNs * CLOCK_GHZ),
    p99Cycles: Math.round(F.wakeupPollNs * CLOCK_GHZ * F.wakeupP99OverMedian),
    kind: "derived",
    basis:
      `a futex wake reaches a thread waiting on another, polling CPU in ${F.wakeupPollNs} ns ` +
      `(median; p99 ${F.wakeupP99OverMedian}x it) on ${SOURCES.wakeup}; no Intel server ` +
      `figure was found, so the time is taken as is at ${CLOCK_GHZ} GHz`,
  },
  CACHE_COLD: estimate(
    5000,
    `${SOURCES.contextSwitchCost} measure the indirect cost of a switch from several us ` +
      "upward with the working set; ~2 us for a thread whose hot data fits in L2",
  ),
  IBPB: estimate(
    3000,
    "no published cost found: the barrier discards the indirect branch predictors, about " +
      "a microsecond on server cores",
  ),
  VCPU_LOAD: estimate(600, "vmx_vcpu_load: VMPTRLD of the VMCS and host-state fix-ups"),
  VCPU_PUT: estimate(500, "vmx_vcpu_put: save guest state KVM keeps lazily, restore host MSRs"),
  IOCTL_RET: estimate(
    IOCTL_CROSSING,
    `a getpid round trip (${SYSCALL} cycles, ${SOURCES.sites}) plus putting guest FPU/MSR state; ` +
      "with IOCTL_ENTER and VMM_PIO sized so inl_from_qemu / inl_from_kernel = " +
      `${F.nestedInlQemu} / ${F.nestedInlKernel} (nested, ${SOURCES.bonzini})`,
  ),
  IOCTL_ENTER: estimate(
    IOCTL_CROSSING,
    "mirror of IOCTL_RET: syscall entry, vcpu_load and the pre-entry checks; far below the " +
      "12.3 us tinykvm upper bound for a whole KVM_RUN round trip",
  ),
  STATE_SYNC_GET: estimate(
    1200,
    `one KVM_GET_* ioctl: a syscall (${SYSCALL}) plus copying registers out`,
  ),
  STATE_SYNC_PUT: estimate(
    1200,
    `one KVM_SET_* ioctl: a syscall (${SYSCALL}) plus copying registers in`,
  ),
  VMM_PIO: estimate(
    VMM_PIO,
    `the rest of inl_from_qemu = ${INL_FROM_QEMU} (inl_from_kernel ${INL_FROM_KERNEL} x ` +
      `${F.nestedInlQemu}/${F.nestedInlKernel}) after the exit, the entry and two KVM_RUN crossings`,
  ),
  VMM_MMIO: estimate(VMM_PIO, "same as VMM_PIO: QEMU's address-space dispatch to the device"),
  VMM_VIRTIO_TX: estimate(
    5000,
    "QEMU's virtio-net pops a descriptor, builds the iovec and sends: about 2 us (the tap write is a SYSCALL)",
  ),
  VMM_VIRTIO_RX: estimate(
    5000,
    "QEMU's virtio-net fills a descriptor from the tap read: about 2 us (the reads and irqfd write are SYSCALLs)",
  ),
};

/** The default Intel profile. */
export const INTEL_VMX: ProfileSpec = {
  name: "intel-vmx",
  description:
    "Intel Xeon server (Skylake-SP..Sapphire Rapids class), VMX on KVM, host mitigations off",
  platform: "vmx",
  references: {
    cpuid: { cycles: F.cpuid, kind: "measured", source: SOURCES.christopherson },
    vmcall: { cycles: F.vmcall, kind: "measured", source: `Skylake-SP, ${SOURCES.vmcall}` },
    inl_from_kernel: {
      cycles: INL_FROM_KERNEL,
      kind: "derived",
      source: "no bare-metal figure: cpuid + the nested inl_from_kernel - cpuid gap " +
        `(${SOURCES.bonzini})`,
    },
    inl_from_qemu: {
      cycles: INL_FROM_QEMU,
      kind: "derived",
      source: `no bare-metal figure: inl_from_kernel x ${F.nestedInlQemu}/${F.nestedInlKernel}, ` +
        `the nested pair's ratio (${SOURCES.bonzini})`,
    },
    ipi: { cycles: F.ipi, kind: "measured", source: `Skylake-SP, ${SOURCES.ipi}` },
    tscdeadline_immed: {
      cycles: F.tscdeadlineImmed,
      kind: "measured",
      source: `2494.75, Skylake-SP, ${SOURCES.tscdeadline}`,
    },
  },
  clockGHz: CLOCK_GHZ,
  clockBasis:
    "estimate: the Intel figures come from 2.0-2.5 GHz base-clock servers and vmexit counts TSC ticks (calibration.md section 2)",
  idleStates: [
    {
      name: "C1",
      exitCycles: us(1),
      residencyCycles: us(1),
      flushesCaches: false,
      deep: false,
      basis: `exit latency 1 us, target residency 1 us (${SOURCES.intelIdle})`,
    },
    {
      name: "C1E",
      exitCycles: us(2),
      residencyCycles: us(4),
      flushesCaches: false,
      deep: false,
      basis: `exit latency 2 us, target residency 4 us (${SOURCES.intelIdle})`,
    },
    {
      name: "C6",
      exitCycles: us(290),
      residencyCycles: us(800),
      flushesCaches: true,
      deep: true,
      basis: `exit latency 290 us, target residency 800 us, the worst case with package C6 ` +
        `(190/600 us with it off); core C6 powers the core's caches down (${SOURCES.intelIdle})`,
    },
  ],
  mitigations: false,
  translation: SPR_TRANSLATION,
  costs,
};

/** The Intel profile with the host's CPU vulnerability mitigations on. */
export const INTEL_VMX_MITIGATIONS: ProfileSpec = {
  name: "intel-vmx-mitigations",
  description: "intel-vmx with the host kernel's CPU vulnerability mitigations on (IBPB on " +
    "vCPU switches, the costlier exit path Christopherson measured)",
  base: "intel-vmx",
  mitigations: true,
  references: {
    cpuid: {
      cycles: 1600,
      kind: "measured",
      source: `"1600+" cycles with host mitigations on (${SOURCES.christopherson})`,
    },
  },
  costs: {
    VMEXIT: derived(
      VMEXIT + 1600 - F.cpuid,
      `VMEXIT (${VMEXIT}) plus what mitigations add to the CPUID round trip: "1600+" - ` +
        `${F.cpuid} cycles (${SOURCES.christopherson}), put on the exit (RSB and branch ` +
        "predictor clearing happen there)",
    ),
  },
};
