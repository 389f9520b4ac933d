/**
 * Hyper-V VSM guests on KVM on an Intel Xeon: the intel-vmx profile plus the costs of VTL
 * switching, VTL protections and secure intercepts. No VTL switch, protection change or
 * intercept has been published for KVM (calibration.md section 3); the one sourced figure is
 * the MMU role change a VTL's memory view switch amounts to (P. Bonzini's TDP MMU series,
 * 4879 cycles for an exit that changes the MMU role with cached roots kept). Everything else
 * is an estimate built from the intel-vmx figures (syscall, wake-up, exit handling), marked
 * as such.
 *
 * @module
 */

import type { CostSpec, ProfileSpec } from "../host/profile.ts";
import type { PrimitiveName } from "../host/primitives.ts";
import { INTEL_TDX } from "./intel_tdx.ts";
import { INTEL_FIGURES, INTEL_VMX } from "./intel_vmx.ts";

const base = (name: PrimitiveName) => INTEL_VMX.costs[name]!.cycles;
const estimate = (cycles: number, basis: string): CostSpec => ({ cycles, kind: "estimate", basis });

/** An exit that changes the MMU role with the TDP MMU, cached roots kept (cycles). */
const MMU_ROLE_CHANGE_EXIT = 4879;
const BONZINI_MMU = "P. Bonzini, kvm list 2022-02-17, 20220217210340.312449-19-pbonzini@redhat.com";

/** The same estimate as intel-tdx: the memory-attribute machinery is common KVM code. */
const fromTdx = (name: PrimitiveName): CostSpec => {
  const cost = INTEL_TDX.costs[name]!;
  return { ...cost, basis: `${cost.basis} (as in intel-tdx: common KVM code)` };
};

const costs: Partial<Record<PrimitiveName, CostSpec>> = {
  GUEST_SECURE_CALL: estimate(
    2500,
    "~1 us: the secure kernel's call dispatcher validates a call, runs a short service " +
      "(e.g. one LSAIso step) and prepares HvCallVtlReturn",
  ),
  GUEST_SECURE_INTERCEPT: estimate(
    5000,
    "~2 us: the secure kernel reads the intercept message, decodes VTL0's access, emulates " +
      "or denies it and advances VTL0's RIP (twice a secure call)",
  ),
  KVM_VTL_SWITCH: estimate(
    600,
    "swap ~24 VTL-private registers and MSRs (TLFS private state) between KVM's VTL " +
      "contexts and the VMCS: VMREAD/VMWRITE at ~20-30 cycles each",
  ),
  KVM_MMU_VIEW_SWITCH: {
    cycles: MMU_ROLE_CHANGE_EXIT - INTEL_FIGURES.cpuid,
    kind: "derived",
    basis: `an exit that changes the MMU role, TDP MMU, cached roots kept: ` +
      `${MMU_ROLE_CHANGE_EXIT} cycles (${BONZINI_MMU}) minus a CPUID round trip ` +
      `(${INTEL_FIGURES.cpuid}); 46754 when roots were dropped, which a VTL switch must avoid`,
  },
  KVM_SYNIC_MESSAGE: estimate(
    800,
    "write a ~256-byte intercept message into VTL1's SynIC message page and set the SINT " +
      "pending: a guest-memory write and an APIC update",
  ),
  KVM_SET_MEMSLOT: estimate(
    5000,
    "one KVM_SET_USER_MEMORY_REGION: a syscall, allocate and fill the new memslot, update " +
      "the gfn and hva trees, arch prepare/commit: ~2 us besides its SRCU grace period",
  ),
  MEMSLOT_LOOKUP: estimate(
    15,
    "one rb-tree level of search_memslots: a dependent load, mostly a cache hit",
  ),
  KVM_SET_ATTRIBUTES: fromTdx("KVM_SET_ATTRIBUTES"),
  XA_OP: fromTdx("XA_OP"),
  KVM_ZAP: fromTdx("KVM_ZAP"),
  VMM_VTL_SWITCH: estimate(
    1000,
    "QEMU decodes a VTL call/return exit from kvm_run and picks the VTL to run: like " +
      "VMM_PIO's dispatch without the device work",
  ),
  VMM_VTL_COPY: estimate(
    500,
    "copy the registers VTLs share (16 GPRs, XMM/AVX state) between two saved states in " +
      "VMM memory: a few cache lines",
  ),
  VMM_HYPERCALL: estimate(
    base("VMM_PIO"),
    "as VMM_PIO: QEMU decodes a hypercall exit, reads its input page and runs the handler",
  ),
  VMM_PROTECT: estimate(
    1500,
    "decode HvModifyVtlProtectionMask (read its GPA list from the input page), merge " +
      "adjacent pages into ranges, choose the ioctls",
  ),
  VMM_INTERCEPT: estimate(
    2000,
    "build a HvMessage for a memory intercept (access type, GPA, instruction bytes, VTL0 " +
      "registers), write it into VTL1's SynIC page and signal the SINT (an ioctl)",
  ),
  VMM_GUEST_READ: estimate(
    300,
    "address_space_read of a few bytes of guest RAM (translate through the memory map, " +
      "copy), a cache hit",
  ),
};

/** The default VSM profile. */
export const INTEL_VSM: ProfileSpec = {
  name: "intel-vsm",
  description: "Intel Xeon, Hyper-V VSM guests on KVM: intel-vmx plus VTL switching, " +
    "protections and intercepts",
  base: "intel-vmx",
  platform: "vsm",
  // A VSM guest runs the vmexit tests exactly as a plain VMX guest does.
  references: INTEL_VMX.references,
  costs,
};
