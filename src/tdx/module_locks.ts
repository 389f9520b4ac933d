/**
 * Which locks each SEAMCALL and TDCALL leaf takes in the TDX module, as data: a row per
 * leaf × operand with its mode, how long it is held and the source it was read from. The
 * module never waits for a lock: every acquisition is one attempt, and a conflict makes
 * the leaf return TDX_OPERAND_BUSY naming the operand; what happens then is KVM's choice
 * (src/tdx/platform.ts). src/tdx/module.ts turns these rows into lock resources per TD,
 * per vCPU and per page.
 *
 * Sources: the TDX module's own code, `intel/tdx-module` at commit 1666adc494db (module
 * 2.0.08; the rows checked against 1.5.01, 1.5.05 and 1.5.06 are the same), and the 1.0
 * pre-production code in `qizhangz/tdx-module` at d5fc67aad878. Linux KVM's view of the
 * same locks is in Yan Zhao's table (kvm list, 2024-11-26,
 * Z0VpsYpcz4uqdA7o@yzhao56-desk.sh.intel.com), which agrees with the 1.5 rows it covers.
 *
 * @module
 */

/** Versions of the module whose locking differs (2.0 locks as 1.5 does). */
export const MODULE_VERSIONS = ["1.5", "1.0"] as const;
/** One of {@linkcode MODULE_VERSIONS}. */
export type ModuleVersion = typeof MODULE_VERSIONS[number];

/**
 * What a leaf locks. Per TD: `TDR` (its root page's PAMT entry), `OP_STATE` (TDCS
 * op_state_lock), `SEPT_TREE` (TDCS secure_ept_lock), `TD_EPOCH` (TDCS epoch_lock, TLB
 * tracking); per vCPU: `TDVPR`; per page: `SEPT_ENTRY` (the S-EPT entry's own lock bit)
 * and `PAMT_ENTRY` (the physical page's PAMT entry).
 */
export const OPERANDS = [
  "TDR",
  "OP_STATE",
  "SEPT_TREE",
  "TD_EPOCH",
  "TDVPR",
  "SEPT_ENTRY",
  "PAMT_ENTRY",
] as const;
/** One of {@linkcode OPERANDS}. */
export type Operand = typeof OPERANDS[number];

/**
 * How long a row's lock is held: the whole `call`; only its `epoch` sub-step (TD entry
 * samples the TLB epoch under the lock, TDX_ENTER_EPOCH); only while the zero-step filter
 * runs on an entry (`stepping`, TDX_ZERO_STEP, and only when the vCPU is suspected of
 * stepping); or while the `guest` runs (from TD entry to TD exit).
 */
export type HoldSpan = "call" | "epoch" | "stepping" | "guest";

/** One lock a leaf takes. */
export interface LockRow {
  operand: Operand;
  mode: "shared" | "exclusive";
  span: HoldSpan;
  /**
   * For `SEPT_ENTRY`: the entry of the target page (default) or of the parent level the
   * new table hangs from; for `PAMT_ENTRY`: the page added or removed (default) or the new
   * S-EPT table page.
   */
  entry?: "target" | "parent" | "table";
  /** The TD's side of a host-priority lock: it fails while a host attempt is pending. */
  guest?: true;
  /** Where the row comes from (file and function), or "estimate: ..." with the reasoning. */
  source: string;
}

/** The leaves the flows call. */
export const LEAVES = [
  "TDH.VP.ENTER",
  "TDH.VP.FLUSH",
  "TDH.MEM.PAGE.AUG",
  "TDH.MEM.SEPT.ADD",
  "TDH.MEM.SEPT.RD",
  "TDH.MEM.RANGE.BLOCK",
  "TDH.MEM.TRACK",
  "TDH.MEM.PAGE.REMOVE",
  "TDH.MEM.PAGE.DEMOTE",
  "TDH.PHYMEM.PAGE.WBINVD",
  "TDG.MEM.PAGE.ACCEPT",
  "TDG.VP.VMCALL",
] as const;
/** One of {@linkcode LEAVES}. */
export type Leaf = typeof LEAVES[number];

