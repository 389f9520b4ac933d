/**
 * Address-translation figures of the shipped hosts (the profiles' `translation`): TLB
 * geometry from the CPUs' own CPUID leaves, cache sizes likewise, and latencies from
 * vendor tables where published and marked estimates where not. Cycles are at the
 * profile's clock (Intel 2.5 GHz, AMD 2.7 GHz).
 *
 * @module
 */

import type { ParamSpec, TranslationSpec } from "../host/profile.ts";

const LIBCPUID_SPR = "CPUID leaf 0x18 of a Xeon w7-2475X (Sapphire Rapids), " +
  "anrieff/libcpuid tests/intel/sapphire_rapids/sapphire-rapids-ws-xeon-w7.test @2317f40b";
const LIBCPUID_GENOA = "CPUID 8000_0005/8000_0006/8000_0019 of an EPYC 9124 (Genoa), " +
  "anrieff/libcpuid tests/amd/zen4/epyc-genoa.test @3b8b7dfa";

const measured = (value: number, basis: string): ParamSpec => ({
  value,
  kind: "measured",
  basis,
});
const derived = (value: number, basis: string): ParamSpec => ({ value, kind: "derived", basis });
const estimate = (value: number, basis: string): ParamSpec => ({
  value,
  kind: "estimate",
  basis,
});

/** DRAM load-to-use latency both hosts are taken to have (ns; estimate, see below). */
const DRAM_NS = 110;
/** One core's sustained read bandwidth of a prefetched stream (GB/s; estimate). */
const STREAM_GBPS = 13;
/** Bytes of one RMP entry: Linux's struct rmpentry_raw is two u64s. */
const RMP_ENTRY_BYTES = 16;

/**
 * A reference of a walk that the paging-structure caches (and the nested-dimension
 * caches) serve. Haswell's STLB miss whose walk hits in cache costs about 8 cycles more
 * than an STLB hit (~20 vs ~12 cycles, Mynavi RMMA measurements, 2013) for a native walk
 * of 4 references, so about 2 cycles per reference the caches serve.
 */
const PWC_HIT = estimate(
  2,
  "Haswell: an STLB miss whose walk hits in cache ~20 cycles vs an STLB hit ~12 (Mynavi " +
    "RMMA, 2013), ~8 cycles over 4 references of a native walk",
);

/** Sapphire Rapids (Golden Cove cores) at 2.5 GHz. */
export const SPR_TRANSLATION: TranslationSpec = {
  // Four-kilobyte translations may use both STLB halves (1024 + 1024); 2M share one half
  // with 4K and 1G the other. The model gives each size its own array, which is exact when
  // one size dominates a working set and generous when 4K and 2M pages mix.
  l1: [
    { sizes: ["4K"], entries: 64 },
    { sizes: ["2M"], entries: 32 },
    { sizes: ["1G"], entries: 8 },
  ],
  stlb: [
    { sizes: ["4K"], entries: 2048 },
    { sizes: ["2M"], entries: 1024 },
    { sizes: ["1G"], entries: 1024 },
  ],
  tlbBasis: `${LIBCPUID_SPR}: L1 dTLB (loads) 64 4K, 32 2M, 8 1G entries; STLB 1024 4K+2M ` +
    "and 1024 4K+1G entries (Intel's Architecture Day 2021 says 96 4K entries in the L1; " +
    "CPUID says 64)",
  stlbHitCycles: estimate(
    9,
    "Golden Cove: STLB access 8 cycles, 9 in all for an L1 dTLB miss that hits it " +
      "(Hennessy & Patterson CAQA 6e notes on the i9-12900; no primary Intel figure found)",
  ),
  pwcHitCycles: PWC_HIT,
  l2Bytes: measured(2 * 1024 * 1024, `2 MiB, 16-way per core: CPUID leaf 4 (${LIBCPUID_SPR})`),
  llcBytes: measured(
    37.5 * 1024 * 1024,
    `37.5 MiB, non-inclusive, shared by the socket's cores: CPUID leaf 4 (${LIBCPUID_SPR})`,
  ),
  llcCores: measured(20, `the w7-2475X's 20 cores share it (${LIBCPUID_SPR})`),
  l2Cycles: estimate(16, "Golden Cove L2 load-to-use ~15-16 cycles; no SPR figure found"),
  llcCycles: estimate(
    80,
    "~32 ns at 2.5 GHz: SPR's mesh LLC is far from low latency (chipsandcheese, Genoa-X " +
      "round 2); no number published in text",
  ),
  memoryCycles: estimate(
    Math.round(DRAM_NS * 2.5),
    `${DRAM_NS} ns at 2.5 GHz: DDR5 server idle latency; chipsandcheese finds SPR's and ` +
      "Genoa-X's memory latency nearly identical",
  ),
  streamLineCycles: estimate(
    Math.round((64 / STREAM_GBPS) * 2.5),
    `a 64-byte line of a prefetched stream at one core's ~${STREAM_GBPS} GB/s: ` +
      `${(64 / STREAM_GBPS).toFixed(1)} ns`,
  ),
};

/** Genoa (Zen 4 cores) at 2.7 GHz. */
export const GENOA_TRANSLATION: TranslationSpec = {
  // The L2 DTLB is one skewed structure: CPUID reports 3072 entries for 4K and for 2M,
  // which are not additive; 1G translations have 64 of their own.
  l1: [{ sizes: ["4K", "2M", "1G"], entries: 72 }],
  stlb: [
    { sizes: ["4K", "2M"], entries: 3072 },
    { sizes: ["1G"], entries: 64 },
  ],
  tlbBasis: `${LIBCPUID_GENOA}: L1 dTLB 72 entries, fully associative, any size; L2 dTLB ` +
    "3072 entries for 4K and 2M pages (one skewed array), 64 for 1G",
  stlbHitCycles: estimate(7, "no Zen 4 L2 dTLB latency found: Golden Cove's 9 less two"),
  pwcHitCycles: PWC_HIT,
  l2Bytes: measured(1024 * 1024, `1 MiB, 8-way per core: CPUID 8000_001D (${LIBCPUID_GENOA})`),
  llcBytes: measured(
    32 * 1024 * 1024,
    "32 MiB of L3 per CCD, a victim cache of its cores' L2s: CPUID 8000_001D of a Zen 4 " +
      "CCD (anrieff/libcpuid tests/amd/zen4/amd-ryzen-7-7700x-8-core-processor.test @87bc7194)",
  ),
  llcCores: measured(8, "the 8 cores of a Zen 4 CCD share its L3 (same CPUID dump)"),
  l2Cycles: measured(14, "AMD's Zen 4 L2 latency, 14 cycles (Zen 3: 12), as AMD presented it"),
  llcCycles: measured(50, "AMD's Zen 4 L3 latency, 50 cycles (Zen 3: 46), as AMD presented it"),
  memoryCycles: estimate(
    Math.round(DRAM_NS * 2.7),
    `${DRAM_NS} ns at 2.7 GHz: DDR5 server idle latency (no Genoa figure in text found)`,
  ),
  streamLineCycles: estimate(
    Math.round((64 / STREAM_GBPS) * 2.7),
    `a 64-byte line of a prefetched stream at one core's ~${STREAM_GBPS} GB/s`,
  ),
  rmpEntryBytes: derived(
    RMP_ENTRY_BYTES,
    "an RMP entry is 16 bytes (Linux arch/x86/virt/svm/sev.c struct rmpentry_raw: two u64)",
  ),
};
