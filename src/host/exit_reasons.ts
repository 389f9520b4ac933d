/**
 * Exit reasons as reported by the host (KVM's names), for the "exits by reason" tables.
 *
 * @module
 */

import { indexNames } from "./catalogue.ts";

/** Exit reasons with what causes them. */
export const EXIT_REASONS = {
  CPUID: "The guest executed CPUID.",
  VMCALL: "The guest executed VMCALL (VMX hypercall).",
  IO_INSTRUCTION: "The guest executed IN/OUT on a port the hypervisor intercepts.",
} as const;

/** Name of an exit reason. */
export type ExitReasonName = keyof typeof EXIT_REASONS;

const indexed = indexNames(EXIT_REASONS);

/** All exit reason names, in id order. */
export const EXIT_REASON_NAMES: readonly ExitReasonName[] = indexed.names;

/** Exit reason ids by name. */
export const EXIT: { readonly [K in ExitReasonName]: number } = indexed.ids;
