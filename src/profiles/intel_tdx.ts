/**
 * Intel Xeon with TDX (Sapphire Rapids / Granite Rapids class): the intel-vmx profile plus
 * the TDX module's costs. The one published TD figure is a 4 KiB private-page acceptance
 * of about 8 us on Granite Rapids (Dstack-TEE/dstack PR #1220); TDH.MEM.PAGE.AUG is derived
 * from it and every other module cost is an estimate (calibration.md section 3).
 *
 * @module
 */

import type { CostSpec, ProfileSpec } from "../host/profile.ts";
import type { PrimitiveName } from "../host/primitives.ts";
import { INTEL_VMX } from "./intel_vmx.ts";

const base = (name: PrimitiveName) => INTEL_VMX.costs[name]!.cycles;
const estimate = (cycles: number, basis: string): CostSpec => ({ cycles, kind: "estimate", basis });

const CLOCK_GHZ = INTEL_VMX.clockGHz!;
const DSTACK = "Dstack-TEE/dstack PR #1220 (Granite Rapids)";
/** The published per-page acceptance, in cycles at the profile's clock. */
const ACCEPT_4K_CYCLES = Math.round(8 * 1000 * CLOCK_GHZ);

const TD_EXIT = 2500;
/** A whole TD entry (estimate), of which the epoch section is TDX_ENTER_EPOCH. */
const VP_ENTER = 3000;
const ENTER_EPOCH = 100;
const ACCEPT = 1000;
const CALL_BRANCH = 2;
const MIRROR_READ = 20;
/** TDX_PAGE_ZERO: the module zeroes at the host's zeroing rate. */
const PAGE_ZERO = base("PAGE_CLEAR");
/** Everything in a 4 KiB acceptance (flows.md C.4) except TDH.MEM.PAGE.AUG. */
const ACCEPT_WITHOUT_AUG = ACCEPT + TD_EXIT + base("KVM_EXIT_DISPATCH") + 6 * CALL_BRANCH +
  base("KVM_MMU_FAULT") + 4 * MIRROR_READ + base("PAGE_ALLOC") + base("PAGE_CLEAR") + VP_ENTER +
  PAGE_ZERO;

