/**
 * Intel Xeon server (Skylake-SP to Sapphire Rapids class), plain VMX guests on KVM with
 * host mitigations off. Built from the kvm-unit-tests `vmexit` figures posted to the KVM
 * list (see ../shared/design/calibration.md); the split of a round trip into its steps is
 * not published, so those shares are estimates whose sums reproduce the published totals.
 *
 * @module
 */

import type { ProfileSpec } from "../host/profile.ts";

const CPUID_ROUND_TRIP = 1027; // Christopherson 2024, pinned vCPU, after the fix
const VMCALL_ROUND_TRIP = 1529; // Wanpeng Li 2020, Skylake-SP, after the fix
const NESTED_INL_KERNEL = 13518; // Bonzini 2019, nested, after
const NESTED_INL_QEMU = 44826; // Bonzini 2019, nested, after
const NESTED_CPUID = 13142; // Bonzini 2019, nested, after

const VMEXIT = 330;
const VMENTRY = 400;
const KVM_EXIT_DISPATCH = 200;
const EXIT_ENTRY = VMEXIT + VMENTRY + KVM_EXIT_DISPATCH;
const KVM_CPUID = CPUID_ROUND_TRIP - EXIT_ENTRY;
const KVM_PIO = KVM_CPUID + (NESTED_INL_KERNEL - NESTED_CPUID);
const INL_FROM_KERNEL = EXIT_ENTRY + KVM_PIO;
// Assumption: the userspace/in-kernel ratio of the nested pair carries over to bare metal.
const INL_FROM_QEMU = Math.round(INL_FROM_KERNEL * NESTED_INL_QEMU / NESTED_INL_KERNEL);
const IOCTL_CROSSING = 1250;
const VMM_PIO = INL_FROM_QEMU - EXIT_ENTRY - 2 * IOCTL_CROSSING;

const CHRISTOPHERSON = "S. Christopherson, kvm list 2024-12-09, Z1ecILHBlpkiAThl@google.com";
const BONZINI = 'P. Bonzini, "[PATCH 00/43] VMX optimizations", kvm list 2019';

/** The default Intel profile. */
export const INTEL_VMX: ProfileSpec = {
  name: "intel-vmx",
  description:
    "Intel Xeon server (Skylake-SP..Sapphire Rapids class), VMX on KVM, host mitigations off",
  clockGHz: 2.5,
  clockBasis:
    "estimate: the Intel figures come from 2.0-2.5 GHz base-clock servers and vmexit counts TSC ticks (calibration.md section 2)",
  costs: {
    VMEXIT: {
      cycles: VMEXIT,
      kind: "estimate",
      basis:
        `about a third of the ${CPUID_ROUND_TRIP}-cycle CPUID round trip (${CHRISTOPHERSON}); ` +
        "the hardware saves guest state and loads host state",
    },
    VMENTRY: {
      cycles: VMENTRY,
      kind: "estimate",
      basis:
        "a little above VMEXIT: entry also runs the VM-entry checks; exit + entry + dispatch " +
        `= ${EXIT_ENTRY} of the ${CPUID_ROUND_TRIP}-cycle CPUID round trip`,
    },
    KVM_EXIT_DISPATCH: {
      cycles: KVM_EXIT_DISPATCH,
      kind: "estimate",
      basis: "exit-reason read, handler dispatch and pre-entry request checks: the part of the " +
        "CPUID round trip that every exit pays besides the hardware switch",
    },
    KVM_CPUID: {
      cycles: KVM_CPUID,
      kind: "derived",
      basis:
        `${CPUID_ROUND_TRIP} (vmexit cpuid, ${CHRISTOPHERSON}) - VMEXIT - VMENTRY - KVM_EXIT_DISPATCH`,
    },
    KVM_HYPERCALL: {
      cycles: VMCALL_ROUND_TRIP - EXIT_ENTRY,
      kind: "derived",
      basis: `${VMCALL_ROUND_TRIP} (vmexit vmcall, Skylake-SP, Wanpeng Li 2020-03-13, ` +
        "1584071718-17163-1-git-send-email-wanpengli@tencent.com) - VMEXIT - VMENTRY - " +
        "KVM_EXIT_DISPATCH; measured on a different host than the CPUID figure",
    },
    KVM_PIO: {
      cycles: KVM_PIO,
      kind: "derived",
      basis: `KVM_CPUID + ${NESTED_INL_KERNEL - NESTED_CPUID}, the inl_from_kernel - cpuid gap ` +
        `of the nested pair (${NESTED_INL_KERNEL} - ${NESTED_CPUID}, ${BONZINI})`,
    },
    IOCTL_RET: {
      cycles: IOCTL_CROSSING,
      kind: "estimate",
      basis: "a getpid round trip (250 ns = 975 cycles at 3.9 GHz, D. Sites, clearlinux " +
        "issue #3168) plus putting guest FPU/MSR state; with IOCTL_ENTER and VMM_PIO sized so " +
        `inl_from_qemu / inl_from_kernel = ${NESTED_INL_QEMU} / ${NESTED_INL_KERNEL} (nested, ${BONZINI})`,
    },
    IOCTL_ENTER: {
      cycles: IOCTL_CROSSING,
      kind: "estimate",
      basis: "mirror of IOCTL_RET: syscall entry, vcpu_load and the pre-entry checks; far " +
        "below the 12.3 us tinykvm upper bound for a whole KVM_RUN round trip",
    },
    VMM_PIO: {
      cycles: VMM_PIO,
      kind: "estimate",
      basis:
        `the rest of inl_from_qemu = ${INL_FROM_QEMU} cycles (inl_from_kernel ${INL_FROM_KERNEL} ` +
        `x ${NESTED_INL_QEMU}/${NESTED_INL_KERNEL}) after the exit, the entry and two KVM_RUN crossings`,
    },
  },
};
