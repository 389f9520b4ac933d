/**
 * The analytic translation model against hand arithmetic and against a per-access LRU TLB
 * simulation written here.
 */
import { ok, strictEqual } from "node:assert/strict";
import { RngStreams } from "../../src/engine/rng.ts";
import {
  accessCost,
  type AccessPattern,
  cheHitRatios,
  type TranslationParams,
  walkReferences,
} from "../../src/host/translation.ts";

const KIB = 1024;
const MIB = 1024 * KIB;
const GIB = 1024 * MIB;

/** A small made-up host, so the test's arithmetic is easy to follow. */
const PARAMS: TranslationParams = {
  l1: [{ sizes: ["4K"], entries: 64 }, { sizes: ["2M"], entries: 32 }],
  stlb: [{ sizes: ["4K"], entries: 1024 }, { sizes: ["2M"], entries: 1024 }],
  stlbHitCycles: 9,
  pwcHitCycles: 2,
  l2Bytes: 1 * MIB,
  llcBytes: 4 * MIB,
  llcCores: 4,
  l2Cycles: 15,
  llcCycles: 60,
  memoryCycles: 300,
  streamLineCycles: 10,
  rmpEntryBytes: 16,
};

/** The same host with a cache of one line: every walk reference goes to memory. */
const NO_CACHES: TranslationParams = { ...PARAMS, l2Bytes: 64, llcBytes: 0 };

const random: AccessPattern = { kind: "random" };

function near(actual: number, expected: number, tolerance: number, what: string): void {
  ok(
    Math.abs(actual - expected) <= tolerance * Math.abs(expected),
    `${what}: ${actual} is not within ${tolerance * 100}% of ${expected}`,
  );
}

Deno.test("a working set inside the L1 dTLB's reach pays no walks and no STLB hits", () => {
  const cost = accessCost({
    params: PARAMS,
    pattern: random,
    guestPage: "4K",
    parts: [{ bytes: 64 * 4 * KIB, hostLeaf: "4K" }],
  });
  strictEqual(cost.l1Misses, 0);
  strictEqual(cost.walkCycles, 0);
  strictEqual(cost.stlbHitCycles, 0);
  strictEqual(cost.cycles, cost.dataCycles);
});

Deno.test("a working set inside the STLB's reach pays STLB hits, no walks", () => {
  const pages = 512;
  const cost = accessCost({
    params: PARAMS,
    pattern: random,
    guestPage: "4K",
    parts: [{ bytes: pages * 4 * KIB, hostLeaf: "4K" }],
  });
  strictEqual(cost.walkCycles, 0);
  near(cost.l1Misses, 1 - 64 / pages, 1e-9, "L1 miss rate");
  near(cost.stlbHitCycles, (1 - 64 / pages) * PARAMS.stlbHitCycles, 1e-9, "STLB-hit cycles");
});

Deno.test("far beyond reach on 4K/4K a walk is 21 cached references and 3 memory ones", () => {
  const bytes = 64 * GIB;
  const pages = bytes / (4 * KIB);
  const cost = accessCost({
    params: NO_CACHES,
    pattern: random,
    guestPage: "4K",
    parts: [{ bytes, hostLeaf: "4K" }],
  });
  const missRate = 1 - 1024 / pages; // uniform: an LRU of n entries holds n of the pages
  const walk = (24 - 3) * NO_CACHES.pwcHitCycles + 3 * NO_CACHES.memoryCycles;
  near(cost.stlbMisses, missRate, 1e-6, "STLB miss rate");
  near(cost.cyclesPerWalk, walk, 1e-3, "cycles per walk");
  near(cost.walkCycles, missRate * walk, 1e-3, "walk cycles per access");
  strictEqual(walkReferences("4K", "4K"), 24);
});

Deno.test("2 MiB host leaves shorten each walk by the formula's references", () => {
  const bytes = 64 * GIB;
  const at = (hostLeaf: "4K" | "2M") =>
    accessCost({
      params: NO_CACHES,
      pattern: random,
      guestPage: "4K",
      parts: [{ bytes, hostLeaf }],
    });
  const small = at("4K");
  const huge = at("2M");
  // Guest pages stay 4 KiB, so the TLBs hold as many translations: the same walks.
  near(huge.stlbMisses, small.stlbMisses, 1e-9, "walks");
  // (4+1)(3+1)-1 = 19 references, three of them still leaf entries in memory.
  strictEqual(walkReferences("4K", "2M"), 19);
  const saved = (24 - 19) * NO_CACHES.pwcHitCycles;
  // (The leaf entries of 2 MiB leaves are fewer lines, a little likelier in a cache.)
  near(small.cyclesPerWalk - huge.cyclesPerWalk, saved, 0.01, "cycles saved per walk");
  // 2 MiB guest pages over 2 MiB leaves: 15 references and 512 times the TLB reach.
  const both = accessCost({
    params: NO_CACHES,
    pattern: random,
    guestPage: "2M",
    parts: [{ bytes, hostLeaf: "2M" }],
  });
  near(both.stlbMisses, 1 - 1024 / (bytes / (2 * MIB)), 1e-6, "2M/2M miss rate");
  near(
    both.cyclesPerWalk,
    12 * NO_CACHES.pwcHitCycles + 3 * NO_CACHES.memoryCycles,
    0.02, // the host leaves of the guest's 64 page directories share a line that stays cached
    "2M/2M walk",
  );
});

