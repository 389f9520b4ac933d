/**
 * AMD EPYC Genoa with SEV-SNP: the amd-svm profile plus the SNP costs. Two figures are
 * published (TUM-DSE/CVM_eval, EPYC 9334): CPUID answered in the guest's #VC handler from
 * the CPUID page, 1744 cycles, and CPUID that needs #VC + GHCB VMGEXIT to KVM, 10397
 * cycles. GUEST_VC is derived from the first, the SNP world switch (VMGEXIT + SNP_VMRUN)
 * from the second; every other SNP cost is an estimate (calibration.md section 3).
 *
 * @module
 */

import type { CostSpec, ProfileSpec } from "../host/profile.ts";
import type { PrimitiveName } from "../host/primitives.ts";
import { AMD_SVM } from "./amd_svm.ts";

const base = (name: PrimitiveName) => AMD_SVM.costs[name]!.cycles;
const estimate = (cycles: number, basis: string): CostSpec => ({ cycles, kind: "estimate", basis });
const derived = (cycles: number, basis: string): CostSpec => ({ cycles, kind: "derived", basis });

const CLOCK_GHZ = AMD_SVM.clockGHz!;
const CVM_EVAL = "TUM-DSE/CVM_eval benchmarks/vmexit/README.md (EPYC 9334)";
/** Cycles a microsecond takes at the profile's clock. */
const US = CLOCK_GHZ * 1000;

/** Published: CPUID served by the #VC handler from the CPUID page (646 ns). */
const CPUID_PAGE_CYCLES = 1744;
/** Published: CPUID needing #VC + GHCB VMGEXIT to KVM (3851 ns). */
const CPUID_VMGEXIT_CYCLES = 10397;

/** Looking a leaf up in the CPUID page, the part of the 1744 that is not #VC handling. */
const CPUID_PAGE_LOOKUP = 150;
const GUEST_VC = CPUID_PAGE_CYCLES - CPUID_PAGE_LOOKUP;
const GHCB_CALL = 500;
const GHCB_SYNC = 800;
const VMGEXIT = 3300;
/** The rest of the #VC + VMGEXIT CPUID round trip: the entry. */
const VMRUN = CPUID_VMGEXIT_CYCLES - GUEST_VC - GHCB_CALL - VMGEXIT - base("KVM_EXIT_DISPATCH") -
  GHCB_SYNC - base("KVM_CPUID");

