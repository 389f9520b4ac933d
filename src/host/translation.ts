/**
 * Address translation as an analytic model: what a batch of guest memory accesses costs
 * for a working set, an access pattern, the guest's page size and the host's leaf sizes,
 * computed per batch instead of per access so that simulating a memory-bound guest stays
 * fast.
 *
 * - TLB misses: each TLB array (L1 dTLB and STLB, per page size or shared) is a fully
 *   associative LRU cache of translations; its hit ratio for a mix of page classes comes
 *   from Che's approximation (the characteristic time T with Σ pages·(1 - e^(-rate·T)) =
 *   entries). A translation is cached at the smaller of the guest's page and the host's
 *   leaf, so 4 KiB guest pages get no more TLB reach from 2 MiB host leaves.
 * - A miss in the STLB is a two-dimensional walk: (Lg + 1)(Lh + 1) - 1 references for Lg
 *   guest and Lh host levels (24 for 4-level by 4-level). The paging-structure caches
 *   serve all but three: the guest's leaf entry, the host's leaf entry for the page table
 *   page holding it, and the host's leaf entry for the data page. Those three, and on SNP
 *   the RMP entries the hardware checks for the guest's page table page and the data page,
 *   are memory references whose cache hit ratios come from Che's approximation over every
 *   line the accesses and walks touch (data, entries), at the L2's capacity and at the L2's
 *   plus the core's share of the LLC (a victim cache, shared by the cores busy with memory).
 * - The data access itself: its cache hit ratio from the same solution, or for a stream,
 *   a prefetched line.
 *
 * Accesses are dependent (a latency-bound pointer chase), so a batch's time is its
 * accesses times the cost of one. Every parameter comes from the profile (`translation`).
 *
 * @module
 */

/** Page and leaf sizes the model knows. */
export const PAGE_SIZES = ["4K", "2M", "1G"] as const;
/** One of {@linkcode PAGE_SIZES}. */
export type PageSize = typeof PAGE_SIZES[number];

/** Bytes of each page size. */
export const PAGE_SIZE_BYTES: Record<PageSize, number> = {
  "4K": 4096,
  "2M": 2 * 1024 * 1024,
  "1G": 1024 * 1024 * 1024,
};

/** Page-table levels a walk reads to reach a leaf of each size (4-level paging). */
const LEVELS: Record<PageSize, number> = { "4K": 4, "2M": 3, "1G": 2 };

/** Bytes of a cache line; a memory workload's access reads or writes one. */
export const LINE_BYTES = 64;
const ENTRY_BYTES = 8;

/** One TLB array: the page sizes it holds and how many translations. */
export interface TlbArray {
  sizes: PageSize[];
  entries: number;
}

/** The hardware figures the model needs (the profile's `translation`, resolved). */
export interface TranslationParams {
  /** L1 data TLB arrays. */
  l1: TlbArray[];
  /** Second-level (unified) TLB arrays. */
  stlb: TlbArray[];
  /** An L1 dTLB miss that hits the STLB. */
  stlbHitCycles: number;
  /** A page-walk reference the paging-structure caches serve. */
  pwcHitCycles: number;
  /** A core's own L2. */
  l2Bytes: number;
  /** The last-level cache (a victim cache of the L2s) and how many cores share it. */
  llcBytes: number;
  llcCores: number;
  /** Load-to-use latencies of a line from L2, LLC and DRAM. */
  l2Cycles: number;
  llcCycles: number;
  memoryCycles: number;
  /** A line of a sequential stream, which the hardware prefetcher brings in. */
  streamLineCycles: number;
  /** Bytes of one RMP entry (SEV-SNP checks one per host page it accesses). */
  rmpEntryBytes: number;
}

/** How a batch's accesses spread over the working set. */
export type AccessPattern =
  | { kind: "sequential" }
  | { kind: "random" }
  | { kind: "hot-set"; hotFraction: number; hotShare: number };

/** A part of the working set with one host leaf size (and, on SNP, RMP entry size). */
export interface MappingPart {
  /** Bytes of the working set in this part. */
  bytes: number;
  hostLeaf: PageSize;
  /** SEV-SNP: the RMP entry size the hardware checks for its pages (absent: no RMP). */
  rmp?: PageSize;
}

/** What one access costs, on average, and why. */
export interface AccessCost {
  /** Cycles per access: data + STLB hits + walks. */
  cycles: number;
  dataCycles: number;
  stlbHitCycles: number;
  walkCycles: number;
  /** Per access: L1 dTLB misses and STLB misses (walks). */
  l1Misses: number;
  stlbMisses: number;
  /** Cycles of one walk, averaged over the walks. */
  cyclesPerWalk: number;
}

