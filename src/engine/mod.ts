/**
 * The discrete-event engine: clock, event queue, processes, seeded random streams,
 * resources and histograms. It imports nothing from the rest of cvmsim.
 *
 * @module
 */

export { EventQueue, PRIORITY_NORMAL, PRIORITY_URGENT, type Wakeable } from "./event_queue.ts";
export {
  Process,
  type ProcessBody,
  type RunOptions,
  type RunResult,
  Simulator,
  type StopReason,
  Timer,
  type Waitable,
  type Yieldable,
} from "./simulator.ts";
export { Rng, RngStreams } from "./rng.ts";
export { Histogram, type HistogramSummary } from "./histogram.ts";
export { TimeWeighted } from "./time_weighted.ts";
export { type ResourceObserver, type ResourceReport, ResourceStats } from "./resource_stats.ts";
export { FifoServer, Mutex } from "./fifo_server.ts";
export { RwLock, type RwLockMode } from "./rw_lock.ts";
export { EXCLUSIVE, IntervalLock, IntervalLockStats, SHARED } from "./interval_lock.ts";
export { Latch } from "./latch.ts";
export { Signal } from "./signal.ts";
export { WaitQueue } from "./wait_queue.ts";
