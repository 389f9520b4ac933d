/**
 * What a run records besides each thread's own accounts: latency of every guest
 * operation, operations completed per workload, and the resources to report on.
 *
 * @module
 */

import { Histogram, type ResourceStats } from "../engine/mod.ts";
import { OPERATION_NAMES } from "../host/operations.ts";

/** A workload of the scenario, as reported. */
export interface WorkloadRecord {
  guest: string;
  /** Index in the guest's workload list. */
  index: number;
  kind: string;
  /** vCPUs running it. */
  vcpus: number;
  /** Operations completed so far (over all its vCPUs). */
  operations: number;
  /** vCPUs that have finished it. */
  finishedVcpus: number;
  /** A `memory` workload's accesses and what they cost. */
  memory?: MemoryTotals;
}

/** What a `memory` workload's accesses cost, summed over its vCPUs. */
export interface MemoryTotals {
  accesses: number;
  /** Guest cycles of the batches, summed over the vCPUs (accesses, and what interrupted them). */
  batchCycles: number;
  /** Cycles the vCPUs spent touching their working sets in before the first batch, summed. */
  warmupCycles: number;
  /** Guest cycles of the accesses themselves (data, STLB hits, walks). */
  accessCycles: number;
  /** Of them, in page walks. */
  walkCycles: number;
  /** L1 dTLB misses and STLB misses (walks); fractional, from the analytic model. */
  l1Misses: number;
  stlbMisses: number;
  /** Accesses to pages under 2 MiB host leaves. */
  hugeAccesses: number;
}

/** Empty memory totals. */
export function emptyMemoryTotals(): MemoryTotals {
  return {
    accesses: 0,
    batchCycles: 0,
    warmupCycles: 0,
    accessCycles: 0,
    walkCycles: 0,
    l1Misses: 0,
    stlbMisses: 0,
    hugeAccesses: 0,
  };
}

/**
 * What a failure did to the host or a guest (the reliability side of a report):
 * - `sigbus`: a host process was killed by SIGBUS (subject: the process);
 * - `host-panic`: the host kernel panicked (every VM on it is lost);
 * - `guest-vc`: a guest took a #VC it did not expect (subject: the VM);
 * - `guest-terminated`: a guest terminated itself or was killed (subject: the VM);
 * - `service-lost` / `service-restored`: a VM's device (e.g. its network) stopped or
 *   resumed working (subject: the VM).
 */
export type OutcomeKind =
  | "sigbus"
  | "host-panic"
  | "guest-vc"
  | "guest-terminated"
  | "service-lost"
  | "service-restored";

/** One recorded outcome. */
export interface OutcomeEvent {
  atCycles: number;
  kind: OutcomeKind;
  subject: string;
  /** What caused it, in a few words. */
  cause: string;
}

/** Run-wide recording shared by the models (through their context). */
export class Recorder {
  /** Latency (cycles from the guest starting an operation to resuming) by operation id. */
  readonly operationLatency: Histogram[] = OPERATION_NAMES.map(() => new Histogram());
  readonly workloads: WorkloadRecord[] = [];
  readonly resources: ResourceStats[] = [];
  /** Failures and their effects, in simulated-time order. */
  readonly outcomes: OutcomeEvent[] = [];

  /** Registers a resource whose statistics the report should include. */
  addResource(stats: ResourceStats): void {
    this.resources.push(stats);
  }

  /** Records what a failure did. */
  recordOutcome(atCycles: number, kind: OutcomeKind, subject: string, cause: string): void {
    this.outcomes.push({ atCycles, kind, subject, cause });
  }

  /** Registers a workload; returns its id. */
  addWorkload(record: WorkloadRecord): number {
    return this.workloads.push(record) - 1;
  }
}
