/**
 * What every platform (plain VMX or SVM, TDX, SNP, VSM) provides, and what a design is.
 *
 * A platform executes guest *instructions* that may exit (CPUID, a port access, an ICR
 * write, a notify write, a memory touch...) as flows of costed steps, and provides the
 * exit and entry paths the vCPU runtime uses for asynchronous exits (interrupts, timers,
 * HLT). A design is a named set of choices for one platform's splits (flows.md section D);
 * the shared conformance suite (tests/designs/) runs every design through the same checks.
 *
 * @module
 */

import type { FifoServer, ResourceStats } from "../engine/mod.ts";
import type { Timeline } from "../report/timeline.ts";
import type { GuestOperation } from "../host/operations.ts";
import type { PrimitiveName } from "../host/primitives.ts";
import type { PageSize } from "../host/translation.ts";
import type { Flow, HostThread } from "../host/thread.ts";
import type { Vcpu } from "./vcpu.ts";
import type { Vm } from "./vm.ts";

/** Architectural causes of an exit; each platform maps them to its own exit reasons. */
export const EXIT_KIND = {
  CPUID: 0,
  HYPERCALL: 1,
  PIO: 2,
  MMIO: 3,
  MSR_READ: 4,
  MSR_WRITE: 5,
  TDP_FAULT: 6,
  HLT: 7,
  /** A host interrupt while in guest mode: a kick, a notification, the host tick. */
  EXTERNAL: 8,
  /** The guest's LAPIC timer expired while in guest mode. */
  TIMER: 9,
} as const;

/** Number of exit kinds. */
export const EXIT_KIND_COUNT = Object.keys(EXIT_KIND).length;

/** Guest instructions a platform executes (the architectural part of guest operations). */
export const INSN = {
  CPUID: 0,
  HYPERCALL: 1,
  PIO_READ: 2,
  PIO_WRITE: 3,
  MMIO_READ: 4,
  MMIO_WRITE: 5,
  MSR_READ: 6,
  MSR_WRITE: 7,
  /** Write the TSC-deadline MSR; arg: absolute deadline in cycles (past fires at once). */
  TSC_DEADLINE: 8,
  /** Write the x2APIC ICR; arg: target vCPU index. */
  ICR_WRITE: 9,
  /** Write a virtio queue's notify register; arg: queue index. */
  VIRTIO_NOTIFY: 10,
  /** Access guest memory; arg: 4 KiB page index. */
  MEM_TOUCH: 11,
  /** Accept one 4 KiB private page (TDG.MEM.PAGE.ACCEPT); arg: page index. */
  ACCEPT_4K: 12,
  /** Accept a 2 MiB chunk, falling back to 4 KiB where needed; arg: chunk index. */
  ACCEPT_2M: 13,
  /** Convert a 2 MiB chunk to shared (MapGPA); arg: chunk index. */
  MAP_GPA_SHARED: 14,
  /** Convert a 2 MiB chunk to private (MapGPA); arg: chunk index. */
  MAP_GPA_PRIVATE: 15,
  /** Convert one 4 KiB page to shared; arg: page index. */
  MAP_GPA_SHARED_4K: 16,
  /** Convert one 4 KiB page to private; arg: page index. */
  MAP_GPA_PRIVATE_4K: 17,
  // Hyper-V VSM (numbered from 32 so other platforms' additions cannot collide).
  /** VTL0 calls VTL1, which services the call and returns; arg unused. */
  VTL_CALL: 32,
  /** VTL1 changes VTL0's access to a range (HvModifyVtlProtectionMask); arg: pages. */
  VTL_PROTECT: 33,
  /** VTL0 writes a page VTL1 protected against writes; arg: page index, or -1. */
  SECURE_WRITE: 34,
  /** VTL1 sends an interrupt to another vCPU's VTL1 (cross-VTL IPI); arg: target vCPU. */
  VTL_IPI: 35,
  /** VTL1 reads VTL0's registers (HvCallGetVpRegisters); arg unused. */
  VTL_GET_REGISTERS: 36,
} as const;

/** A choice a design makes (one split), declared once with its options. */
export interface ChoiceSpec {
  id: string;
  doc: string;
  /** Option name → what it means. */
  options: Record<string, string>;
}

/** A named design: a platform plus one option per choice. */
export interface DesignSpec {
  name: string;
  platform: string;
  /** One line for lists and tables. */
  summary: string;
  /** The flows.md split(s) this design takes a side in, e.g. "S6". */
  splits?: string[];
  /** Choice id → option. */
  choices: Record<string, string>;
}

