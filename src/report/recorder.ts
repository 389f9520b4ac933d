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
}

/** Run-wide recording shared by the models (through their context). */
export class Recorder {
  /** Latency (cycles from the guest starting an operation to resuming) by operation id. */
  readonly operationLatency: Histogram[] = OPERATION_NAMES.map(() => new Histogram());
  readonly workloads: WorkloadRecord[] = [];
  readonly resources: ResourceStats[] = [];

  /** Registers a resource whose statistics the report should include. */
  addResource(stats: ResourceStats): void {
    this.resources.push(stats);
  }

  /** Registers a workload; returns its id. */
  addWorkload(record: WorkloadRecord): number {
    return this.workloads.push(record) - 1;
  }
}
