/**
 * Guest operations: what workloads ask a guest to do. A platform (plain VMX or SVM, TDX,
 * SNP, VSM) turns each into the steps of its flow, so one workload can run on every
 * platform and the reports show what each platform charges for the same guest behaviour.
 *
 * @module
 */

import { indexNames } from "./catalogue.ts";

/** Guest operations with what they mean. */
export const GUEST_OPERATIONS = {
  cpuid: "Execute CPUID (a leaf the hypervisor must answer).",
  hypercall: "Issue a hypercall to the hypervisor (VMCALL/VMMCALL/TDVMCALL).",
  "pio-read": "Read an I/O port of an emulated device (IN).",
  "pio-write": "Write an I/O port of an emulated device (OUT).",
  "mmio-read": "Read a register of an emulated MMIO device.",
  "mmio-write": "Write a register of an emulated MMIO device.",
  "msr-read": "Read an intercepted MSR.",
  "msr-write": "Write an intercepted MSR.",
  "tsc-deadline": "Arm the LAPIC timer through the TSC-deadline MSR with a deadline already " +
    "passed, and take the interrupt (kvm-unit-tests tscdeadline_immed).",
  ipi: "Send an IPI to the next vCPU of the guest and spin until its handler has run " +
    "(kvm-unit-tests ipi).",
  "self-ipi-hlt": "With interrupts off, send an IPI to itself, then STI; HLT and take the " +
    "interrupt (kvm-unit-tests self_ipi_sti_hlt).",
  "virtio-rr": "Send one request on a virtio queue (a notify write) and idle until its " +
    "response interrupt has been handled (a request-response round trip).",
  touch: "Touch the next page of guest memory; the first touch of a page faults it in (in a " +
    "TD, an unaccepted page is accepted first).",
  "accept-page": "Accept the next 4 KiB of private memory (TDG.MEM.PAGE.ACCEPT); on a plain " +
    "guest, first-touch it.",
  "accept-2m": "Accept the next 2 MiB of private memory, trying 2 MiB first and falling back " +
    "to 512 4 KiB accepts where the host maps 4 KiB only; on a plain guest, first-touch it.",
  "convert-shared": "Convert the next 2 MiB of private memory to shared (TDX MapGPA); nothing " +
    "on a plain guest.",
  "convert-private": "Convert the 2 MiB most recently made shared back to private; nothing on " +
    "a plain guest.",
  "vtl-call": "Hyper-V VSM: VTL0 calls VTL1 (HvCallVtlCall); the secure kernel services the " +
    "call and returns (HvCallVtlReturn).",
  protect: "Hyper-V VSM: VTL1 changes VTL0's access to its next `pages` pages " +
    "(HvModifyVtlProtectionMask), alternating read-execute and read-write as W^X code and " +
    "data protections do. Issued from VTL1: the operation does not switch VTLs (a workload " +
    "counts the switches with vtl-call).",
  "secure-touch": "Hyper-V VSM: VTL0 writes a page VTL1 has made read-execute (kernel code " +
    "locked at boot): a secure intercept VTL1 handles before VTL0 resumes.",
  "vtl-ipi": "Hyper-V VSM: VTL1 sends an interrupt to VTL1 of the next vCPU (a cross-VTL IPI " +
    "hypercall) and spins until its handler has run; the target leaves VTL0 for it.",
  "vtl-get-registers": "Hyper-V VSM: VTL1 reads VTL0's registers (HvCallGetVpRegisters with a " +
    "target VTL), a cross-VTL hypercall.",
  "convert-page-shared": "AMD SEV-SNP: convert the next 4 KiB of private memory to shared (a " +
    "one-page page state change; inside a 2 MiB RMP entry it needs a PSMASH, and a 2 MiB " +
    "leaf over it is zapped).",
  "convert-page-private": "AMD SEV-SNP: convert the 4 KiB page most recently made shared back " +
    "to private.",
  memory: "A batch of accesses to the `memory` workload's working set (only that workload " +
    "issues it): first touches fault in what is not mapped, then the accesses cost what the " +
    "translation model says (src/host/translation.ts). Its latency is per access.",
} as const;

/** Name of a guest operation. */
export type GuestOperation = keyof typeof GUEST_OPERATIONS;

const indexed = indexNames(GUEST_OPERATIONS);

/** All operation names, in id order. */
export const OPERATION_NAMES: readonly GuestOperation[] = indexed.names;

/** Operation ids by name. */
export const OP: { readonly [K in GuestOperation]: number } = indexed.ids;

/** Returned by a guest program when it has nothing more to do. */
export const OP_DONE = -1;

/** Returned by a guest program for pure guest compute with no operation after it. */
export const OP_NONE = -2;

/** Returned by a guest program to idle (halt) for `gapCycles` instead of computing. */
export const OP_IDLE = -3;