/** A platform's behaviour for one VM. */
export interface PlatformVm {
  /** Charges the exit path for an exit of `kind` (and counts the exit). */
  exit(vcpu: Vcpu, kind: number): void;
  /** Charges the hardware entry path (the pre-entry work is the vCPU's). */
  enter(vcpu: Vcpu): void;
  /** Executes instruction `insn` (from INSN) with argument `arg`, exits and all. */
  execute(vcpu: Vcpu, insn: number, arg: number): Flow;
  /** Platform resources (a TD's module locks) to report on and record. */
  resources?(): ResourceStats[];
  /**
   * Follows the platform's resources on `timeline` itself (called once the VM's threads
   * have lanes); returns what closes the recording at the end of the run. Absent: each of
   * `resources()` is followed as an exclusive resource (its holders and queue).
   */
  record?(timeline: Timeline): (endCycles: number) => void;
  /**
   * A host thread writes guest page `page` for a device (DMA emulation: a backend puts a
   * response in a guest buffer); `kernel` when the writer is a kernel thread (vhost).
   * Returns false when the write killed the writer (its host process is gone). Absent:
   * host writes to guest memory always succeed at no extra cost.
   */
  deviceWrite?(thread: HostThread, page: number, kernel: boolean): Flow<boolean>;
  /** The guest reads back a device buffer at `page` (after the device wrote it). */
  guestReadsBuffer?(vcpu: Vcpu, page: number): Flow;
  /**
   * The guest (in VTL `vtl`, for VSM) can access `page` without a fault, #VE or #VC.
   * Absent: when it is mapped.
   */
  pageReady?(page: number, vtl: number): boolean;
  /**
   * One 2 MiB leaf maps 2 MiB region `region` in the second-level tables VTL `vtl` runs
   * on. Absent: what the guest's page state says (its REGION_HUGE flag).
   */
  hugeRegion?(region: number, vtl: number): boolean;
  /**
   * Hyper-V VSM: runs `accessCycles` of memory accesses and `walkCycles` of their walks
   * in VTL `vtl` of `vcpu` (a VTL call from VTL0 and the return), re-entering VTL0 after.
   */
  runInVtl?(vcpu: Vcpu, vtl: number, accessCycles: number, walkCycles: number): Flow;
  /** `page` must be accepted (TDX ACCEPT, SNP PVALIDATE) before the guest may use it. */
  needsAccept?(page: number): boolean;
  /** AMD SEV-SNP: the size of the RMP entry covering `page` (the hardware checks it). */
  rmpPageSize?(page: number): PageSize;
  /**
   * What the VMM does between creating the VM and its first KVM_RUN (an SNP launch), run
   * on a host thread of its own that holds a pCPU; the vCPUs start once it has returned.
   */
  launch?(thread: HostThread): Flow;
  /**
   * Work the platform asked for with {@linkcode Vcpu.requestHostWork}, run on the vCPU's
   * thread before its next entry (a switch to another VTL for an interrupt, a hold while
   * the VMM has paused the VM). The vCPU clears `hostWork` before calling it.
   */
  hostWork?(vcpu: Vcpu): Flow;
  /**
   * Host threads the platform runs for this VM besides the vCPU threads (a VMM thread per
   * vCPU parking another VTL in KVM_RUN), each created with `spawn` and returned with its
   * body; run.ts starts and reports them.
   */
  hostThreads?(spawn: (name: string) => HostThread): { thread: HostThread; body: Flow }[];
}

/**
 * Host-wide hardware every VM of a run shares. src/scenario/run.ts builds each piece once
 * per simulation, on first use, and records it as a resource.
 */
export interface HostHardware {
  /** AMD's Secure Processor: runs firmware commands for every VM of the host, one at a time. */
  readonly psp: FifoServer;
}

/** A platform: the flows for one kind of guest. */
export interface PlatformSpec {
  name: string;
  description: string;
  /** The shipped profile its designs use when a scenario names none. */
  defaultProfile: string;
  choices: readonly ChoiceSpec[];
  /** Fixed-cost primitives its flows may charge (checked against the profile). */
  primitives: readonly PrimitiveName[];
  /** Guest operations it implements. */
  operations: readonly GuestOperation[];
  /**
   * Builds the per-VM behaviour under the given choices, on a host with `hardware` (which
   * platforms that use host-wide hardware require).
   */
  createVm(vm: Vm, choices: Record<string, string>, hardware?: HostHardware): PlatformVm;
}
