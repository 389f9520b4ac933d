/**
 * Exit reasons as the host reports them (KVM's names; VMX and SVM spell some differently),
 * for the "exits by reason" tables.
 *
 * @module
 */

import { indexNames } from "./catalogue.ts";

/** Exit reasons with what causes them. */
export const EXIT_REASONS = {
  CPUID: "The guest executed CPUID.",
  VMCALL: "The guest executed VMCALL (VMX hypercall).",
  VMMCALL: "The guest executed VMMCALL (SVM hypercall).",
  IO_INSTRUCTION: "The guest executed IN/OUT on an intercepted port (VMX).",
  IOIO: "The guest executed IN/OUT on an intercepted port (SVM).",
  MSR_READ: "The guest read an intercepted MSR (VMX).",
  MSR_WRITE: "The guest wrote an intercepted MSR, e.g. the x2APIC ICR or TSC deadline (VMX).",
  MSR: "The guest read or wrote an intercepted MSR (SVM).",
  EPT_VIOLATION: "The guest touched memory with no EPT mapping (VMX).",
  EPT_MISCONFIG: "The guest touched an MMIO page (VMX; KVM marks them with misconfigured SPTEs).",
  NPF: "A nested page fault: unmapped memory or MMIO (SVM).",
  HLT: "The guest executed HLT.",
  EXTERNAL_INTERRUPT: "A host interrupt arrived while in guest mode (kick, host timer tick) (VMX).",
  INTR: "A host interrupt arrived while in guest mode (SVM).",
  PREEMPTION_TIMER: "The VMX preemption timer expired (the guest's TSC-deadline timer).",
  TDVMCALL: "A TD guest asked the host for a service (TDG.VP.VMCALL), often after a #VE.",
  VMGEXIT: "An SEV-ES/SNP guest asked the host for a service (VMGEXIT through the GHCB or " +
    "the GHCB MSR protocol), often from its #VC handler.",
} as const;

/** Name of an exit reason. */
export type ExitReasonName = keyof typeof EXIT_REASONS;

const indexed = indexNames(EXIT_REASONS);

/** All exit reason names, in id order. */
export const EXIT_REASON_NAMES: readonly ExitReasonName[] = indexed.names;

/** Exit reason ids by name. */
export const EXIT: { readonly [K in ExitReasonName]: number } = indexed.ids;
