/**
 * What each recorded KVM exit reason becomes in an imported scenario: the guest operation
 * that caused it, or nothing (with why). The operation is what the guest did; each
 * platform then charges its own flow for it, so a CPUID exit of a plain VMX guest becomes,
 * under TDX, a #VE and a TDG.VP.VMCALL, and under SNP a #VC and a GHCB exit.
 *
 * Reason names are KVM's, as its kvm_exit trace event and `perf kvm stat` print them:
 * VMX_EXIT_REASONS in arch/x86/include/uapi/asm/vmx.h and SVM_EXIT_REASONS in
 * arch/x86/include/uapi/asm/svm.h.
 *
 * @module
 */

import type { GuestOperation } from "../host/operations.ts";
import { TRACE_HALT } from "../workloads/workloads.ts";

/** What an imported step does: a guest operation or a halt. */
export type ImportedStep = GuestOperation | typeof TRACE_HALT;

/** The instruction set of the recorded host. */
export type Isa = "vmx" | "svm";

/** How the direction of an exit that reads or writes is told from the record. */
type Direction = "pio" | "mmio" | "msr";

/** One row of the mapping table. */
export interface ExitMapping {
  /** The operation, or a direction to resolve (read or write), or null: not imported. */
  to: ImportedStep | Direction | null;
  /** Where the meaning of the exit comes from. */
  source: string;
  /** What a TD, an SNP guest and a VSM guest do instead, or why it is not imported. */
  note: string;
}

const SDM = "Intel SDM vol. 3C";
const APM = "AMD APM vol. 2";
const HOST_CAUSED = "caused by the host or by interrupt delivery, not by the guest's own " +
  "work; cvmsim's host model makes its own (ticks, kicks, IPIs)";

/** Exit reasons of VMX hosts that map to an operation, with their source. */
const VMX_MAPPED: Record<string, ExitMapping> = {
  CPUID: {
    to: "cpuid",
    source: `${SDM} 26.1.2 (CPUID exits unconditionally); KVM kvm_emulate_cpuid`,
    note: "TD: #VE and TDG.VP.VMCALL<Instruction.CPUID>; SNP: #VC and a GHCB exit",
  },
  VMCALL: {
    to: "hypercall",
    source: `${SDM} 26.1.2 (VMCALL exits unconditionally); KVM kvm_emulate_hypercall`,
    note: "TD: TDG.VP.VMCALL; SNP: VMGEXIT through the GHCB",
  },
  IO_INSTRUCTION: {
    to: "pio",
    source: `${SDM} table 28-5 (exit qualification bit 3: 1 = IN); KVM handle_io, kvm_pio`,
    note: "TD: #VE and TDG.VP.VMCALL<Instruction.IO>; SNP: #VC and a GHCB IOIO exit",
  },
  MSR_READ: {
    to: "msr-read",
    source: `${SDM} 26.1.3 (RDMSR of an intercepted MSR); KVM kvm_emulate_rdmsr, kvm_msr`,
    note: "TD: #VE and TDG.VP.VMCALL<Instruction.RDMSR>; SNP: #VC and a GHCB MSR exit",
  },
  MSR_WRITE: {
    to: "msr",
    source: `${SDM} 26.1.3 (WRMSR of an intercepted MSR); KVM kvm_emulate_wrmsr, kvm_msr`,
    note: "a write of the x2APIC ICR (MSR 0x830) is an IPI; of the EOI (0x80b) is left to " +
      "cvmsim's interrupt handler; of TSC_DEADLINE (0x6e0) right before a HLT is part of the " +
      "halt; TD: #VE and TDG.VP.VMCALL<Instruction.WRMSR>; SNP: #VC and a GHCB MSR exit",
  },
  EPT_MISCONFIG: {
    to: "mmio",
    source: `${SDM} 28.3.3.1 (a misconfigured EPT entry); KVM marks MMIO SPTEs so, kvm_mmio`,
    note: "TD: #VE and TDG.VP.VMCALL<#VE.RequestMMIO>; SNP: #VC and a GHCB MMIO exit",
  },
  EPT_VIOLATION: {
    to: "touch",
    source: `${SDM} 28.3.3.2 (no EPT mapping yet); KVM handle_ept_violation`,
    note: "a fault-in of guest memory (an MMIO access when kvm_mmio follows); TD: a " +
      "private page is accepted first; SNP: the RMP entry is assigned too",
  },
  HLT: {
    to: TRACE_HALT,
    source: `${SDM} 26.1.3 (HLT exiting); KVM kvm_emulate_halt`,
    note: "the guest idles until the next entry; TD: TDG.VP.VMCALL<Instruction.HLT>; " +
      "SNP: #VC and a GHCB HLT exit",
  },
};

