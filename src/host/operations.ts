/**
 * Guest operations: what workloads ask a guest to do. A platform (plain VMX, TDX, SNP,
 * VSM) turns each into the steps of its flow, so one workload can run on every platform
 * and the reports show what each platform charges for the same guest behaviour.
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