const V15 = "intel/tdx-module@1666adc src/";
const V10 = "qizhangz/tdx-module@d5fc67a (1.0) src/";
const API = "vmm_dispatcher/api_calls/";

function row(
  operand: Operand,
  mode: "shared" | "exclusive",
  span: HoldSpan,
  source: string,
  extra: Partial<LockRow> = {},
): LockRow {
  return { operand, mode, span, source, ...extra };
}

const sh = (operand: Operand, source: string, extra: Partial<LockRow> = {}) =>
  row(operand, "shared", "call", source, extra);
const ex = (operand: Operand, source: string, extra: Partial<LockRow> = {}) =>
  row(operand, "exclusive", "call", source, extra);

/** Module 1.5 (and 2.0): the S-EPT tree shared for changes, a lock bit per entry. */
const LOCKS_15: Record<Leaf, readonly LockRow[]> = {
  "TDH.VP.ENTER": [
    row("TDVPR", "shared", "guest", `${V15}td_transitions/tdh_vp_enter.c tdh_vp_enter`),
    row("TDR", "shared", "guest", `${V15}td_transitions/tdh_vp_enter.c lock_and_map_implicit_tdr`),
    sh("OP_STATE", `${V15}td_transitions/tdh_vp_enter.c check_state_map_tdcs_and_lock`),
    row("TD_EPOCH", "shared", "epoch", `${V15}common/helpers/helpers.c adjust_tlb_tracking_state`),
    row(
      "SEPT_TREE",
      "exclusive",
      "stepping",
      `${V15}td_transitions/td_exit_stepping.c td_entry_stepping_filter`,
    ),
  ],
  "TDH.VP.FLUSH": [
    ex("TDVPR", `${V15}${API}tdh_vp_flush.c check_and_lock_explicit_4k_private_hpa`),
    sh("TDR", `${V15}${API}tdh_vp_flush.c lock_and_map_implicit_tdr`),
  ],
  "TDH.MEM.PAGE.AUG": [
    sh("TDR", `${V15}${API}tdh_mem_page_aug.c check_lock_and_map_explicit_tdr`),
    sh("OP_STATE", `${V15}${API}tdh_mem_page_aug.c check_state_map_tdcs_and_lock`),
    sh("SEPT_TREE", `${V15}${API}tdh_mem_page_aug.c lock_sept_check_and_walk_private_gpa`),
    ex("SEPT_ENTRY", `${V15}${API}tdh_mem_page_aug.c sept_lock_acquire_host`),
    ex("PAMT_ENTRY", `${V15}${API}tdh_mem_page_aug.c check_and_lock_free_range_hpa`),
  ],
  "TDH.MEM.SEPT.ADD": [
    sh("TDR", `${V15}${API}tdh_mem_sept_add.c check_lock_and_map_explicit_tdr`),
    sh("OP_STATE", `${V15}${API}tdh_mem_sept_add.c check_state_map_tdcs_and_lock`),
    sh("SEPT_TREE", `${V15}${API}tdh_mem_sept_add.c lock_sept_check_and_walk_private_gpa`),
    ex("SEPT_ENTRY", `${V15}${API}tdh_mem_sept_add.c sept_lock_acquire_host`, { entry: "parent" }),
    ex("PAMT_ENTRY", `${V15}${API}tdh_mem_sept_add.c process_l1_page`, { entry: "table" }),
  ],
  "TDH.MEM.SEPT.RD": [
    sh("TDR", `${V15}${API}tdh_mem_sept_rd.c check_lock_and_map_explicit_tdr`),
    sh("OP_STATE", `${V15}${API}tdh_mem_sept_rd.c check_state_map_tdcs_and_lock`),
    sh("SEPT_TREE", `${V15}${API}tdh_mem_sept_rd.c lock_sept_check_and_walk_private_gpa`),
    ex("SEPT_ENTRY", `${V15}${API}tdh_mem_sept_rd.c sept_lock_acquire_host`),
  ],
  "TDH.MEM.RANGE.BLOCK": [
    sh("TDR", `${V15}${API}tdh_mem_range_block.c check_lock_and_map_explicit_tdr`),
    sh("OP_STATE", `${V15}${API}tdh_mem_range_block.c check_state_map_tdcs_and_lock`),
    ex("SEPT_TREE", `${V15}${API}tdh_mem_range_block.c lock_sept_check_and_walk_private_gpa`),
    ex("SEPT_ENTRY", `${V15}${API}tdh_mem_range_block.c sept_lock_acquire_host`),
  ],
  "TDH.MEM.TRACK": [
    sh("TDR", `${V15}${API}tdh_mem_track.c check_lock_and_map_explicit_tdr`),
    sh("OP_STATE", `${V15}${API}tdh_mem_track.c check_state_map_tdcs_and_lock`),
    ex("TD_EPOCH", `${V15}${API}tdh_mem_track.c acquire_sharex_lock_ex(epoch_lock)`),
  ],
  "TDH.MEM.PAGE.REMOVE": [
    sh("TDR", `${V15}${API}tdh_mem_page_remove.c check_lock_and_map_explicit_tdr`),
    sh("OP_STATE", `${V15}${API}tdh_mem_page_remove.c check_state_map_tdcs_and_lock`),
    sh("SEPT_TREE", `${V15}${API}tdh_mem_page_remove.c lock_sept_check_and_walk_private_gpa`),
    ex("SEPT_ENTRY", `${V15}${API}tdh_mem_page_remove.c sept_lock_acquire_host`),
    ex(
      "PAMT_ENTRY",
      `${V15}${API}tdh_mem_page_remove.c pamt_implicit_get_with_nl_entry_and_lock`,
    ),
  ],
  "TDH.MEM.PAGE.DEMOTE": [
    sh("TDR", `${V15}${API}tdh_mem_page_demote.c check_lock_and_map_explicit_tdr`),
    sh("OP_STATE", `${V15}${API}tdh_mem_page_demote.c check_state_map_tdcs_and_lock`),
    sh("SEPT_TREE", `${V15}${API}tdh_mem_page_demote.c lock_sept_check_and_walk_private_gpa`),
    ex("SEPT_ENTRY", `${V15}${API}tdh_mem_page_demote.c sept_lock_acquire_host`),
    ex("PAMT_ENTRY", `${V15}${API}tdh_mem_page_demote.c check_and_lock_explicit_4k_private_hpa`, {
      entry: "table",
    }),
  ],
  "TDH.PHYMEM.PAGE.WBINVD": [
    sh("PAMT_ENTRY", `${V15}${API}tdh_phymem_page_wbinvd.c check_and_lock_explicit_private_hpa`),
  ],
  "TDG.MEM.PAGE.ACCEPT": [
    ex("SEPT_ENTRY", `${V15}td_dispatcher/vm_exits/tdg_mem_page_accept.c sept_lock_acquire_guest`, {
      guest: true,
    }),
  ],
  // A TDVMCALL's TD exit takes nothing; it drops what TDH.VP.ENTER held for the guest.
  "TDG.VP.VMCALL": [],
};