/** Exit reasons of SVM hosts that map to an operation, with their source. */
const SVM_MAPPED: Record<string, ExitMapping> = {
  cpuid: {
    to: "cpuid",
    source: `${APM} 15.9 (CPUID intercept); KVM cpuid_interception`,
    note: VMX_MAPPED.CPUID.note,
  },
  hypercall: {
    to: "hypercall",
    source: `${APM} 15.9 (VMMCALL intercept, named "hypercall" in SVM_EXIT_REASONS)`,
    note: VMX_MAPPED.VMCALL.note,
  },
  vmmcall: {
    to: "hypercall",
    source: `${APM} 15.9 (VMMCALL intercept)`,
    note: VMX_MAPPED.VMCALL.note,
  },
  io: {
    to: "pio",
    source: `${APM} 15.10.2 (EXITINFO1 bit 0, TYPE: 1 = IN); KVM io_interception, kvm_pio`,
    note: VMX_MAPPED.IO_INSTRUCTION.note,
  },
  msr: {
    to: "msr",
    source: `${APM} 15.11 (EXITINFO1: 0 = RDMSR, 1 = WRMSR); KVM msr_interception, kvm_msr`,
    note: VMX_MAPPED.MSR_WRITE.note,
  },
  npf: {
    to: "touch",
    source: `${APM} 15.25.6 (nested page fault); KVM npf_interception`,
    note: "a fault-in of guest memory, or an MMIO access when kvm_mmio follows",
  },
  hlt: {
    to: TRACE_HALT,
    source: `${APM} 15.9 (HLT intercept); KVM kvm_emulate_halt`,
    note: VMX_MAPPED.HLT.note,
  },
};

/** Known VMX reasons that are not imported, with why when it is not "host-caused". */
const VMX_NOT_IMPORTED: Record<string, string> = {
  EXCEPTION_NMI: "an exception or NMI intercepted by KVM (e.g. #MC, #DB); no operation",
  EXTERNAL_INTERRUPT: HOST_CAUSED,
  TRIPLE_FAULT: "the guest is dying",
  INIT_SIGNAL: HOST_CAUSED,
  SIPI_SIGNAL: HOST_CAUSED,
  INTERRUPT_WINDOW: HOST_CAUSED,
  NMI_WINDOW: HOST_CAUSED,
  TASK_SWITCH: "no operation",
  GETSEC: "no operation",
  INVD: "no operation",
  INVLPG: "no operation (not intercepted with EPT)",
  RDPMC: "no operation; a TD and an SNP guest read their PMU without the host",
  RDTSC: "no operation; not intercepted by KVM",
  RSM: "no operation",
  VMCLEAR: "nested VMX: no operation",
  VMLAUNCH: "nested VMX: no operation",
  VMPTRLD: "nested VMX: no operation",
  VMPTRST: "nested VMX: no operation",
  VMREAD: "nested VMX: no operation",
  VMRESUME: "nested VMX: no operation",
  VMWRITE: "nested VMX: no operation",
  VMOFF: "nested VMX: no operation",
  VMON: "nested VMX: no operation",
  CR_ACCESS: "a control register access; no operation (a TD's are handled by the TDX module)",
  DR_ACCESS: "a debug register access; no operation",
  INVALID_STATE: "a failed entry",
  MSR_LOAD_FAIL: "a failed entry",
  MWAIT_INSTRUCTION: "no operation",
  MONITOR_TRAP_FLAG: "single-stepping; no operation",
  MONITOR_INSTRUCTION: "no operation",
  PAUSE_INSTRUCTION: "a spin loop (pause-loop exiting); no operation",
  MCE_DURING_VMENTRY: "a failed entry",
  TPR_BELOW_THRESHOLD: HOST_CAUSED,
  APIC_ACCESS: "an xAPIC page access; no operation (x2APIC MSR writes are imported)",
  EOI_INDUCED: HOST_CAUSED,
  GDTR_IDTR: "no operation",
  LDTR_TR: "no operation",
  INVEPT: "nested VMX: no operation",
  RDTSCP: "no operation; not intercepted by KVM",
  PREEMPTION_TIMER: "KVM's emulation of the guest's LAPIC timer; " + HOST_CAUSED,
  INVVPID: "nested VMX: no operation",
  WBINVD: "no operation",
  XSETBV: "no operation; in a TD the TDX module handles XSETBV without the host",
  APIC_WRITE: "an APIC-register write trap (APICv); no operation",
  RDRAND: "no operation",
  INVPCID: "no operation",
  VMFUNC: "no operation",
  ENCLS: "SGX; no operation",
  RDSEED: "no operation",
  PML_FULL: "dirty logging of the host; no operation",
  XSAVES: "no operation",
  XRSTORS: "no operation",
  UMWAIT: "no operation",
  TPAUSE: "no operation",
  BUS_LOCK: "no operation",
  NOTIFY: "no operation",
};