Deno.test("on SNP each walk also reads two RMP entries", () => {
  const bytes = 64 * GIB;
  const plain = accessCost({
    params: NO_CACHES,
    pattern: random,
    guestPage: "4K",
    parts: [{ bytes, hostLeaf: "4K" }],
  });
  const snp = accessCost({
    params: NO_CACHES,
    pattern: random,
    guestPage: "4K",
    parts: [{ bytes, hostLeaf: "4K", rmp: "4K" }],
  });
  near(snp.cyclesPerWalk - plain.cyclesPerWalk, 2 * NO_CACHES.memoryCycles, 1e-3, "RMP cost");
});

Deno.test("Che's approximation: one class of n items in a cache of c holds c/n of them", () => {
  const [hit] = cheHitRatios([{ items: 1000, rate: 0.001 }], 250);
  near(hit, 0.25, 1e-6, "hit ratio");
  strictEqual(cheHitRatios([{ items: 10, rate: 0.1 }], 10)[0], 1);
});

/**
 * A per-access reference: an L1 and an STLB, each a fully associative LRU of translations;
 * the STLB is looked up on an L1 miss, and both are filled on a walk.
 */
function simulateTlb(
  pages: number,
  next: () => number,
  accesses: number,
): { l1Misses: number; stlbMisses: number } {
  const l1 = new Lru(PARAMS.l1[0].entries);
  const stlb = new Lru(PARAMS.stlb[0].entries);
  let l1Misses = 0;
  let stlbMisses = 0;
  const warmup = Math.min(accesses, pages * 20);
  for (let i = 0; i < warmup + accesses; i++) {
    const page = next();
    const counted = i >= warmup;
    if (l1.touch(page)) continue;
    if (counted) l1Misses++;
    if (stlb.touch(page)) continue;
    if (counted) stlbMisses++;
  }
  return { l1Misses: l1Misses / accesses, stlbMisses: stlbMisses / accesses };
}

/** A fully associative LRU set of page numbers (a Map keeps insertion order). */
class Lru {
  readonly #capacity: number;
  readonly #entries = new Map<number, true>();
  constructor(capacity: number) {
    this.#capacity = capacity;
  }
  /** True on a hit; a miss inserts the page, evicting the least recently used. */
  touch(page: number): boolean {
    if (this.#entries.delete(page)) {
      this.#entries.set(page, true);
      return true;
    }
    this.#entries.set(page, true);
    if (this.#entries.size > this.#capacity) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
    return false;
  }
}

Deno.test("the analytic miss rates agree with a per-access LRU TLB within 10%", async (t) => {
  const rng = new RngStreams(5).stream("tlb");
  const accesses = 400_000;
  const cases: { name: string; pages: number; pattern: AccessPattern; next: () => number }[] = [];
  // Uniform over 4096 pages (16 MiB): four times the STLB.
  cases.push({ name: "random", pages: 4096, pattern: random, next: () => rng.int(0, 4095) });
  // 90% of accesses to the first 10% of 20,000 pages: the hot set fits the STLB.
  const hotPages = 2000;
  cases.push({
    name: "hot-set",
    pages: 20_000,
    pattern: { kind: "hot-set", hotFraction: 0.1, hotShare: 0.9 },
    next: () => rng.float() < 0.9 ? rng.int(0, hotPages - 1) : rng.int(hotPages, 19_999),
  });
  // A stream of 64-byte lines through 8192 pages (32 MiB), over and over.
  let line = 0;
  cases.push({
    name: "sequential",
    pages: 8192,
    pattern: { kind: "sequential" },
    next: () => Math.floor((line = (line + 1) % (8192 * 64)) / 64),
  });
  for (const c of cases) {
    await t.step(c.name, () => {
      const reference = simulateTlb(c.pages, c.next, accesses);
      const model = accessCost({
        params: PARAMS,
        pattern: c.pattern,
        guestPage: "4K",
        parts: [{ bytes: c.pages * 4 * KIB, hostLeaf: "4K" }],
      });
      near(model.l1Misses, reference.l1Misses, 0.1, `${c.name} L1 misses`);
      near(model.stlbMisses, reference.stlbMisses, 0.1, `${c.name} STLB misses`);
    });
  }
});