const costs: Partial<Record<PrimitiveName, CostSpec>> = {
  GUEST_VE: estimate(
    1000,
    "#VE delivery, decoding the instruction in the guest and building a TDVMCALL: ~0.4 us",
  ),
  GUEST_BOUNCE_COPY: estimate(
    1500,
    "swiotlb: find a slot and copy a ~1.5 KB packet through shared memory: ~0.6 us",
  ),
  TD_EXIT: estimate(
    TD_EXIT,
    "the module saves and scrubs the TD's state before returning to KVM: a few VMX exits' " +
      "worth; with GUEST_VE and TDH.VP.ENTER a #VE CPUID costs ~7k cycles, between VMX's " +
      "1027 and SNP's published #VC + VMGEXIT CPUID (10397, TUM-DSE/CVM_eval)",
  ),
  TDX_ENTER_EPOCH: estimate(
    ENTER_EPOCH,
    "take the TD's epoch lock shared, read the epoch, atomically count the vCPU in, drop the " +
      "lock (adjust_tlb_tracking_state): a few locked operations on one TDCS cache line",
  ),
  "SEAMCALL(TDH.VP.ENTER)": estimate(
    VP_ENTER - ENTER_EPOCH,
    `SEAMCALL entry, restoring and checking the TD's state, VM entry: a ${VP_ENTER}-cycle ` +
      "entry, a little above TD_EXIT, less its epoch section (TDX_ENTER_EPOCH)",
  ),
  "SEAMCALL(TDH.VP.FLUSH)": estimate(4000, "flush the vCPU's cached state and VMCS from a pCPU"),
  "SEAMCALL(TDH.MEM.PAGE.AUG)": {
    cycles: ACCEPT_4K_CYCLES - ACCEPT_WITHOUT_AUG,
    kind: "derived",
    basis: `a 4 KiB private-page acceptance takes ~8 us (${DSTACK}) = ${ACCEPT_4K_CYCLES} ` +
      `cycles at ${CLOCK_GHZ} GHz, minus the flow's other steps (${ACCEPT_WITHOUT_AUG})`,
  },
  "SEAMCALL(TDH.MEM.SEPT.ADD)": estimate(
    4000,
    "initialize a secure-EPT page-table page and its PAMT entry: a little under AUG",
  ),
  "SEAMCALL(TDH.MEM.SEPT.RD)": estimate(
    1000,
    "a SEAMCALL round trip (~0.3 us) plus reading one entry",
  ),
  "SEAMCALL(TDH.MEM.RANGE.BLOCK)": estimate(2000, "mark one S-EPT entry blocked"),
  "SEAMCALL(TDH.MEM.TRACK)": estimate(1500, "advance the TD's TLB epoch"),
  "SEAMCALL(TDH.MEM.PAGE.REMOVE)": estimate(2500, "unmap a blocked page and update the PAMT"),
  "SEAMCALL(TDH.MEM.PAGE.DEMOTE)": estimate(
    6000,
    "SEPT.ADD's new S-EPT page (4000) plus writing its 512 entries (64 MOVDIR64B, " +
      "tdh_mem_page_demote.c sept_split_entry) and splitting the PAMT entry; no latency " +
      "published (Yan Zhao's TDX huge page covers: 'remains at a reasonable level')",
  ),
  "SEAMCALL(TDH.PHYMEM.PAGE.WBINVD)": estimate(
    2500,
    "write back and invalidate a 4 KiB page's cache lines for the TD's key: ~1 us",
  ),
  SEAMCALL_BUSY: estimate(700, "SEAMCALL entry and exit returning TDX_OPERAND_BUSY early"),
  TDX_ZERO_STEP: estimate(
    600,
    "td_entry_stepping_filter: take the S-EPT tree exclusive, translate each listed GPA (a " +
      "4-level S-EPT walk, ~4 x 50 cycles; KVM's refault lists one), drop the lock",
  ),
  "TDCALL(TDG.VP.VMCALL)": estimate(500, "TDCALL into the module, which prepares the TD exit"),
  "TDCALL(TDG.MEM.PAGE.ACCEPT)": estimate(ACCEPT, "the module's accept bookkeeping per call"),
  TDX_PAGE_ZERO: {
    cycles: PAGE_ZERO,
    kind: "derived",
    basis: "the module zeroes an accepted page at the host's zeroing rate (PAGE_CLEAR)",
  },
  KVM_CALL_BRANCH: estimate(CALL_BRANCH, "a predictable is_td() branch and a direct static call"),
  KVM_CALL_INDIRECT: estimate(
    30,
    "an indirect call through a retpoline thunk: ~20-40 cycles on Skylake-class cores",
  ),
  KVM_MIRROR_READ: estimate(MIRROR_READ, "one mirror S-EPT entry read, mostly a cache hit"),
  KVM_SET_ATTRIBUTES: estimate(
    3000,
    "the ioctl, range checks and invalidation setup under slots_lock (besides per-page updates)",
  ),
  XA_OP: estimate(60, "one xa_store of a page's attributes"),
  KVM_ZAP: estimate(100, "clear one shared EPT leaf"),
  KVM_MAPGPA: estimate(300, "decode and validate a MapGPA TDVMCALL"),
  VMM_MAPGPA: estimate(1000, "QEMU handles KVM_EXIT_HYPERCALL(MAP_GPA_RANGE) and converts"),
};

/** The default TDX profile. */
export const INTEL_TDX: ProfileSpec = {
  name: "intel-tdx",
  description:
    "Intel Xeon with TDX (Sapphire Rapids / Granite Rapids class): intel-vmx plus the TDX module",
  base: "intel-vmx",
  platform: "tdx",
  references: {
    td_accept_4k: {
      cycles: ACCEPT_4K_CYCLES,
      kind: "derived",
      source: `~8 us per 4 KiB private page accepted (${DSTACK}), at ${CLOCK_GHZ} GHz`,
    },
  },
  costs,
};
