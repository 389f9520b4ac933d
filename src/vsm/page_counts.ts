/**
 * Counts of flagged pages at several granularities (32 pages, 2 MiB, 64 MiB, 1 GiB), so
 * that finding and counting flagged pages in a range skips empty stretches instead of
 * scanning every page: a search crosses at most a few dozen counters per level. The flags
 * themselves live elsewhere (a page-state byte, or a comparison of neighbouring pages);
 * the owner reports each flag change with {@linkcode PageCounts.add}.
 *
 * Memory: about a byte per 128 KiB of guest memory (a 256 GiB guest costs 2.3 MiB).
 *
 * @module
 */

/** log2 of the pages each level's counter covers, finest first. */
const SHIFTS = [5, 9, 14, 18]; // 32 pages (128 KiB), 2 MiB, 64 MiB, 1 GiB

/** Tests whether one page carries the flag. */
export type PageTest = (page: number) => boolean;

/** Flagged-page counts over a guest's pages. */
export class PageCounts {
  readonly pages: number;
  /** Flagged pages in all. */
  total = 0;
  /** One counter array per level of {@linkcode SHIFTS}. */
  readonly #levels: Int32Array[];

  constructor(pages: number) {
    // Page indices are shifted as 32-bit integers: 2^31 pages is 8 TiB of guest memory.
    if (pages >= 2 ** 31) throw new RangeError(`Cannot count ${pages} pages: at most 2^31 - 1`);
    this.pages = pages;
    this.#levels = SHIFTS.map((shift) => new Int32Array((pages >> shift) + 1));
  }

  /** Records that `page` gained (+1) or lost (-1) the flag. */
  add(page: number, delta: number): void {
    for (let l = 0; l < SHIFTS.length; l++) this.#levels[l][page >> SHIFTS[l]] += delta;
    this.total += delta;
  }

  /** Flagged pages in [from, to). */
  count(from: number, to: number, isSet: PageTest): number {
    let found = 0;
    let page = from;
    outer: while (page < to) {
      // The coarsest counter that starts here and ends within the range.
      for (let l = SHIFTS.length - 1; l >= 0; l--) {
        const size = 1 << SHIFTS[l];
        if ((page & (size - 1)) === 0 && page + size <= to) {
          found += this.#levels[l][page >> SHIFTS[l]];
          page += size;
          continue outer;
        }
      }
      if (isSet(page)) found++;
      page++;
    }
    return found;
  }

  /** The first flagged page in [from, to), or -1. */
  next(from: number, to: number, isSet: PageTest): number {
    let page = from;
    outer: while (page < to) {
      // Skip the coarsest empty stretch around `page`.
      for (let l = SHIFTS.length - 1; l >= 0; l--) {
        const shift = SHIFTS[l];
        if (this.#levels[l][page >> shift] === 0) {
          page = ((page >> shift) + 1) << shift;
          continue outer;
        }
      }
      if (isSet(page)) return page;
      page++;
    }
    return -1;
  }

  /** The last flagged page in [low, from], or -1. */
  previous(from: number, low: number, isSet: PageTest): number {
    let page = from;
    outer: while (page >= low) {
      for (let l = SHIFTS.length - 1; l >= 0; l--) {
        const shift = SHIFTS[l];
        if (this.#levels[l][page >> shift] === 0) {
          page = ((page >> shift) << shift) - 1;
          continue outer;
        }
      }
      if (isSet(page)) return page;
      page--;
    }
    return -1;
  }
}
