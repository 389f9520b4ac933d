/**
 * Counts of flagged pages per 2 MiB region and per 1 GiB block, so that finding and
 * counting flagged pages in a range skips empty stretches instead of scanning every page.
 * The flags themselves live elsewhere (a page-state byte, or a comparison of neighbouring
 * pages); the owner reports each flag change with {@linkcode PageCounts.add}.
 *
 * Memory: 2 bytes per 2 MiB and 4 per 1 GiB, so a 256 GiB guest costs 256 KiB.
 *
 * @module
 */

const REGION_SHIFT = 9; // 512 pages = 2 MiB
const BLOCK_SHIFT = 18; // 512 regions = 1 GiB
const REGION_PAGES = 1 << REGION_SHIFT;
const BLOCK_PAGES = 1 << BLOCK_SHIFT;

/** Tests whether one page carries the flag. */
export type PageTest = (page: number) => boolean;

/** Flagged-page counts over a guest's pages. */
export class PageCounts {
  readonly pages: number;
  /** Flagged pages in all. */
  total = 0;
  readonly #regions: Uint16Array;
  readonly #blocks: Int32Array;

  constructor(pages: number) {
    // Page indices are shifted as 32-bit integers: 2^31 pages is 8 TiB of guest memory.
    if (pages >= 2 ** 31) throw new RangeError(`Cannot count ${pages} pages: at most 2^31 - 1`);
    this.pages = pages;
    this.#regions = new Uint16Array((pages >> REGION_SHIFT) + 1);
    this.#blocks = new Int32Array((pages >> BLOCK_SHIFT) + 1);
  }

  /** Records that `page` gained (+1) or lost (-1) the flag. */
  add(page: number, delta: number): void {
    this.#regions[page >> REGION_SHIFT] += delta;
    this.#blocks[page >> BLOCK_SHIFT] += delta;
    this.total += delta;
  }

  /** Flagged pages in [from, to). */
  count(from: number, to: number, isSet: PageTest): number {
    let found = 0;
    let page = from;
    while (page < to) {
      if ((page & (BLOCK_PAGES - 1)) === 0 && page + BLOCK_PAGES <= to) {
        found += this.#blocks[page >> BLOCK_SHIFT];
        page += BLOCK_PAGES;
      } else if ((page & (REGION_PAGES - 1)) === 0 && page + REGION_PAGES <= to) {
        found += this.#regions[page >> REGION_SHIFT];
        page += REGION_PAGES;
      } else {
        if (isSet(page)) found++;
        page++;
      }
    }
    return found;
  }

  /** The first flagged page in [from, to), or -1. */
  next(from: number, to: number, isSet: PageTest): number {
    let page = from;
    while (page < to) {
      if (this.#blocks[page >> BLOCK_SHIFT] === 0) {
        page = ((page >> BLOCK_SHIFT) + 1) << BLOCK_SHIFT;
      } else if (this.#regions[page >> REGION_SHIFT] === 0) {
        page = ((page >> REGION_SHIFT) + 1) << REGION_SHIFT;
      } else if (isSet(page)) {
        return page;
      } else {
        page++;
      }
    }
    return -1;
  }

  /** The last flagged page in [low, from], or -1. */
  previous(from: number, low: number, isSet: PageTest): number {
    let page = from;
    while (page >= low) {
      if (this.#blocks[page >> BLOCK_SHIFT] === 0) {
        page = ((page >> BLOCK_SHIFT) << BLOCK_SHIFT) - 1;
      } else if (this.#regions[page >> REGION_SHIFT] === 0) {
        page = ((page >> REGION_SHIFT) << REGION_SHIFT) - 1;
      } else if (isSet(page)) {
        return page;
      } else {
        page--;
      }
    }
    return -1;
  }
}
