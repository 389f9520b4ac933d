/**
 * The catalogue of costed primitives: every step a flow can charge to a timeline, with
 * the domain its time belongs to. Values live in cost profiles (src/profiles/), never
 * here; primitives marked `variable` have no profile value because their duration comes
 * from the run itself (guest compute, waiting, idling).
 *
 * Model code refers to primitives by number through {@linkcode P} (an array index, so
 * charging a step is two typed-array writes).
 *
 * @module
 */

import { indexNames } from "./catalogue.ts";

/** Where a host thread's time goes. A vCPU's time is always in exactly one domain. */
export const DOMAINS = ["guest", "tdx-module", "firmware", "kvm", "vmm", "wait", "idle"] as const;

/** One of {@linkcode DOMAINS}. */
export type Domain = typeof DOMAINS[number];

/** Declaration of one primitive. */
export interface PrimitiveSpec {
  /** Domain its time is charged to. */
  domain: Domain;
  /** True when the duration comes from the run, not from a profile. */
  variable?: boolean;
  /** What the step is, in one sentence. */
  doc: string;
}

const CATALOGUE = {
  GUEST: {
    domain: "guest",
    variable: true,
    doc: "Guest instructions between exits (workload compute).",
  },
  VMEXIT: {
    domain: "kvm",
    doc: "Hardware VM exit: the CPU saves guest state and loads host state (VMX/SVM).",
  },
  VMENTRY: {
    domain: "kvm",
    doc: "Hardware VM entry: consistency checks, load guest state, resume the guest.",
  },
  KVM_EXIT_DISPATCH: {
    domain: "kvm",
    doc: "KVM's common exit path: read the exit reason, dispatch, check requests before entry.",
  },
  KVM_CPUID: {
    domain: "kvm",
    doc: "KVM emulates CPUID from the vCPU's CPUID table.",
  },
  KVM_HYPERCALL: {
    domain: "kvm",
    doc: "KVM handles a hypercall (VMCALL/VMMCALL) in the kernel.",
  },
  KVM_PIO: {
    domain: "kvm",
    doc: "KVM completes a port access on an in-kernel device (kvm_io_bus).",
  },
  IOCTL_RET: {
    domain: "kvm",
    doc: "KVM_RUN returns to the userspace VMM: exit to user mode, vCPU state put.",
  },
  IOCTL_ENTER: {
    domain: "kvm",
    doc: "The VMM calls KVM_RUN again: syscall entry, vCPU load, pre-entry checks.",
  },
  VMM_PIO: {
    domain: "vmm",
    doc: "The VMM decodes a port-I/O exit and runs the device model's handler.",
  },
  WAIT_PCPU: {
    domain: "wait",
    variable: true,
    doc: "A runnable host thread waits for a free pCPU.",
  },
  WAIT_VMM_LOCK: {
    domain: "wait",
    variable: true,
    doc: "A VMM thread waits for the VMM's global device lock (QEMU's BQL).",
  },
  IDLE: {
    domain: "idle",
    variable: true,
    doc: "Nothing to run: the vCPU's workload has finished (or it is halted).",
  },
} as const satisfies Record<string, PrimitiveSpec>;

/** Name of a primitive, as it appears in profiles and reports. */
export type PrimitiveName = keyof typeof CATALOGUE;

const indexed = indexNames(CATALOGUE);

/** All primitive names, in id order. */
export const PRIMITIVE_NAMES: readonly PrimitiveName[] = indexed.names;

/** Primitive ids by name: `P.VMEXIT` is the index used by the hot path. */
export const P: { readonly [K in PrimitiveName]: number } = indexed.ids;

/** Declarations by id. */
export const PRIMITIVE_SPECS: readonly PrimitiveSpec[] = PRIMITIVE_NAMES.map((n) => CATALOGUE[n]);

/** Domain index of each primitive, by primitive id. */
export const PRIMITIVE_DOMAIN: Uint8Array = Uint8Array.from(
  PRIMITIVE_SPECS.map((spec) => DOMAINS.indexOf(spec.domain)),
);

/** Number of primitives (length of per-thread accounting arrays). */
export const PRIMITIVE_COUNT = PRIMITIVE_NAMES.length;

/** Names of primitives whose cost comes from a profile. */
export const FIXED_COST_PRIMITIVES: readonly PrimitiveName[] = PRIMITIVE_NAMES.filter(
  (name) => (CATALOGUE[name] as PrimitiveSpec).variable !== true,
);

/** True when `name` is a primitive. */
export function isPrimitiveName(name: string): name is PrimitiveName {
  return Object.hasOwn(CATALOGUE, name);
}