/**
 * Module 1.0 (the 2020 RFC's module): every change to the S-EPT takes the tree exclusive,
 * which is why the RFC serialized them under a KVM spinlock; no op_state or entry locks.
 */
const LOCKS_10: Record<Leaf, readonly LockRow[]> = {
  "TDH.VP.ENTER": [
    row("TDVPR", "shared", "guest", `${V10}td_transitions/tdh_vp_enter.c tdh_vp_enter`),
    row("TDR", "shared", "guest", `${V10}td_transitions/tdh_vp_enter.c tdh_vp_enter`),
    row("TD_EPOCH", "shared", "epoch", `${V10}common/helpers/helpers.c (TLB tracking on entry)`),
    row(
      "SEPT_TREE",
      "exclusive",
      "stepping",
      `${V10}td_transitions/td_exit_stepping.c td_entry_stepping_filter`,
    ),
  ],
  "TDH.VP.FLUSH": [
    ex("TDVPR", "estimate: as in 1.5 (tdh_vp_flush.c takes the TDVPR exclusive)"),
    sh("TDR", "estimate: as in 1.5"),
  ],
  "TDH.MEM.PAGE.AUG": [
    sh("TDR", "estimate: as in 1.5 (check_lock_and_map_explicit_tdr)"),
    ex("SEPT_TREE", `${V10}${API}tdh_mem_page_aug.c lock_sept_check_and_walk_private_gpa`),
    ex("PAMT_ENTRY", "estimate: as in 1.5 (the new page's PAMT entry)"),
  ],
  "TDH.MEM.SEPT.ADD": [
    sh("TDR", "estimate: as in 1.5"),
    ex("SEPT_TREE", `${V10}${API}tdh_mem_sept_add.c lock_sept_check_and_walk_private_gpa`),
    ex("PAMT_ENTRY", "estimate: as in 1.5 (the new table page's PAMT entry)", { entry: "table" }),
  ],
  "TDH.MEM.SEPT.RD": [
    sh("TDR", "estimate: as in 1.5"),
    sh("SEPT_TREE", `${V10}${API}tdh_mem_sept_rd_wr.c (shared walk)`),
  ],
  "TDH.MEM.RANGE.BLOCK": [
    sh("TDR", "estimate: as in 1.5"),
    ex("SEPT_TREE", `${V10}${API}tdh_mem_range_block.c lock_sept_check_and_walk_private_gpa`),
    ex("SEPT_ENTRY", `${V10}${API}tdh_mem_range_block.c (cmpxchg on the entry)`),
  ],
  "TDH.MEM.TRACK": [
    sh("TDR", "estimate: as in 1.5"),
    ex("TD_EPOCH", "estimate: as in 1.5 (tdh_mem_track.c takes the epoch lock exclusive)"),
  ],
  "TDH.MEM.PAGE.REMOVE": [
    sh("TDR", "estimate: as in 1.5"),
    ex("SEPT_TREE", `${V10}${API}tdh_mem_page_remove.c lock_sept_check_and_walk_private_gpa`),
    ex("PAMT_ENTRY", "estimate: as in 1.5 (the removed page's PAMT entry)"),
  ],
  "TDH.MEM.PAGE.DEMOTE": [
    sh("TDR", `${V10}${API}tdh_mem_page_demote.c check_lock_and_map_explicit_tdr`),
    ex("SEPT_TREE", `${V10}${API}tdh_mem_page_demote.c lock_sept_check_and_walk_private_gpa`),
    ex("PAMT_ENTRY", `${V10}${API}tdh_mem_page_demote.c check_and_lock_explicit_4k_private_hpa`, {
      entry: "table",
    }),
  ],
  "TDH.PHYMEM.PAGE.WBINVD": [
    sh("PAMT_ENTRY", "estimate: as in 1.5 (the page's PAMT entry, shared)"),
  ],
  "TDG.MEM.PAGE.ACCEPT": [
    ex("SEPT_ENTRY", `${V10}td_dispatcher/vm_exits/tdg_mem_page_accept.c (TDGL bit cmpxchg)`, {
      guest: true,
    }),
  ],
  "TDG.VP.VMCALL": [],
};

/** The lock table of each module version. */
export const MODULE_LOCKS: Record<ModuleVersion, Record<Leaf, readonly LockRow[]>> = {
  "1.5": LOCKS_15,
  "1.0": LOCKS_10,
};

/**
 * Operands whose locks have host priority in 1.5: a host attempt that fails sets a flag
 * that makes every TD-side attempt fail (TDX_OPERAND_BUSY_HOST_PRIORITY) until a host
 * attempt succeeds, so a TD cannot starve KVM (common/helpers/tdx_locks.h in 1.5; 1.0 has
 * none).
 */
export const HOST_PRIORITY: Record<ModuleVersion, readonly Operand[]> = {
  "1.5": ["TDR", "OP_STATE", "TDVPR", "SEPT_ENTRY", "PAMT_ENTRY"],
  "1.0": [],
};
