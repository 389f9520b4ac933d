/**
 * A try-lock whose holds are intervals of simulated time: for locks that are held for a
 * known span and never waited on, like the TDX module's, where every acquisition is one
 * attempt that either succeeds or returns BUSY to its caller.
 *
 * A hold is committed when its holder charges it, at the holder's own local time, which
 * may run ahead of the simulator's (see `HostThread`). Two holds conflict when their
 * intervals overlap and their modes are incompatible (exclusive with anything); the one
 * committed later fails, and learns when the hold it met ends, so a caller that retries
 * can wait exactly that long. No event is needed to take or drop such a lock, which keeps
 * it off the event queue on hot paths (every TD entry takes some). A hold may also stay
 * open (until {@linkcode IntervalLock.close}) when its end is not known when it starts.
 *
 * Commit order stands in for time order: a thread whose local time is ahead commits its
 * holds early, so two overlapping holds are decided by which thread charged first. Holders
 * that need time order exactly let the simulator catch up before they try.
 *
 * @example
 * ```ts
 * const lock = new IntervalLock("sept-tree");
 * lock.tryHold(SHARED, 0, 100, 0);      // -1: granted
 * lock.tryHold(SHARED, 50, 150, 0);     // -1: readers share
 * lock.tryHold(EXCLUSIVE, 120, 200, 0); // 150: busy until the second reader's hold ends
 * ```
 *
 * @module
 */

import { type ResourceReport, ResourceStats } from "./resource_stats.ts";

/** Hold the lock shared with other shared holders. */
export const SHARED = 0;
/** Hold the lock alone. */
export const EXCLUSIVE = 1;

/** A try-lock over intervals of simulated time, with statistics. */
export class IntervalLock {
  readonly name: string;
  readonly stats: IntervalLockStats;
  /** Closed shared holds that may still matter, as a ring of [start, end) pairs. */
  #shared = new Float64Array(32);
  #sharedHead = 0;
  #sharedCount = 0;
  /**
   * With known holders: each holder's latest closed shared hold ([start, end) at 2h, 2h+1),
   * which is cheaper to keep than the ring on hot paths. A holder's holds follow one
   * another in its local time, so an earlier one still in the future of the simulator is
   * already over before its next begins, and the latest is what a later request can meet.
   */
  readonly #byHolder: Float64Array;
  /**
   * Closed exclusive holds that may still matter ([start, end) pairs, in commit order): the
   * first `#exclusiveCount` numbers (kept at size and overwritten: truncating an array and
   * pushing again reallocates it, and a TDVPR lock does that on every TD exit).
   */
  readonly #exclusive: number[] = [];
  #exclusiveCount = 0;
  #openShared = 0;
  #openExclusive = 0;
  /** Called for every exclusive hold granted (a timeline lane follows them). */
  onExclusive: ((holder: number, start: number, end: number) => void) | undefined;

  /**
   * `stats` lets several locks report as one resource (default: their own); `holders`:
   * holders numbered 0..holders-1 keep their shared holds apart (others use the ring).
   */
  constructor(name: string, kind = "interval-lock", stats?: IntervalLockStats, holders = 0) {
    this.name = name;
    this.stats = stats ?? new IntervalLockStats(name, kind);
    this.#byHolder = new Float64Array(2 * holders);
  }

  /**
   * Holds the lock in `mode` over [start, end) if no committed hold conflicts. Returns -1
   * when granted, else when the conflicting holds end (Infinity while one is open).
   * `nowCycles` is the simulator's time: holds that ended before it are forgotten.
   */
  tryHold(mode: number, start: number, end: number, nowCycles: number, holder = -1): number {
    const busyUntil = this.busyUntil(mode, start, end, nowCycles);
    if (busyUntil >= 0) {
      this.stats.busyReturns++;
      return busyUntil;
    }
    this.hold(mode, start, end, holder);
    return -1;
  }

  /**
   * When the committed holds that conflict with holding [start, end) in `mode` end: -1 if
   * none does, Infinity while one is open. Commits nothing (see {@linkcode hold}).
   */
  busyUntil(mode: number, start: number, end: number, nowCycles: number): number {
    return this.#conflict(mode, start, end, nowCycles);
  }

  /** Commits a hold of [start, end) in `mode` (after {@linkcode busyUntil} said -1). */
  hold(mode: number, start: number, end: number, holder = -1): void {
    if (mode === SHARED) this.#keepShared(start, end, holder);
    else {
      this.#keepExclusive(start, end);
      this.onExclusive?.(holder, start, end);
    }
    this.stats.held(start, end);
  }

  /** Opens a hold in `mode` from `start` (after {@linkcode busyUntil} with end Infinity). */
  open(mode: number, start: number): void {
    if (mode === SHARED) this.#openShared++;
    else this.#openExclusive++;
    this.stats.held(start, start);
  }

