/**
 * Guest memory as page state, one byte per 4 KiB page plus one per 2 MiB region, so a
 * 256 GiB guest costs 64 MiB + 128 KiB of typed arrays (outside the JS heap's object
 * graph). Platforms add meaning to the free bits (private/shared, accepted, per-VTL
 * permissions) as they need them.
 *
 * @module
 */

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
    return 1;
  }

  /** Maps the whole 2 MiB region containing `page` with one leaf; returns pages newly mapped. */
  map2m(page: number): number {
    const region = Math.floor(page / PAGES_PER_2M);
    const first = region * PAGES_PER_2M;
    const last = Math.min(first + PAGES_PER_2M, this.pages);
    let mapped = 0;
    for (let p = first; p < last; p++) mapped += this.map4k(p);
    this.regionFlags[region] |= REGION_HUGE;
    return mapped;
  }
}
