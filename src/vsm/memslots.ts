/**
 * KVM memslots when VTL protections are memslot edits (flows.md A.3, the in-kernel D0
 * design): a memslot has one set of access rights, so every maximal run of pages with the
 * same access in VTL0's view is a slot of its own. Page-granular protections fragment guest
 * RAM into many slots, and memslot lookups walk a tree whose depth grows with their number.
 *
 * Slots are not stored: a slot boundary is a page whose access differs from the page
 * before it, and {@linkcode PageCounts} keeps how many boundaries each region holds, so
 * finding the slot around a page and counting slots take a few steps, not a scan.
 *
 * @module
 */

import { PageCounts, type PageTest } from "./page_counts.ts";

/**
 * Slots a QEMU x86 VM has besides guest RAM's own (RAM below and above 4 GiB, BIOS, option
 * ROMs, VGA and PCI BAR windows). Estimate from a typical `info mtree`; it only sets where
 * the lookup depth starts.
 */
export const BASE_MEMSLOTS = 8;

/**
 * KVM's per-address-space limit on user memslots (KVM_USER_MEM_SLOTS on x86, 32767 minus
 * the 3 private slots). A page-granular VSM boot needs far more.
 */
export const KVM_USER_MEM_SLOTS = 32764;

/** The memslots of one VTL's view of guest RAM. */
export class MemslotMap {
  readonly #view: Uint8Array;
  readonly #boundaries: PageCounts;
  readonly #isBoundary: PageTest;
  #levels = 0;
  /** Most slots the view has had at once. */
  maxSlots = 0;

  /** `view`: the access bits per page; its current runs become the initial slots. */
  constructor(view: Uint8Array) {
    this.#view = view;
    this.#boundaries = new PageCounts(view.length);
    this.#isBoundary = (page) => page > 0 && view[page] !== view[page - 1];
    for (let page = 1; page < view.length; page++) {
      if (view[page] !== view[page - 1]) this.#boundaries.add(page, 1);
    }
    this.#resized();
  }

  /** Memslots in all. */
  get slots(): number {
    return BASE_MEMSLOTS + this.#boundaries.total;
  }

  /** Levels of the memslot tree a lookup walks: ⌈log2(slots)⌉. */
  get lookupLevels(): number {
    return this.#levels;
  }

  /** The first page of the slot holding `page`. */
  slotStart(page: number): number {
    const boundary = this.#boundaries.previous(page, 1, this.#isBoundary);
    return boundary < 0 ? 0 : boundary;
  }

  /** The page after the end of the slot holding `page`. */
  slotEnd(page: number): number {
    const boundary = this.#boundaries.next(page + 1, this.#view.length, this.#isBoundary);
    return boundary < 0 ? this.#view.length : boundary;
  }

  /** Call before the view's access changes on [first, last): forgets the boundaries there. */
  beforeChange(first: number, last: number): void {
    this.#scan(first, last, -1);
  }

  /** Call after the view's access changed on [first, last): counts the boundaries there. */
  afterChange(first: number, last: number): void {
    this.#scan(first, last, 1);
    this.#resized();
  }

  /** Boundaries a change of [first, last) can move are at pages first..last. */
  #scan(first: number, last: number, delta: number): void {
    const end = Math.min(last, this.#view.length - 1);
    for (let page = Math.max(first, 1); page <= end; page++) {
      if (this.#isBoundary(page)) this.#boundaries.add(page, delta);
    }
  }

  #resized(): void {
    const slots = this.slots;
    this.#levels = slots <= 1 ? 0 : 32 - Math.clz32(slots - 1);
    if (slots > this.maxSlots) this.maxSlots = slots;
  }
}