const costs: Partial<Record<PrimitiveName, CostSpec>> = {
  GUEST_VC: derived(
    GUEST_VC,
    `CPUID from the CPUID page in the #VC handler, ${CPUID_PAGE_CYCLES} cycles (${CVM_EVAL}), ` +
      `minus an estimated ${CPUID_PAGE_LOOKUP}-cycle lookup of the leaf in the page`,
  ),
  GUEST_GHCB_CALL: estimate(
    GHCB_CALL,
    "write a few GHCB fields and the valid bitmap, point the GHCB MSR at the page, check " +
      "the result: a few cache lines and an uncached MSR write",
  ),
  GHCB_MSR_PROTOCOL: estimate(
    300,
    "a WRMSR and an RDMSR of the GHCB MSR around the VMGEXIT (not intercepted)",
  ),
  GUEST_PSC_ENTRY: estimate(30, "one 8-byte entry written into the GHCB's shared buffer"),
  PVALIDATE: estimate(
    1000,
    "look the page up in the RMP and update its entry atomically, like a locked access to " +
      "a table line plus the TLB check: ~0.4 us",
  ),
  RMPADJUST: estimate(1000, "the same RMP lookup and update as PVALIDATE"),
  GUEST_BOUNCE_COPY: estimate(
    1500,
    "swiotlb: find a slot and copy a ~1.5 KB packet through shared memory: ~0.6 us (as intel-tdx)",
  ),
  "PSP_CMD(SNP_LAUNCH_START)": estimate(
    Math.round(100 * US),
    "~100 us: three PSP commands (context create, ASID activate, launch start) through the " +
      "mailbox, each a few tens of us on the PSP's ARM core",
  ),
  "PSP_CMD(SNP_LAUNCH_UPDATE)": estimate(
    Math.round(10 * US),
    "~10 us per 4 KiB page: a mailbox round trip, a SHA-384 of the page and its metadata " +
      "on the PSP's crypto engine, and encrypting the page in place",
  ),
  "PSP_CMD(SNP_LAUNCH_FINISH)": estimate(
    Math.round(100 * US),
    "~100 us: finalize the launch digest and the guest's identity block",
  ),
  VMGEXIT: estimate(
    VMGEXIT,
    "about half of the SNP world switch (VMGEXIT + SNP_VMRUN = " +
      `${VMGEXIT + VMRUN}): saving and encrypting the guest's state into its VMSA`,
  ),
  SNP_AUTOMATIC_EXIT: estimate(VMGEXIT, "the same world switch as VMGEXIT"),
  SNP_VMRUN: derived(
    VMRUN,
    `CPUID by #VC + GHCB VMGEXIT, ${CPUID_VMGEXIT_CYCLES} cycles (${CVM_EVAL}), minus ` +
      "GUEST_VC, GUEST_GHCB_CALL, VMGEXIT, KVM_EXIT_DISPATCH, KVM_GHCB_SYNC and KVM_CPUID",
  ),
  KVM_GHCB_SYNC: estimate(
    GHCB_SYNC,
    "map the GHCB, validate the exit code and fields, copy registers in, and back out " +
      "before entry (sev_es_sync_from_ghcb / sev_es_sync_to_ghcb)",
  ),
  KVM_GHCB_MSR: estimate(150, "decode a GHCB MSR request and write the response: like KVM_MSR"),
  KVM_PSC_ENTRY: estimate(100, "read, check and coalesce one PSC entry"),
  SNP_POST_MAP: estimate(
    200,
    "srcu_read_lock/unlock (~20 cycles each) and an RMP entry lookup that misses the cache " +
      "(~150 cycles) around each kernel map of guest memory",
  ),
  HOST_RMP_FAULT: estimate(
    3000,
    "a page fault with the RMP bit: exception entry, the RMP lookup (dump_rmpentry) and the " +
      "handler's policy decision, like a minor fault: ~1.2 us",
  ),
  RMPUPDATE: estimate(
    2000,
    "rewrite one RMP entry and make every core's cached RMP state see it: ~0.75 us",
  ),
  RMPUPDATE_FAIL: estimate(2000, "an RMPUPDATE that fails costs about what one that succeeds does"),
  PSMASH: estimate(4000, "rewrite a 2 MiB RMP entry as 512 4 KiB entries (8 KiB of RMP)"),
  DIRECT_MAP_SPLIT: estimate(
    6000,
    "allocate a page table, write 512 PTEs, and flush every CPU's TLB (flush_tlb_all)",
  ),
  DIRECT_MAP_UPDATE: estimate(200, "rewrite one direct-map PTE without a flush"),
  CACHE_FLUSH: estimate(1500, "CLFLUSHOPT of a page's 64 lines and a fence: ~0.5 us"),
  PAGE_COPY: estimate(
    2 * base("PAGE_CLEAR"),
    "a read and a write stream over 4 KiB: twice PAGE_CLEAR",
  ),
  GMEM_PUNCH_HOLE: estimate(
    3000,
    "fallocate(PUNCH_HOLE) on guest_memfd: the system call, invalidate begin/end and " +
      "truncating the page-cache range, besides per-page work",
  ),
  KVM_SET_ATTRIBUTES: estimate(
    3000,
    "the ioctl, range checks and invalidation setup under slots_lock (as intel-tdx)",
  ),
  XA_OP: estimate(60, "one xa_store of a page's attributes (as intel-tdx)"),
  KVM_ZAP: estimate(100, "clear one NPT leaf (as intel-tdx)"),
  VMM_MAPGPA: estimate(
    1000,
    "QEMU handles KVM_EXIT_HYPERCALL(KVM_HC_MAP_GPA_RANGE) and converts (as intel-tdx)",
  ),
};

/** The default SNP profile. */
export const AMD_SNP: ProfileSpec = {
  name: "amd-snp",
  description: "AMD EPYC Genoa class with SEV-SNP: amd-svm plus the SNP guest, host and PSP costs",
  base: "amd-svm",
  platform: "snp",
  references: {
    cpuid: {
      cycles: CPUID_VMGEXIT_CYCLES,
      kind: "measured",
      source: `CPUID needing #VC + GHCB VMGEXIT to KVM, 3851 ns (${CVM_EVAL})`,
    },
  },
  costs,
};
