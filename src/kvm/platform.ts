/**
 * What every platform (plain VMX, TDX, SNP, VSM) provides, and what a design is.
 *
 * A platform turns guest operations into flows of costed steps. A design is a named set
 * of choices for one platform's splits (flows.md section D). The shared conformance suite
 * (tests/designs/) runs every design through the same checks.
 *
 * @module
 */

import type { GuestOperation } from "../host/operations.ts";
import type { PrimitiveName } from "../host/primitives.ts";
import type { Flow } from "../host/thread.ts";
import type { Vcpu } from "./vcpu.ts";
import type { Vm } from "./vm.ts";

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
  /** Runs guest operation `op` (an id from OP) on `vcpu`, step by step. */
  perform(vcpu: Vcpu, op: number): Flow;
}

/** A platform: the flows for one kind of guest. */
export interface PlatformSpec {
  name: string;
  description: string;
  choices: readonly ChoiceSpec[];
  /** Fixed-cost primitives its flows may charge (checked against the profile). */
  primitives: readonly PrimitiveName[];
  /** Guest operations it implements. */
  operations: readonly GuestOperation[];
  /** Builds the per-VM behaviour under the given choices. */
  createVm(vm: Vm, choices: Record<string, string>): PlatformVm;
}