  /** Ends an open hold of `mode` that began at `start`, at `end`. */
  close(mode: number, start: number, end: number, holder = -1): void {
    if (mode === SHARED) {
      if (this.#openShared === 0) throw new Error(`Cannot close ${this.name}: no open shared hold`);
      this.#openShared--;
      this.#keepShared(start, end, holder);
    } else {
      if (this.#openExclusive === 0) {
        throw new Error(`Cannot close ${this.name}: no open exclusive hold`);
      }
      this.#openExclusive--;
      this.#keepExclusive(start, end);
    }
    this.stats.held(start, end);
  }

  /** Holds open now, in either mode. */
  get openHolds(): number {
    return this.#openShared + this.#openExclusive;
  }

  /** When the holds that conflict with [start, end) in `mode` end, or -1 if none does. */
  #conflict(mode: number, start: number, end: number, nowCycles: number): number {
    if (this.#openExclusive > 0 || (mode === EXCLUSIVE && this.#openShared > 0)) return Infinity;
    let until = -1;
    const exclusive = this.#exclusive;
    const count = this.#exclusiveCount;
    if (count > 0) {
      let kept = 0;
      for (let i = 0; i < count; i += 2) {
        const holdStart = exclusive[i];
        const holdEnd = exclusive[i + 1];
        if (holdEnd <= nowCycles) continue; // over: no later hold can meet it
        exclusive[kept++] = holdStart;
        exclusive[kept++] = holdEnd;
        if (holdStart < end && holdEnd > start && holdEnd > until) until = holdEnd;
      }
      this.#exclusiveCount = kept;
    }
    if (mode === EXCLUSIVE) {
      const byHolder = this.#byHolder;
      for (let at = 0; at < byHolder.length; at += 2) {
        const holdEnd = byHolder[at + 1];
        if (byHolder[at] < end && holdEnd > start && holdEnd > until) until = holdEnd;
      }
    }
    if (mode === EXCLUSIVE && this.#sharedCount > 0) {
      this.#forgetShared(nowCycles);
      const ring = this.#shared;
      const mask = (ring.length >> 1) - 1;
      for (let i = 0; i < this.#sharedCount; i++) {
        const at = ((this.#sharedHead + i) & mask) << 1;
        const holdStart = ring[at];
        const holdEnd = ring[at + 1];
        if (holdStart < end && holdEnd > start && holdEnd > until) until = holdEnd;
      }
    }
    return until;
  }

  /** Drops shared holds from the front of the ring that ended before `nowCycles`. */
  #forgetShared(nowCycles: number): void {
    const ring = this.#shared;
    const slots = ring.length >> 1;
    while (this.#sharedCount > 0 && ring[(this.#sharedHead << 1) + 1] <= nowCycles) {
      this.#sharedHead = (this.#sharedHead + 1) & (slots - 1);
      this.#sharedCount--;
    }
  }

  #keepExclusive(start: number, end: number): void {
    const at = this.#exclusiveCount;
    this.#exclusive[at] = start;
    this.#exclusive[at + 1] = end;
    this.#exclusiveCount = at + 2;
  }

  #keepShared(start: number, end: number, holder: number): void {
    const at = holder << 1;
    if (holder >= 0 && at < this.#byHolder.length) {
      this.#byHolder[at] = start;
      this.#byHolder[at + 1] = end;
    } else {
      this.#pushShared(start, end);
    }
  }

  #pushShared(start: number, end: number): void {
    let ring = this.#shared;
    let slots = ring.length >> 1;
    if (this.#sharedCount === slots) {
      // Full: forget what is surely over (before this hold began), else grow.
      this.#forgetShared(Math.min(start, end));
      if (this.#sharedCount === slots) {
        const grown = new Float64Array(ring.length * 2);
        for (let i = 0; i < this.#sharedCount; i++) {
          const at = ((this.#sharedHead + i) & (slots - 1)) << 1;
          grown[i << 1] = ring[at];
          grown[(i << 1) + 1] = ring[at + 1];
        }
        this.#shared = ring = grown;
        this.#sharedHead = 0;
        slots *= 2;
      }
    }
    const at = ((this.#sharedHead + this.#sharedCount) & (slots - 1)) << 1;
    ring[at] = start;
    ring[at + 1] = end;
    this.#sharedCount++;
  }
}

/**
 * Statistics of an {@linkcode IntervalLock}: grants, BUSY returns (reported as contended
 * acquisitions), the retry waits its users record, and the time it was held in any mode.
 */
export class IntervalLockStats extends ResourceStats {
  /** Attempts that found a conflicting hold. */
  busyReturns = 0;
  /** Cycles held in any mode (overlaps counted once, in commit order). */
  #heldCycles = 0;
  #coveredUntil = 0;

  constructor(name: string, kind: string) {
    super(name, kind, 1);
  }

  /** @internal A hold of [start, end) was granted. */
  held(start: number, end: number): void {
    this.acquisitions++;
    if (end <= this.#coveredUntil) return;
    this.#heldCycles += end - Math.max(start, this.#coveredUntil);
    this.#coveredUntil = end;
  }

  /** Records how long a caller spun before an attempt after a BUSY return succeeded. */
  retried(waitCycles: number): void {
    this.waits.record(waitCycles);
  }

  override report(nowCycles: number): ResourceReport {
    return {
      name: this.name,
      kind: this.kind,
      capacity: 1,
      acquisitions: this.acquisitions,
      contended: this.busyReturns,
      utilization: nowCycles > 0 ? Math.min(1, this.#heldCycles / nowCycles) : 0,
      meanQueueLength: 0,
      maxQueueLength: 0,
      waitCycles: this.waits.summary(),
      totalWaitCycles: this.waits.sum,
    };
  }
}
