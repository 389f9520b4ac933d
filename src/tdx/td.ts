/**
 * What the TDX module keeps per TD that KVM's flows depend on: which secure-EPT page-table
 * levels exist, the per-TD secure-EPT lock, and per-vCPU bookkeeping (the pCPU it last
 * ran on, entries without progress for the zero-step mitigation).
 *
 * @module
 */

import { RwLock, type Simulator } from "../engine/mod.ts";
import type { GuestMemory } from "../host/memory.ts";

/** 4 KiB pages covered by one entry of each secure-EPT table level. */
const PAGES_PER_L1_TABLE = 512; // a page table maps 2 MiB
const PAGES_PER_L2_TABLE = 512 * 512; // a page directory maps 1 GiB
const PAGES_PER_L3_TABLE = 512 * 512 * 512; // a PDPT maps 512 GiB

/** Per-TD state of the TDX module. */
export class TdState {
  /**
   * The module's per-TD secure-EPT tree lock: AUG, SEPT.ADD, BLOCK and REMOVE take it
   * exclusive, SEPT.RD shared; a SEAMCALL that cannot take it returns TDX_OPERAND_BUSY.
   */
  readonly septLock: RwLock;
  /** Page-table pages present, per level (L1: per 2 MiB, L2: per 1 GiB, L3: per 512 GiB). */
  readonly #l1: Uint8Array;
  readonly #l2: Uint8Array;
  readonly #l3: Uint8Array;
  /** pCPU each vCPU last ran on (-1: never). */
  readonly lastCpu: Int32Array;
  /** Consecutive entries each vCPU made without progress (zero-step mitigation). */
  readonly noProgress: Int32Array;

  constructor(sim: Simulator, name: string, memory: GuestMemory, vcpus: number) {
    this.septLock = new RwLock(sim, `${name}/sept-lock`);
    this.#l1 = new Uint8Array(Math.ceil(memory.pages / PAGES_PER_L1_TABLE));
    this.#l2 = new Uint8Array(Math.ceil(memory.pages / PAGES_PER_L2_TABLE));
    this.#l3 = new Uint8Array(Math.ceil(memory.pages / PAGES_PER_L3_TABLE));
    this.lastCpu = new Int32Array(vcpus).fill(-1);
    this.noProgress = new Int32Array(vcpus);
  }

  /**
   * Page-table levels missing on the way to a leaf for `page` (3 at most for a 4 KiB
   * leaf, 2 for a 2 MiB leaf, which needs no page table).
   */
  missingTables(page: number, huge: boolean): number {
    let missing = 0;
    if (this.#l3[Math.floor(page / PAGES_PER_L3_TABLE)] === 0) missing++;
    if (this.#l2[Math.floor(page / PAGES_PER_L2_TABLE)] === 0) missing++;
    if (!huge && this.#l1[Math.floor(page / PAGES_PER_L1_TABLE)] === 0) missing++;
    return missing;
  }

  /** Records the page-table levels for `page` as present. */
  addTables(page: number, huge: boolean): void {
    this.#l3[Math.floor(page / PAGES_PER_L3_TABLE)] = 1;
    this.#l2[Math.floor(page / PAGES_PER_L2_TABLE)] = 1;
    if (!huge) this.#l1[Math.floor(page / PAGES_PER_L1_TABLE)] = 1;
  }
}
