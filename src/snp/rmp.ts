/**
 * The RMP (reverse map table) entries covering one SNP guest's memory, as the hardware
 * keeps them: per 4 KiB host page, whether a guest owns it (assigned, i.e. private),
 * whether the guest validated it (PVALIDATE), whether it is a VMSA, whether it is
 * immutable (firmware-owned); per 2 MiB region, whether its pages form one 2 MiB entry.
 *
 * Guest pages map 1:1 to host pages here, so the table is indexed by guest page. One byte
 * per page plus one per region: a 256 GiB guest costs 64 MiB + 128 KiB, like its
 * {@linkcode GuestMemory} page state.
 *
 * @module
 */

import type { GuestMemory } from "../host/memory.ts";
import { PAGES_PER_2M } from "../host/memory.ts";

/** Entry flag: a guest owns the page (private); clear: the hypervisor owns it (shared). */
export const RMP_ASSIGNED = 1;
/** Entry flag: the guest validated the page (PVALIDATE); every RMPUPDATE clears it. */
export const RMP_VALIDATED = 2;
/** Entry flag: the page is a vCPU's VMSA (RMPUPDATE fails FAIL_INUSE while it runs). */
export const RMP_VMSA = 4;
/** Entry flag: the firmware owns the page (a guest context page); RMPUPDATE fails. */
export const RMP_IMMUTABLE = 8;

/** Region flag: the region's 512 pages form one 2 MiB RMP entry. */
export const RMP_REGION_2M = 1;

/** The RMP entries of one guest's memory. */
export class Rmp {
  /** Number of 4 KiB entries. */
  readonly pages: number;
  /** Flags per 4 KiB entry. */
  readonly entries: Uint8Array;
  /** Flags per 2 MiB region. */
  readonly regions: Uint8Array;

  constructor(memory: GuestMemory) {
    this.pages = memory.pages;
    this.entries = new Uint8Array(memory.pages);
    this.regions = new Uint8Array(memory.regionFlags.length);
  }

  /** True when a guest owns `page`. */
  isAssigned(page: number): boolean {
    return (this.entries[page] & RMP_ASSIGNED) !== 0;
  }

  /** True when the guest has validated `page`. */
  isValidated(page: number): boolean {
    return (this.entries[page] & RMP_VALIDATED) !== 0;
  }

  /** True when `page` lies in a 2 MiB entry. */
  is2M(page: number): boolean {
    return (this.regions[Math.floor(page / PAGES_PER_2M)] & RMP_REGION_2M) !== 0;
  }

  /** True when every page of [first, first + count) is validated. */
  allValidated(first: number, count: number): boolean {
    for (let page = first; page < first + count; page++) {
      if ((this.entries[page] & RMP_VALIDATED) === 0) return false;
    }
    return true;
  }

  /**
   * RMPUPDATE to guest-owned of [first, first + count): one 4 KiB entry, or (with `huge`)
   * the 2 MiB entry of an aligned region. Clears the validated bits.
   */
  assign(first: number, count: number, huge: boolean): void {
    this.entries.fill(RMP_ASSIGNED, first, first + count);
    if (huge) this.regions[Math.floor(first / PAGES_PER_2M)] |= RMP_REGION_2M;
  }

  /** RMPUPDATE to hypervisor-owned of [first, first + count): every flag cleared. */
  release(first: number, count: number): void {
    this.entries.fill(0, first, first + count);
    if (count === PAGES_PER_2M) this.regions[Math.floor(first / PAGES_PER_2M)] &= ~RMP_REGION_2M;
  }

  /** PSMASH: the 2 MiB entry of `page`'s region becomes 512 4 KiB entries, state kept. */
  smash(page: number): void {
    this.regions[Math.floor(page / PAGES_PER_2M)] &= ~RMP_REGION_2M;
  }

  /** PVALIDATE of [first, first + count): sets (or, rescinding, clears) the validated bits. */
  setValidated(first: number, count: number, validated: boolean): void {
    for (let page = first; page < first + count; page++) {
      if (validated) this.entries[page] |= RMP_VALIDATED;
      else this.entries[page] &= ~RMP_VALIDATED;
    }
  }

  /** Marks `page` as a guest-owned, validated VMSA (the guest made it one with RMPADJUST). */
  makeVmsa(page: number): void {
    this.entries[page] = RMP_ASSIGNED | RMP_VALIDATED | RMP_VMSA;
  }

  /** Bytes of state held. */
  get stateBytes(): number {
    return this.entries.byteLength + this.regions.byteLength;
  }
}
