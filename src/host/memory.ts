/**
 * Guest memory as page state, one byte per 4 KiB page plus one per 2 MiB region, so a
 * 256 GiB guest costs 64 MiB + 128 KiB of typed arrays (outside the JS heap's object
 * graph). Platforms add meaning to the free bits (private/shared, accepted, per-VTL
 * permissions) as they need them.
 *
 * @module
 */

/**
 * Largest guest memory the model takes, in MiB (4 TiB): it keeps a byte of state per
 * 4 KiB page (and VSM one more per VTL), so 4 TiB is 1 GiB of page state.
 */
export const MAX_MEMORY_MIB = 4 * 1024 * 1024;
/** Why {@linkcode MAX_MEMORY_MIB} is the limit, for messages. */
export const MAX_MEMORY_REASON =
  "4 TiB because the simulator keeps a byte per 4 KiB page, 1 GiB of state at that size";

/** Bytes in a small page. */
export const PAGE_BYTES = 4096;
/** Small pages in a 2 MiB region. */
export const PAGES_PER_2M = 512;

/** Page flag: the host has a second-level (EPT/NPT) mapping for the page. */
export const PAGE_MAPPED = 1;
/** Page flag: the page is private to the guest (TDX/SNP); clear means shared. */
export const PAGE_PRIVATE = 2;
/** Page flag: the guest has accepted/validated the page (TDX ACCEPT, SNP PVALIDATE). */
export const PAGE_ACCEPTED = 4;

/** Region flag: the region is mapped by one 2 MiB leaf. */
export const REGION_HUGE = 1;

/** Recent changes {@linkcode GuestMemory} remembers the region of. */
export const CHANGE_LOG_SIZE = 4096;

/** The page state of one guest. */
export class GuestMemory {
  /** Number of 4 KiB pages. */
  readonly pages: number;
  /** Flags per 4 KiB page. */
  readonly pageFlags: Uint8Array;
  /** Flags per 2 MiB region. */
  readonly regionFlags: Uint8Array;
  /** Pages currently mapped. */
  mappedPages = 0;
  /**
   * Changes of what is mapped, at what size and as what, counted. The 2 MiB region of each
   * is logged in a ring of {@linkcode CHANGE_LOG_SIZE} (a change in the region logged last
   * is not logged again), so a reader of the mapping state (the memory workload's
   * translation model) updates only the regions that changed.
   */
  generation = 0;
  /** Entries logged so far (the ring holds the last CHANGE_LOG_SIZE of them). */
  logged = 0;
  readonly #changedRegions = new Int32Array(CHANGE_LOG_SIZE);

  constructor(memoryMiB: number) {
    this.pages = memoryMiB * (1024 * 1024 / PAGE_BYTES);
    this.pageFlags = new Uint8Array(this.pages);
    this.regionFlags = new Uint8Array(Math.ceil(this.pages / PAGES_PER_2M));
  }

  /** Bytes of page state held. */
  get stateBytes(): number {
    return this.pageFlags.byteLength + this.regionFlags.byteLength;
  }

  /** True when `page` has a second-level mapping. */
  isMapped(page: number): boolean {
    return (this.pageFlags[page] & PAGE_MAPPED) !== 0;
  }

  /** Maps one 4 KiB page; returns the pages newly mapped (0 or 1). */
  map4k(page: number): number {
    if ((this.pageFlags[page] & PAGE_MAPPED) !== 0) return 0;
    this.pageFlags[page] |= PAGE_MAPPED;
    this.mappedPages++;
    this.#changed(page >> 9);
    return 1;
  }

  /** Unmaps one 4 KiB page (a zap of its leaf); returns the pages unmapped (0 or 1). */
  unmap4k(page: number): number {
    if ((this.pageFlags[page] & PAGE_MAPPED) === 0) return 0;
    this.pageFlags[page] &= ~PAGE_MAPPED;
    this.mappedPages--;
    this.#changed(page >> 9);
    return 1;
  }

  /** True when `page`'s 2 MiB region is mapped by one 2 MiB leaf. */
  isHuge(page: number): boolean {
    return (this.regionFlags[Math.floor(page / PAGES_PER_2M)] & REGION_HUGE) !== 0;
  }

  /**
   * The 2 MiB leaf of `page`'s region is gone (split into 4 KiB leaves or zapped): the
   * pages that stay mapped are mapped 4 KiB at a time from now on.
   */
  splitRegion(page: number): void {
    const region = Math.floor(page / PAGES_PER_2M);
    if ((this.regionFlags[region] & REGION_HUGE) === 0) return;
    this.regionFlags[region] &= ~REGION_HUGE;
    this.#changed(region);
  }

  /** Sets a page's flags outright (a conversion resets what the page was). */
  setPageFlags(page: number, flags: number): void {
    const was = this.pageFlags[page];
    if (was === flags) return;
    if ((was & PAGE_MAPPED) !== (flags & PAGE_MAPPED)) {
      this.mappedPages += (flags & PAGE_MAPPED) !== 0 ? 1 : -1;
    }
    this.pageFlags[page] = flags;
    this.#changed(page >> 9);
  }

  /** Maps the whole 2 MiB region containing `page` with one leaf; returns pages newly mapped. */
  map2m(page: number): number {
    const region = Math.floor(page / PAGES_PER_2M);
    const first = region * PAGES_PER_2M;
    const last = Math.min(first + PAGES_PER_2M, this.pages);
    let mapped = 0;
    for (let p = first; p < last; p++) mapped += this.map4k(p);
    this.regionFlags[region] |= REGION_HUGE;
    this.#changed(region);
    return mapped;
  }

  /**
   * Something that decides how `page`'s region can be mapped changed outside the page
   * state (a VSM protection changing VTL0's view): readers look at the region again.
   */
  noteChange(page: number): void {
    this.#changed(page >> 9);
  }

  /** Sets flags of `page` besides PAGE_MAPPED (accepted, private), noting the change. */
  addPageFlags(page: number, flags: number): void {
    if ((this.pageFlags[page] & flags) === flags) return;
    this.pageFlags[page] |= flags;
    this.#changed(page >> 9);
  }

  /**
   * Visits each region changed since the reader saw `logged` (and the region logged just
   * before, which later changes may have gone to unlogged); returns false, visiting
   * nothing, when the ring no longer holds them all (the reader rescans everything).
   */
  changedSince(logged: number, visit: (region: number) => void): boolean {
    const from = Math.max(0, logged - 1);
    if (this.logged - from > CHANGE_LOG_SIZE) return false;
    for (let i = from; i < this.logged; i++) visit(this.#changedRegions[i % CHANGE_LOG_SIZE]);
    return true;
  }

  /** Another change, in `region`. */
  #changed(region: number): void {
    this.generation++;
    const last = this.logged - 1;
    if (last >= 0 && this.#changedRegions[last % CHANGE_LOG_SIZE] === region) return;
    this.#changedRegions[this.logged % CHANGE_LOG_SIZE] = region;
    this.logged++;
  }
}
