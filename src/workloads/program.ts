/**
 * A guest program: the sequence of guest operations one vCPU performs, each preceded by
 * some guest compute. Programs are pull-based and allocate nothing per operation.
 *
 * @module
 */

import { OP_DONE } from "../host/operations.ts";
import type { AccessPattern, PageSize } from "../host/translation.ts";

/** What a vCPU runs. */
export interface GuestProgram {
  /**
   * Advances to the next operation, at the vCPU's local time `nowCycles`. Returns an
   * operation id (from OP), OP_NONE (compute only) or OP_DONE, and sets `gapCycles` to the
   * guest compute that comes before it.
   */
  next(nowCycles: number): number;
  /** Guest cycles to run before the operation `next` returned. */
  gapCycles: number;
  /**
   * Which memory the operation works on (a page or a 2 MiB chunk index), or -1 to let
   * the guest pick the vCPU's next one.
   */
  arg: number;
  /**
   * For OP_IDLE: end the idle at the first wake-up, as a recorded halt ended (the `trace`
   * workload), instead of halting again until `gapCycles` have passed.
   */
  haltOnce?: boolean;
  /** Pages a page-range operation covers (VSM `protect`); 1 when absent. */
  pages?: number;
  /** For a `memory` operation: the batch of accesses it performs. */
  batch?: MemoryBatch;
}

/** A batch of accesses to a working set (the `memory` workload). */
export interface MemoryBatch {
  /** First 4 KiB page of the working set and its size in pages. */
  firstPage: number;
  pages: number;
  pattern: AccessPattern;
  guestPage: PageSize;
  /** Accesses in this batch. */
  accesses: number;
  /** Share of the accesses that write. */
  writeShare: number;
  /** Guest cycles the batch takes at least (a rate-limited workload waits out the rest). */
  minCycles: number;
  /** The VTL whose mappings the accesses go through (Hyper-V VSM; 0 elsewhere). */
  vtl: number;
}

/** Runs several programs one after another, remembering which one is current. */
export class SequenceProgram implements GuestProgram {
  gapCycles = 0;
  arg = -1;
  pages = 1;
  batch: MemoryBatch | undefined = undefined;
  haltOnce = false;
  /** Index of the program that produced the last operation. */
  current = 0;
  readonly #programs: GuestProgram[];

  constructor(programs: GuestProgram[]) {
    this.#programs = programs;
  }

  next(nowCycles: number): number {
    while (this.current < this.#programs.length) {
      const program = this.#programs[this.current];
      const op = program.next(nowCycles);
      if (op !== OP_DONE) {
        this.gapCycles = program.gapCycles;
        this.arg = program.arg;
        this.pages = program.pages ?? 1;
        this.batch = program.batch;
        this.haltOnce = program.haltOnce === true;
        return op;
      }
      this.current++;
    }
    this.gapCycles = 0;
    return OP_DONE;
  }
}
