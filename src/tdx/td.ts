/**
 * What the TDX module keeps per TD that KVM's flows depend on: its locks (module.ts),
 * which secure-EPT page-table levels exist, and per-vCPU bookkeeping (the pCPU it last
 * ran on, the zero-step mitigation's counters), plus KVM's own flag that holds vCPUs out
 * of the TD while it retries a busy S-EPT removal.
 *
 * @module
 */

import type { Latch } from "../engine/mod.ts";
import type { GuestMemory } from "../host/memory.ts";
import { TdxModule } from "./module.ts";
import type { ModuleVersion } from "./module_locks.ts";

/** 4 KiB pages covered by one entry of each secure-EPT table level. */
const PAGES_PER_L1_TABLE = 512; // a page table maps 2 MiB
const PAGES_PER_L2_TABLE = 512 * 512; // a page directory maps 1 GiB
const PAGES_PER_L3_TABLE = 512 * 512 * 512; // a PDPT maps 512 GiB

/**
 * Private-GPA EPT violations at one RIP after which the zero-step mitigation lists the
 * faulting GPAs (STEPPING_EPF_THRESHOLD, td_transitions/td_exit_stepping.h, intel/tdx-
 * module@1666adc; the same in 1.0): the 7th consecutive one engages it.
 */
export const STEPPING_EPF_THRESHOLD = 6;
/** GPAs the mitigation lists per vCPU (EPF_GPA_LIST_SIZE, tdx_tdvps.h). */
export const EPF_GPA_LIST_SIZE = 32;

/** Per-TD state of the TDX module (and KVM's gate on TD entries). */
export class TdState {
  /** The module's locks, or undefined for an idealized module that never contends. */
  readonly module: TdxModule | undefined;
  /** Page-table pages present, per level (L1: per 2 MiB, L2: per 1 GiB, L3: per 512 GiB). */
  readonly #l1: Uint8Array;
  readonly #l2: Uint8Array;
  readonly #l3: Uint8Array;
  /** pCPU each vCPU last ran on (-1: never). */
  readonly lastCpu: Int32Array;
  /** Consecutive private EPT violations each vCPU took without progress. */
  readonly noProgress: Int32Array;
  /** GPAs (4 KiB page numbers) the zero-step mitigation listed for each vCPU. */
  readonly steppingPages: number[][];
  /**
   * Open while KVM retries a busy BLOCK/TRACK/REMOVE with every vCPU held out of the TD
   * (tdh_do_no_vcpus: wait_for_sept_zap); vCPUs that would enter wait for it.
   */
  entryGate: Latch | undefined;

  constructor(name: string, memory: GuestMemory, vcpus: number, version?: ModuleVersion) {
    this.module = version === undefined ? undefined : new TdxModule(name, vcpus, version);
    this.#l1 = new Uint8Array(Math.ceil(memory.pages / PAGES_PER_L1_TABLE));
    this.#l2 = new Uint8Array(Math.ceil(memory.pages / PAGES_PER_L2_TABLE));
    this.#l3 = new Uint8Array(Math.ceil(memory.pages / PAGES_PER_L3_TABLE));
    this.lastCpu = new Int32Array(vcpus).fill(-1);
    this.noProgress = new Int32Array(vcpus);
    this.steppingPages = Array.from({ length: vcpus }, () => []);
  }

  /**
   * Page-table levels missing on the way to a leaf for `page`, as a bit per level (bit 3:
   * a PDPT, bit 2: a page directory, bit 1: a page table; a 2 MiB leaf needs no page table).
   */
  missingTables(page: number, huge: boolean): number {
    let missing = 0;
    if (this.#l3[Math.floor(page / PAGES_PER_L3_TABLE)] === 0) missing |= 1 << 3;
    if (this.#l2[Math.floor(page / PAGES_PER_L2_TABLE)] === 0) missing |= 1 << 2;
    if (!huge && this.#l1[Math.floor(page / PAGES_PER_L1_TABLE)] === 0) missing |= 1 << 1;
    return missing;
  }

  /** Records the page-table levels for `page` as present. */
  addTables(page: number, huge: boolean): void {
    this.#l3[Math.floor(page / PAGES_PER_L3_TABLE)] = 1;
    this.#l2[Math.floor(page / PAGES_PER_L2_TABLE)] = 1;
    if (!huge) this.#l1[Math.floor(page / PAGES_PER_L1_TABLE)] = 1;
  }

  /**
   * A private EPT violation of vCPU `vcpu` on `page` that follows an entry without progress
   * (the guest retries the same instruction): counted, and once past the threshold the GPA
   * is listed, which makes the vCPU's entries run the stepping filter.
   */
  noteNoProgress(vcpu: number, page: number): void {
    if (this.noProgress[vcpu] < STEPPING_EPF_THRESHOLD) {
      this.noProgress[vcpu]++;
      return;
    }
    const listed = this.steppingPages[vcpu];
    if (listed.length < EPF_GPA_LIST_SIZE && !listed.includes(page)) listed.push(page);
  }

  /** The vCPU's guest made progress (its RIP moved): the mitigation lets go. */
  progressed(vcpu: number): void {
    this.noProgress[vcpu] = 0;
    const listed = this.steppingPages[vcpu];
    if (listed.length !== 0) listed.length = 0;
  }

  /** True while the vCPU's entries run the zero-step filter. */
  stepping(vcpu: number): boolean {
    return this.steppingPages[vcpu].length > 0;
  }
}