/** Known SVM reasons that are not imported. */
const SVM_NOT_IMPORTED: Record<string, string> = {
  interrupt: HOST_CAUSED,
  nmi: HOST_CAUSED,
  smi: HOST_CAUSED,
  init: HOST_CAUSED,
  vintr: HOST_CAUSED,
  pause: "a spin loop (pause filtering); no operation",
  shutdown: "the guest is dying",
  xsetbv: "no operation",
  invd: "no operation",
  invlpg: "no operation",
  invlpga: "no operation",
  invpcid: "no operation",
  rdpmc: "no operation",
  rdtsc: "no operation",
  rdtscp: "no operation",
  rdpru: "no operation",
  wbinvd: "no operation",
  monitor: "no operation",
  mwait: "no operation",
  task_switch: "no operation",
  cr0_sel_write: "a control register access; no operation",
  avic_incomplete_ipi: "an IPI AVIC could not deliver; " + HOST_CAUSED,
  avic_unaccelerated_access: "an APIC access AVIC does not accelerate; no operation",
  vmgexit: "an SEV-ES/SNP guest's exit: the trace is of a protected guest already",
  invalid_guest_state: "a failed entry",
  vmrun: "nested SVM: no operation",
  vmload: "nested SVM: no operation",
  vmsave: "nested SVM: no operation",
  stgi: "nested SVM: no operation",
  clgi: "nested SVM: no operation",
  skinit: "no operation",
  bus_lock: "no operation",
  idle_hlt: "no operation",
};

/** One row of the mapping table, as docs/import.md lists it. */
export interface MappingRow {
  isa: Isa;
  reason: string;
  to: string;
  source: string;
  note: string;
}

/** The whole mapping table (imported reasons first). */
export function mappingTable(): MappingRow[] {
  const rows: MappingRow[] = [];
  const add = (isa: Isa, mapped: Record<string, ExitMapping>, skipped: Record<string, string>) => {
    for (const [reason, m] of Object.entries(mapped)) {
      rows.push({ isa, reason, to: describeTarget(m.to), source: m.source, note: m.note });
    }
    for (const [reason, why] of Object.entries(skipped)) {
      rows.push({ isa, reason, to: "not imported", source: "", note: why });
    }
  };
  add("vmx", VMX_MAPPED, VMX_NOT_IMPORTED);
  add("svm", SVM_MAPPED, SVM_NOT_IMPORTED);
  return rows;
}

function describeTarget(to: ExitMapping["to"]): string {
  if (to === "pio") return "pio-read or pio-write";
  if (to === "mmio") return "mmio-read or mmio-write";
  if (to === "msr") return "msr-read, msr-write, or ipi (ICR)";
  return to ?? "not imported";
}

