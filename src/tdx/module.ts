/**
 * The TDX module's locks for one TD, built from the lock table (module_locks.ts): a lock
 * per TD-wide operand, one per vCPU (its TDVPR), and a lock per S-EPT entry and per PAMT
 * entry, kept only while held. {@linkcode TdxModule.tryCall} runs a leaf's attempt: it
 * takes every row's lock for the row's span, or none, and on a conflict says which operand
 * was busy and until when (TDX_OPERAND_BUSY with the operand's id, as the module returns
 * it). The locks are interval try-locks (engine/interval_lock.ts): taking one needs no
 * event, which matters because every TD entry takes four.
 *
 * @module
 */

import { EXCLUSIVE, IntervalLock, IntervalLockStats, SHARED } from "../engine/mod.ts";
import {
  HOST_PRIORITY,
  type Leaf,
  LEAVES,
  type LockRow,
  MODULE_LOCKS,
  type ModuleVersion,
  type Operand,
  OPERANDS,
} from "./module_locks.ts";

/** Leaf ids (indices into LEAVES), for hot paths. */
export const LEAF: { readonly [K in Leaf]: number } = Object.fromEntries(
  LEAVES.map((leaf, i) => [leaf, i]),
) as { [K in Leaf]: number };

const SPAN_CALL = 0;
const SPAN_EPOCH = 1;
const SPAN_STEPPING = 2;
const SPAN_GUEST = 3;
const SPANS = { call: SPAN_CALL, epoch: SPAN_EPOCH, stepping: SPAN_STEPPING, guest: SPAN_GUEST };

const SCOPE_TD = 0;
const SCOPE_VCPU = 1;
const SCOPE_ENTRY = 2;

/** A row ready to run: which lock, how, for how long. */
interface CompiledRow {
  operand: number;
  scope: number;
  mode: number;
  span: number;
  /** 2 when the row locks a new table page's PAMT entry, else 0 (the entry at the level). */
  entry: number;
  guest: boolean;
}

/** Sub-steps of an attempt that some rows hold their lock for (TD entry only). */
export interface CallSpans {
  /** End of the TLB-epoch sub-step (TDX_ENTER_EPOCH), from the start. */
  epochCycles: number;
  /** Length of the zero-step filter's sub-step right after it, when the vCPU is stepping. */
  steppingCycles: number;
}

const NO_SUBSTEPS: CallSpans = { epochCycles: 0, steppingCycles: 0 };

/** Pages per S-EPT entry at each level (4 KiB, 2 MiB, 1 GiB, 512 GiB). */
const PAGES_PER_ENTRY = [1, 512, 512 * 512, 512 * 512 * 512];
/** Entries an EntryLocks keeps before it first drops those whose holds have ended. */
const FORGET_AT_ENTRIES = 4096;
/** Keys of different levels and kinds never collide: a level spans 2^33 keys. */
const LEVEL_KEYS = 2 ** 33;
const TABLE_KEYS = 2 ** 40;

/**
 * Exclusive interval locks keyed by entry, kept only while they matter: S-EPT entries and
 * PAMT entries, of which a TD has millions but holds a handful at a time. Shared requests
 * (the PAMT entry TDH.PHYMEM.PAGE.WBINVD reads) meet exclusive holds and are not recorded:
 * in KVM's flows nothing takes such an entry exclusive while it is read.
 */
class EntryLocks {
  readonly stats: IntervalLockStats;
  readonly #hostPriority: boolean;
  /** key → [start, end, host priority pending (0/1)] of its latest exclusive hold. */
  readonly #held = new Map<number, [number, number, number]>();
  /** Entries kept before the ended ones are dropped (grows while most still matter). */
  #forgetAt = FORGET_AT_ENTRIES;

  constructor(name: string, hostPriority: boolean) {
    this.stats = new IntervalLockStats(name, "tdx-module-entries");
    this.#hostPriority = hostPriority;
  }

  busyUntil(key: number, start: number, end: number, guest: boolean): number {
    const held = this.#held.get(key);
    if (held === undefined) return -1;
    // A TD-side attempt fails while a host attempt waits (host priority), free or not.
    if (guest && held[2] === 1) return Math.max(held[1], start + 1);
    return held[0] < end && held[1] > start ? held[1] : -1;
  }