/** One class of items an LRU cache sees: how many, and each one's access rate. */
interface CacheClass {
  items: number;
  rate: number;
}

/**
 * Che's approximation: hit ratio of each class in an LRU cache of `capacity` items, given
 * each class's item count and per-item access rate. Exact in the limit of many items; the
 * tests compare it with a per-access LRU simulation.
 */
export function cheHitRatios(classes: readonly CacheClass[], capacity: number): number[] {
  let total = 0;
  for (const c of classes) if (c.rate > 0) total += c.items;
  if (total <= capacity) return classes.map((c) => (c.rate > 0 ? 1 : 0));
  const occupied = (t: number) => {
    let sum = 0;
    for (const c of classes) if (c.rate > 0) sum += c.items * -Math.expm1(-c.rate * t);
    return sum;
  };
  // Bisection on the characteristic time: occupied(t) grows from 0 to `total`.
  let lo = 0;
  let hi = 1;
  while (occupied(hi) < capacity) hi *= 2;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (occupied(mid) < capacity) lo = mid;
    else hi = mid;
  }
  const t = (lo + hi) / 2;
  return classes.map((c) => (c.rate > 0 ? -Math.expm1(-c.rate * t) : 0));
}

/** A class of translations: pages of one effective size and their share of accesses. */
interface PageClass {
  size: PageSize;
  pages: number;
  /** Bytes of the working set in the class. */
  bytes: number;
  /** Share of all accesses. */
  share: number;
  part: number;
}

/** The page classes of a working set split into mapping parts (and hot and cold sets). */
function pageClasses(
  parts: readonly MappingPart[],
  guestPage: PageSize,
  pattern: AccessPattern,
  wsBytes: number,
): PageClass[] {
  const classes: PageClass[] = [];
  parts.forEach((part, index) => {
    if (part.bytes <= 0) return;
    const size = PAGE_SIZE_BYTES[guestPage] <= PAGE_SIZE_BYTES[part.hostLeaf]
      ? guestPage
      : part.hostLeaf;
    const pageBytes = PAGE_SIZE_BYTES[size];
    const share = part.bytes / wsBytes;
    if (pattern.kind === "hot-set") {
      // The hot set is spread over the parts in proportion to their size.
      const hot = pattern.hotFraction * part.bytes;
      const cold = part.bytes - hot;
      classes.push({
        size,
        pages: Math.max(1, hot / pageBytes),
        bytes: hot,
        share: share * pattern.hotShare,
        part: index,
      });
      classes.push({
        size,
        pages: Math.max(1, cold / pageBytes),
        bytes: cold,
        share: share * (1 - pattern.hotShare),
        part: index,
      });
    } else {
      classes.push({
        size,
        pages: Math.max(1, part.bytes / pageBytes),
        bytes: part.bytes,
        share,
        part: index,
      });
    }
  });
  return classes;
}

/** Per class, the probability that a TLB level holds its translation. */
function tlbHits(
  level: readonly TlbArray[],
  classes: readonly PageClass[],
  pattern: AccessPattern,
): number[] {
  const hits = classes.map(() => 0);
  for (const array of level) {
    const members = classes.flatMap((c, i) => (array.sizes.includes(c.size) ? [i] : []));
    if (members.length === 0) continue;
    if (pattern.kind === "sequential") {
      // A stream over more pages than the array holds misses once per page per pass.
      const pages = members.reduce((sum, i) => sum + classes[i].pages, 0);
      for (const i of members) {
        const linesPerPage = PAGE_SIZE_BYTES[classes[i].size] / LINE_BYTES;
        hits[i] = pages <= array.entries ? 1 : 1 - 1 / linesPerPage;
      }
      continue;
    }
    const ratios = cheHitRatios(
      members.map((i) => ({ items: classes[i].pages, rate: classes[i].share / classes[i].pages })),
      array.entries,
    );
    members.forEach((i, k) => (hits[i] = ratios[k]));
  }
  return hits;
}

/** Inputs of {@linkcode accessCost}. */
export interface AccessModelInput {
  params: TranslationParams;
  pattern: AccessPattern;
  /** The guest's page size for the working set. */
  guestPage: PageSize;
  /** The working set, by host leaf size. */
  parts: readonly MappingPart[];
  /**
   * Cores with memory-bound work sharing the LLC (at least 1, at most `llcCores`): a core
   * alone has the whole LLC beside its L2, a full complex an equal share each. Default 1.
   */
  llcSharers?: number;
}