/** Which instruction set a reason name belongs to, or undefined when it is unknown. */
export function isaOf(reason: string): Isa | undefined {
  if (Object.hasOwn(VMX_MAPPED, reason) || Object.hasOwn(VMX_NOT_IMPORTED, reason)) return "vmx";
  if (Object.hasOwn(SVM_MAPPED, reason) || Object.hasOwn(SVM_NOT_IMPORTED, reason)) return "svm";
  return undefined;
}

/** What a recorded exit carried besides its reason (all optional). */
export interface ExitDetail {
  /** From kvm_pio, kvm_mmio, kvm_msr or kvm_hypercall between the exit and the next entry. */
  event?: "pio" | "mmio" | "msr" | "hypercall";
  /** For pio, mmio and msr events: whether it wrote. */
  write?: boolean;
  /** For msr events: the MSR index. */
  msr?: number;
  /** The kvm_exit event's info1 (VMX exit qualification, SVM EXITINFO1), when printed. */
  info1?: bigint;
}

/** How an exit was resolved. */
export interface Resolved {
  /** The step, or undefined when the reason is not imported or unknown. */
  step: ImportedStep | undefined;
  /** Set when the direction was not recorded and the default (a write) was taken. */
  guessed: boolean;
  /** Set for reasons this table does not know at all. */
  unknown: boolean;
  /** Why an exit of an imported reason is not imported itself (e.g. an EOI write). */
  skipped?: string;
}

/** The x2APIC interrupt command register: a write sends an IPI (SDM vol. 3A 11.12.9). */
export const X2APIC_ICR_MSR = 0x830;
/** The x2APIC EOI register (SDM vol. 3A table 11-6). */
export const X2APIC_EOI_MSR = 0x80b;
/** IA32_TSC_DEADLINE (SDM vol. 3A 11.5.4.1). */
export const TSC_DEADLINE_MSR = 0x6e0;

/** Resolves one exit to what the guest did. */
export function resolveExit(isa: Isa, reason: string, detail: ExitDetail): Resolved {
  const table = isa === "vmx" ? VMX_MAPPED : SVM_MAPPED;
  const mapping = Object.hasOwn(table, reason) ? table[reason] : undefined;
  if (mapping === undefined) {
    const skipped = isa === "vmx" ? VMX_NOT_IMPORTED : SVM_NOT_IMPORTED;
    return { step: undefined, guessed: false, unknown: !Object.hasOwn(skipped, reason) };
  }
  // A detail event says best what happened (an EPT violation that was MMIO, say).
  if (detail.event === "mmio" || mapping.to === "mmio") {
    return direction("mmio-read", "mmio-write", detail.event === "mmio" ? detail.write : undefined);
  }
  if (detail.event === "hypercall") return { step: "hypercall", guessed: false, unknown: false };
  if (mapping.to === "pio") {
    const write = detail.event === "pio"
      ? detail.write
      // VMX: exit qualification bit 3 is 1 for IN; SVM: EXITINFO1 bit 0 is 1 for IN.
      : detail.info1 === undefined
      ? undefined
      : ((detail.info1 >> (isa === "vmx" ? 3n : 0n)) & 1n) === 0n;
    return direction("pio-read", "pio-write", write);
  }
  if (mapping.to === "msr") {
    const write = detail.event === "msr"
      ? detail.write
      : reason === "MSR_WRITE"
      ? true
      : detail.info1 === undefined
      ? undefined
      : (detail.info1 & 1n) === 1n;
    if (write === true && detail.msr === X2APIC_ICR_MSR) {
      return { step: "ipi", guessed: false, unknown: false };
    }
    if (write === true && detail.msr === X2APIC_EOI_MSR) {
      // cvmsim's guest interrupt handler pays its own (virtualized) EOI for each interrupt.
      return { step: undefined, guessed: false, unknown: false, skipped: "EOI" };
    }
    return direction("msr-read", "msr-write", write);
  }
  return { step: mapping.to ?? undefined, guessed: false, unknown: false };
}

function direction(read: GuestOperation, write: GuestOperation, isWrite: boolean | undefined) {
  return { step: isWrite === false ? read : write, guessed: isWrite === undefined, unknown: false };
}