  /** A host attempt failed on `key`: the TD's attempts fail until one succeeds. */
  hostFailed(key: number): void {
    if (!this.#hostPriority) return;
    const held = this.#held.get(key);
    if (held !== undefined) held[2] = 1;
  }

  hold(key: number, start: number, end: number, nowCycles: number): void {
    const held = this.#held.get(key);
    if (held === undefined) {
      if (this.#held.size >= this.#forgetAt) this.#forget(nowCycles);
      this.#held.set(key, [start, end, 0]);
    } else {
      held[0] = start;
      held[1] = end;
      held[2] = 0; // whoever got it, a host's pending attempt got its turn or retries anew
    }
    this.stats.held(start, end);
  }

  #forget(nowCycles: number): void {
    for (const [key, held] of this.#held) {
      if (held[1] <= nowCycles && held[2] === 0) this.#held.delete(key);
    }
    // When most entries still matter (their holders run ahead of the simulator), wait for
    // twice as many before looking again, so the scans stay linear in the holds made.
    this.#forgetAt = Math.max(FORGET_AT_ENTRIES, 2 * this.#held.size);
  }
}

/** The module's locks for one TD and the attempts that take them. */
export class TdxModule {
  readonly version: ModuleVersion;
  /** TD-wide locks by operand (TDR, OP_STATE, SEPT_TREE, TD_EPOCH). */
  readonly tdLocks: Record<"TDR" | "OP_STATE" | "SEPT_TREE" | "TD_EPOCH", IntervalLock>;
  /** Each vCPU's TDVPR. */
  readonly tdvpr: IntervalLock[];
  readonly septEntries: EntryLocks;
  readonly pamtEntries: EntryLocks;
  /** The operand the last failed attempt found busy. */
  busyOperand: Operand = "TDR";
  /** When the holds it met end (Infinity: held while a vCPU runs). */
  busyUntil = 0;
  readonly #rows: CompiledRow[][];
  readonly #byOperand: (IntervalLock | undefined)[];
  /** Per vCPU: when its guest-span holds began (-1: not in the guest). */
  readonly #guestSince: Float64Array;
  /** Rows that hold for the guest's run (closed at TD exit). */
  readonly #guestRows: CompiledRow[];
  readonly #stats: IntervalLockStats[];