/** Cost of one access (averaged over a batch) under the mapping `parts` describe. */
export function accessCost(input: AccessModelInput): AccessCost {
  const { params, pattern, guestPage } = input;
  const parts = input.parts.filter((p) => p.bytes > 0);
  const wsBytes = parts.reduce((sum, p) => sum + p.bytes, 0);
  if (wsBytes === 0) {
    return {
      cycles: 0,
      dataCycles: 0,
      stlbHitCycles: 0,
      walkCycles: 0,
      l1Misses: 0,
      stlbMisses: 0,
      cyclesPerWalk: 0,
    };
  }
  const classes = pageClasses(parts, guestPage, pattern, wsBytes);
  const l1 = tlbHits(params.l1, classes, pattern);
  const stlb = tlbHits(params.stlb, classes, pattern);
  let l1Misses = 0;
  let stlbMisses = 0;
  const walksByPart = parts.map(() => 0);
  classes.forEach((c, i) => {
    // An STLB holds more than the L1; a translation the L1 holds is taken as also there.
    const stlbHit = Math.max(stlb[i], l1[i]);
    l1Misses += c.share * (1 - l1[i]);
    stlbMisses += c.share * (1 - stlbHit);
    walksByPart[c.part] += c.share * (1 - stlbHit);
  });

  // The lines accesses and walks touch, as classes of one LRU-managed cache.
  const lineClasses: CacheClass[] = [];
  const dataClass: number[] = [];
  for (const c of classes) {
    const bytes = Math.max(LINE_BYTES, c.bytes);
    dataClass.push(
      lineClasses.push({ items: bytes / LINE_BYTES, rate: c.share / (bytes / LINE_BYTES) }) - 1,
    );
  }
  const walkRefs: number[][] = parts.map(() => []);
  const guestLeafBytes = PAGE_SIZE_BYTES[guestPage];
  parts.forEach((part, p) => {
    const walks = walksByPart[p];
    const entryLines = (entries: number, bytes = ENTRY_BYTES) =>
      Math.max(1, (entries * bytes) / LINE_BYTES);
    const leafTablePages = Math.max(1, part.bytes / (guestLeafBytes * 512));
    const refs: { entries: number; bytes: number }[] = [
      { entries: part.bytes / guestLeafBytes, bytes: ENTRY_BYTES }, // the guest's leaf entries
      { entries: leafTablePages, bytes: ENTRY_BYTES }, // host leaves of the guest's leaf tables
      { entries: part.bytes / PAGE_SIZE_BYTES[part.hostLeaf], bytes: ENTRY_BYTES }, // data's host leaf
    ];
    if (part.rmp !== undefined) {
      refs.push({ entries: leafTablePages, bytes: params.rmpEntryBytes }); // RMP: table page
      refs.push({ entries: part.bytes / PAGE_SIZE_BYTES[part.rmp], bytes: params.rmpEntryBytes });
    }
    for (const ref of refs) {
      const lines = entryLines(ref.entries, ref.bytes);
      walkRefs[p].push(lineClasses.push({ items: lines, rate: walks / lines }) - 1);
    }
  });
  const l2 = cheHitRatios(lineClasses, params.l2Bytes / LINE_BYTES);
  const sharers = Math.min(params.llcCores, Math.max(1, input.llcSharers ?? 1));
  const llc = cheHitRatios(lineClasses, (params.l2Bytes + params.llcBytes / sharers) / LINE_BYTES);
  const lineCycles = (cls: number) => {
    const inL2 = l2[cls];
    const inLlc = Math.max(llc[cls], inL2);
    return inL2 * params.l2Cycles + (inLlc - inL2) * params.llcCycles +
      (1 - inLlc) * params.memoryCycles;
  };

  let dataCycles = 0;
  classes.forEach((c, i) => {
    dataCycles += c.share *
      (pattern.kind === "sequential" ? params.streamLineCycles : lineCycles(dataClass[i]));
  });
  let walkCycles = 0;
  parts.forEach((part, p) => {
    const walks = walksByPart[p];
    if (walks === 0) return;
    const refs = (LEVELS[guestPage] + 1) * (LEVELS[part.hostLeaf] + 1) - 1;
    let cycles = (refs - 3) * params.pwcHitCycles;
    for (const cls of walkRefs[p]) cycles += lineCycles(cls);
    walkCycles += walks * cycles;
  });
  const stlbHitCycles = (l1Misses - stlbMisses) * params.stlbHitCycles;
  return {
    cycles: dataCycles + stlbHitCycles + walkCycles,
    dataCycles,
    stlbHitCycles,
    walkCycles,
    l1Misses,
    stlbMisses,
    cyclesPerWalk: stlbMisses > 0 ? walkCycles / stlbMisses : 0,
  };
}

/** References of a two-dimensional walk with `guest` pages over `host` leaves. */
export function walkReferences(guest: PageSize, host: PageSize): number {
  return (LEVELS[guest] + 1) * (LEVELS[host] + 1) - 1;
}
