/**
 * Statistics every resource keeps: acquisitions, how many had to wait and for how long,
 * how busy the resource was and how long its queue grew.
 *
 * @module
 */

import { Histogram, type HistogramSummary } from "./histogram.ts";
import type { Process } from "./simulator.ts";
import { TimeWeighted } from "./time_weighted.ts";

/**
 * Hooks a recorder may set on a resource to follow it over time (a timeline). Resources
 * call them as they change; nothing is called when no observer is set.
 */
export interface ResourceObserver {
  /** `process` now holds the resource exclusively (a mutex, a writer), replacing any holder. */
  granted(process: Process, nowCycles: number): void;
  /** The exclusive holder gave the resource back and nobody took it over. */
  freed(nowCycles: number): void;
  /** The number of waiting processes changed. */
  queued(nowCycles: number, length: number): void;
}

/** A snapshot of a resource's statistics, as reported. */
export interface ResourceReport {
  name: string;
  kind: string;
  capacity: number;
  acquisitions: number;
  /** Acquisitions that had to queue. */
  contended: number;
  /** Mean fraction of capacity in use over the run, 0..1. */
  utilization: number;
  meanQueueLength: number;
  maxQueueLength: number;
  /** Queueing delay of every acquisition (including zero waits), in cycles. */
  waitCycles: HistogramSummary;
  /** Total cycles spent waiting by all acquirers. */
  totalWaitCycles: number;
}

/** Mutable statistics shared by the resource implementations. */
export class ResourceStats {
  readonly name: string;
  readonly kind: string;
  readonly capacity: number;
  acquisitions = 0;
  contended = 0;
  readonly waits = new Histogram();
  readonly busy = new TimeWeighted();
  readonly queue = new TimeWeighted();
  /** Set by a recorder that follows the resource over time. */
  observer: ResourceObserver | undefined;

  constructor(name: string, kind: string, capacity: number) {
    this.name = name;
    this.kind = kind;
    this.capacity = capacity;
  }

  /** Records one grant after waiting `waitCycles`. */
  granted(waitCycles: number): void {
    this.acquisitions++;
    if (waitCycles > 0) this.contended++;
    this.waits.record(waitCycles);
  }

  /** Snapshot at `nowCycles`. */
  report(nowCycles: number): ResourceReport {
    return {
      name: this.name,
      kind: this.kind,
      capacity: this.capacity,
      acquisitions: this.acquisitions,
      contended: this.contended,
      utilization: nowCycles > 0 ? this.busy.integral(nowCycles) / (this.capacity * nowCycles) : 0,
      meanQueueLength: this.queue.mean(nowCycles),
      maxQueueLength: this.queue.max,
      waitCycles: this.waits.summary(),
      totalWaitCycles: this.waits.sum,
    };
  }
}