  constructor(name: string, vcpus: number, version: ModuleVersion) {
    this.version = version;
    const hp = HOST_PRIORITY[version];
    const lock = (operand: Operand) =>
      new IntervalLock(`${name}/tdx/${operand}`, "tdx-module", undefined, vcpus);
    this.tdLocks = {
      TDR: lock("TDR"),
      OP_STATE: lock("OP_STATE"),
      SEPT_TREE: lock("SEPT_TREE"),
      TD_EPOCH: lock("TD_EPOCH"),
    };
    // Every vCPU's TDVPR reports as one resource.
    const tdvprStats = new IntervalLockStats(`${name}/tdx/TDVPR`, "tdx-module");
    this.tdvpr = Array.from(
      { length: vcpus },
      (_, i) => new IntervalLock(`${name}/vcpu${i}/tdx/TDVPR`, "tdx-module", tdvprStats, 1),
    );
    this.septEntries = new EntryLocks(`${name}/tdx/SEPT_ENTRY`, hp.includes("SEPT_ENTRY"));
    this.pamtEntries = new EntryLocks(`${name}/tdx/PAMT_ENTRY`, hp.includes("PAMT_ENTRY"));
    this.#byOperand = OPERANDS.map((operand) =>
      operand in this.tdLocks ? this.tdLocks[operand as keyof TdxModule["tdLocks"]] : undefined
    );
    this.#rows = LEAVES.map((leaf) => MODULE_LOCKS[version][leaf].map(compile));
    this.#guestRows = this.#rows[LEAF["TDH.VP.ENTER"]].filter((r) => r.span === SPAN_GUEST);
    this.#guestSince = new Float64Array(vcpus).fill(-1);
    this.#stats = [
      ...Object.values(this.tdLocks).map((l) => l.stats),
      tdvprStats,
      this.septEntries.stats,
      this.pamtEntries.stats,
    ];
  }

  /** Statistics of every lock, one resource per operand. */
  resources(): IntervalLockStats[] {
    return this.#stats;
  }

  /** The rows of `leaf` in this module version. */
  rows(leaf: Leaf): readonly LockRow[] {
    return MODULE_LOCKS[this.version][leaf];
  }

  /**
   * One attempt of leaf `leaf` by vCPU `vcpu` on guest page `page` (an S-EPT entry at
   * `level`) over [start, end) of the caller's local time. Takes every row's lock and
   * returns true, or takes none, records the BUSY on the operand that was held, sets
   * {@linkcode busyOperand} and {@linkcode busyUntil}, and returns false. `stepping`: the
   * zero-step filter runs on this entry (its rows apply).
   */
  tryCall(
    leaf: number,
    vcpu: number,
    page: number,
    level: number,
    start: number,
    end: number,
    nowCycles: number,
    spans: CallSpans = NO_SUBSTEPS,
    stepping = false,
  ): boolean {
    const rows = this.#rows[leaf];
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      if (r.span === SPAN_STEPPING && !stepping) continue;
      const from = r.span === SPAN_STEPPING ? start + spans.epochCycles : start;
      const to = r.span === SPAN_CALL
        ? end
        : r.span === SPAN_EPOCH
        ? start + spans.epochCycles
        : r.span === SPAN_STEPPING
        ? from + spans.steppingCycles
        : Infinity;
      let until: number;
      if (r.scope === SCOPE_ENTRY) {
        const locks = r.operand === PAMT ? this.pamtEntries : this.septEntries;
        const key = entryKey(r, page, level);
        until = locks.busyUntil(key, from, to, r.guest);
        if (until >= 0) {
          if (!r.guest) locks.hostFailed(key);
          locks.stats.busyReturns++;
          return this.#busy(r.operand, until);
        }
      } else {
        const lock = r.scope === SCOPE_VCPU ? this.tdvpr[vcpu] : this.#byOperand[r.operand]!;
        until = lock.busyUntil(r.mode, from, to, nowCycles);
        if (until >= 0) {
          lock.stats.busyReturns++;
          return this.#busy(r.operand, until);
        }
      }
    }
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      if (r.span === SPAN_STEPPING && !stepping) continue;
      if (r.span === SPAN_GUEST) {
        (r.scope === SCOPE_VCPU ? this.tdvpr[vcpu] : this.#byOperand[r.operand]!).open(
          r.mode,
          start,
        );
        continue;
      }
      const from = r.span === SPAN_STEPPING ? start + spans.epochCycles : start;
      const to = r.span === SPAN_CALL
        ? end
        : r.span === SPAN_EPOCH
        ? start + spans.epochCycles
        : from + spans.steppingCycles;
      if (r.scope === SCOPE_ENTRY) {
        const locks = r.operand === PAMT ? this.pamtEntries : this.septEntries;
        if (r.mode === EXCLUSIVE) locks.hold(entryKey(r, page, level), from, to, nowCycles);
      } else {
        const lock = r.scope === SCOPE_VCPU ? this.tdvpr[vcpu] : this.#byOperand[r.operand]!;
        lock.hold(r.mode, from, to, r.scope === SCOPE_VCPU ? 0 : vcpu);
      }
    }
    if (leaf === ENTER) this.#guestSince[vcpu] = start;
    return true;
  }

  /** The TD exit of vCPU `vcpu` at `atCycles`: what TD entry held for the guest is dropped. */
  exitGuest(vcpu: number, atCycles: number): void {
    const since = this.#guestSince[vcpu];
    if (since < 0) return;
    this.#guestSince[vcpu] = -1;
    for (const r of this.#guestRows) {
      (r.scope === SCOPE_VCPU ? this.tdvpr[vcpu] : this.#byOperand[r.operand]!).close(
        r.mode,
        since,
        atCycles,
        r.scope === SCOPE_VCPU ? 0 : vcpu,
      );
    }
  }

  #busy(operand: number, until: number): false {
    this.busyOperand = OPERANDS[operand];
    this.busyUntil = until;
    return false;
  }
}

const ENTER = LEAF["TDH.VP.ENTER"];
const PAMT = OPERANDS.indexOf("PAMT_ENTRY");

function compile(row: LockRow): CompiledRow {
  const operand = OPERANDS.indexOf(row.operand);
  return {
    operand,
    scope: row.operand === "TDVPR"
      ? SCOPE_VCPU
      : row.operand === "SEPT_ENTRY" || row.operand === "PAMT_ENTRY"
      ? SCOPE_ENTRY
      : SCOPE_TD,
    mode: row.mode === "shared" ? SHARED : EXCLUSIVE,
    span: SPANS[row.span],
    entry: row.entry === "table" ? 2 : 0,
    guest: row.guest === true,
  };
}

/**
 * The key of the entry a row locks for `page`: the S-EPT entry at `level` that maps it (0:
 * a 4 KiB leaf, 1: a 2 MiB leaf or the entry a new page table hangs from, ...), or for a
 * new table page, that table page's PAMT entry.
 */
function entryKey(row: CompiledRow, page: number, level: number): number {
  const key = level * LEVEL_KEYS + Math.floor(page / PAGES_PER_ENTRY[level]);
  return row.entry === 2 ? TABLE_KEYS + key : key;
}
