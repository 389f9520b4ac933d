/**
 * The `memory` guest operation: a batch of accesses to a working set. First the guest
 * touches what is not ready (not mapped, or private and not accepted: each such page
 * faults, or is accepted 2 MiB at a time as Linux's unaccepted-memory code does), through
 * the platform's own flows; then the batch costs what the translation model says for the
 * mapping the set has now (src/host/translation.ts): data and STLB-hit time as guest
 * compute, page walks as TLB_WALK.
 *
 * The mapping is read from the guest's page state (which 2 MiB regions are one leaf, and
 * on SNP which RMP entries are 2 MiB) by a {@linkcode MemoryView} per working set, which
 * follows the changes the page state logs, so a conversion or a protection that splits a
 * 2 MiB leaf shows in every later batch.
 *
 * @module
 */

import { PAGE_BYTES, PAGES_PER_2M } from "../host/memory.ts";
import { P } from "../host/primitives.ts";
import type { Flow } from "../host/thread.ts";
import {
  type AccessCost,
  accessCost,
  type MappingPart,
  type PageSize,
  type TranslationParams,
} from "../host/translation.ts";
import type { MemoryTotals } from "../report/recorder.ts";
import type { MemoryBatch } from "../workloads/program.ts";
import { GuestFlag } from "./irq.ts";
import { INSN, type PlatformVm } from "./platform.ts";
import type { Vcpu } from "./vcpu.ts";
import type { Vm } from "./vm.ts";

const RMP_NONE = 0;
const RMP_4K = 1;
const RMP_2M = 2;

/**
 * The mapping of one working set, kept per 2 MiB region: pages of the set in the region,
 * how many are ready, whether one 2 MiB leaf maps it, and its RMP entry size.
 */
export class MemoryView {
  readonly first: number;
  readonly pages: number;
  /** The VTL whose mappings the set is accessed through (0 outside Hyper-V VSM). */
  readonly vtl: number;
  readonly #vm: Vm;
  readonly #platform: PlatformVm;
  readonly #firstRegion: number;
  readonly #ready: Int32Array;
  readonly #huge: Uint8Array;
  readonly #rmp: Uint8Array;
  /** Pages of the set not ready. */
  notReady = 0;
  /** Pages of the set under 2 MiB leaves; under 4 KiB leaves by RMP entry size. */
  #hugePages = 0;
  readonly #smallByRmp = new Float64Array(3);
  #seenGeneration = -1;
  #seenLogged = 0;
  /** Refreshes so far, and the refresh that last recomputed each region. */
  #refreshes = 0;
  readonly #updatedAt: Float64Array;
  /** Bumped whenever the totals change, to invalidate cached costs. */
  #version = 0;
  readonly #costs = new Map<string, { version: number; cost: AccessCost }>();

  constructor(vm: Vm, platform: PlatformVm, first: number, pages: number, vtl: number) {
    this.#vm = vm;
    this.#platform = platform;
    this.first = first;
    this.pages = pages;
    this.vtl = vtl;
    this.#firstRegion = Math.floor(first / PAGES_PER_2M);
    const regions = Math.floor((first + pages - 1) / PAGES_PER_2M) - this.#firstRegion + 1;
    this.#ready = new Int32Array(regions).fill(-1); // -1: not counted yet
    this.#huge = new Uint8Array(regions);
    this.#rmp = new Uint8Array(regions);
    this.#updatedAt = new Float64Array(regions);
  }

  /** Share of the set under 2 MiB leaves. */
  get hugeShare(): number {
    return this.#hugePages / this.pages;
  }

  /** Catches up with the page state's changes since the last look. */
  refresh(): void {
    const memory = this.#vm.memory;
    if (memory.generation === this.#seenGeneration) return;
    // A region the log names many times (vCPUs faulting in turn) is recomputed once.
    const stamp = ++this.#refreshes;
    const stamps = this.#updatedAt;
    const first = this.#firstRegion;
    const caughtUp = this.#seenGeneration >= 0 &&
      memory.changedSince(this.#seenLogged, (region) => {
        const i = region - first;
        if (i < 0 || i >= stamps.length || stamps[i] === stamp) return;
        stamps[i] = stamp;
        this.update(region);
      });
    if (!caughtUp) {
      for (let i = 0; i < this.#ready.length; i++) this.update(this.#firstRegion + i);
    }
    this.#seenGeneration = memory.generation;
    this.#seenLogged = memory.logged;
  }

  /** Recomputes `region`'s share of the totals (a region outside the set is ignored). */
  update(region: number): void {
    const i = region - this.#firstRegion;
    if (i < 0 || i >= this.#ready.length) return;
    const { lo, hi } = this.#span(i);
    const memory = this.#vm.memory;
    const platform = this.#platform;
    let ready = 0;
    if (platform.pageReady === undefined) {
      for (let page = lo; page < hi; page++) if (memory.isMapped(page)) ready++;
    } else {
      for (let page = lo; page < hi; page++) if (platform.pageReady(page, this.vtl)) ready++;
    }
    const huge = (platform.hugeRegion?.(region, this.vtl) ?? memory.isHuge(lo)) ? 1 : 0;
    const rmpSize = platform.rmpPageSize?.(lo);
    const rmp = rmpSize === undefined ? RMP_NONE : rmpSize === "2M" ? RMP_2M : RMP_4K;
    const pages = hi - lo;
    // Take the region's old contribution out, then put the new one in.
    if (this.#ready[i] !== -1) {
      this.notReady -= pages - this.#ready[i];
      this.#count(i, pages, -1);
    }
    this.#ready[i] = ready;
    this.#huge[i] = huge;
    this.#rmp[i] = rmp;
    this.notReady += pages - ready;
    this.#count(i, pages, 1);
    this.#version++;
  }

  /**
   * Touches in every page of the set that is not ready, through the platform (a fault,
   * or an ACCEPT of the page's whole 2 MiB chunk when the platform wants one first).
   */
  *prepare(vcpu: Vcpu): Flow {
    this.refresh();
    if (this.notReady === 0) return;
    const platform = this.#platform;
    const memory = this.#vm.memory;
    // Start from this vCPU's own place in the set, so vCPUs that share one spread out.
    const regions = this.#ready.length;
    const start = Math.floor((vcpu.index * regions) / this.#vm.vcpus.length) % regions;
    for (let k = 0; k < regions; k++) {
      const i = (start + k) % regions;
      const { lo, hi } = this.#span(i);
      if (this.#ready[i] === hi - lo) continue;
      const region = this.#firstRegion + i;
      if (platform.needsAccept !== undefined) {
        for (let page = lo; page < hi; page++) {
          if (!platform.needsAccept(page)) continue;
          if ((region + 1) * PAGES_PER_2M <= memory.pages) {
            yield acceptChunk(vcpu, this.#vm, region);
          }
          break;
        }
      }
      for (let page = lo; page < hi; page++) {
        const ready = platform.pageReady?.(page, this.vtl) ?? memory.isMapped(page);
        if (!ready) yield* platform.execute(vcpu, INSN.MEM_TOUCH, page);
      }
      this.refresh();
      this.update(region);
    }
  }

  /** What one access costs under the mapping the set has now. */
  cost(params: TranslationParams, batch: MemoryBatch): AccessCost {
    // The LLC is shared by the host's vCPUs that run memory workloads (a fixed count).
    this.refresh();
    const key = `${batch.pattern.kind}/${batch.guestPage}/${
      batch.pattern.kind === "hot-set"
        ? `${batch.pattern.hotFraction}/${batch.pattern.hotShare}`
        : ""
    }`;
    const cached = this.#costs.get(key);
    if (cached !== undefined && cached.version === this.#version) return cached.cost;
    const cost = accessCost({
      params,
      pattern: batch.pattern,
      guestPage: batch.guestPage,
      parts: this.parts(),
      llcSharers: this.#vm.memoryVcpus,
    });
    this.#costs.set(key, { version: this.#version, cost });
    return cost;
  }

  /** The set by host leaf size (and RMP entry size), as the translation model takes it. */
  parts(): MappingPart[] {
    const rmp = this.#platform.rmpPageSize !== undefined;
    const parts: MappingPart[] = [];
    const add = (pages: number, hostLeaf: PageSize, rmpSize: PageSize) => {
      if (pages <= 0) return;
      parts.push(
        rmp ? { bytes: pages * PAGE_BYTES, hostLeaf, rmp: rmpSize } : {
          bytes: pages * PAGE_BYTES,
          hostLeaf,
        },
      );
    };
    add(this.#hugePages, "2M", "2M");
    add(this.#smallByRmp[RMP_2M], "4K", "2M");
    add(this.#smallByRmp[RMP_4K] + this.#smallByRmp[RMP_NONE], "4K", "4K");
    return parts;
  }

  #count(i: number, pages: number, sign: number): void {
    if (this.#huge[i] === 1) this.#hugePages += sign * pages;
    else this.#smallByRmp[this.#rmp[i]] += sign * pages;
  }

  #span(i: number): { lo: number; hi: number } {
    const regionFirst = (this.#firstRegion + i) * PAGES_PER_2M;
    return {
      lo: Math.max(this.first, regionFirst),
      hi: Math.min(this.first + this.pages, regionFirst + PAGES_PER_2M),
    };
  }
}

/** vCPUs waiting for the acceptance of a 2 MiB chunk another vCPU is accepting, per VM. */
const ACCEPTING = new WeakMap<Vm, Map<number, GuestFlag[]>>();

/**
 * Accepts 2 MiB chunk `region` as Linux's accept_memory() does: a vCPU that finds another
 * accepting the same chunk (on its accepting_list) spins until that one is done instead of
 * accepting it twice.
 */
function* acceptChunk(vcpu: Vcpu, vm: Vm, region: number): Flow {
  let accepting = ACCEPTING.get(vm);
  if (accepting === undefined) ACCEPTING.set(vm, accepting = new Map());
  const waiters = accepting.get(region);
  if (waiters !== undefined) {
    const done = new GuestFlag();
    waiters.push(done);
    yield* vcpu.spinUntil(done);
    return;
  }
  accepting.set(region, []);
  yield vcpu.platform.execute(vcpu, INSN.ACCEPT_2M, region);
  for (const done of accepting.get(region)!) done.set();
  accepting.delete(region);
}

/** The views of a VM's working sets, by their first page and size. */
const VIEWS = new WeakMap<Vm, Map<string, MemoryView>>();

/** The view of the working set `batch` addresses (one per set, shared by its vCPUs). */
export function memoryView(vm: Vm, platform: PlatformVm, batch: MemoryBatch): MemoryView {
  let views = VIEWS.get(vm);
  if (views === undefined) VIEWS.set(vm, views = new Map());
  const key = `${batch.firstPage}/${batch.pages}/${batch.vtl}`;
  let view = views.get(key);
  if (view === undefined) {
    view = new MemoryView(vm, platform, batch.firstPage, batch.pages, batch.vtl);
    views.set(key, view);
  }
  return view;
}

/**
 * Performs a batch: touches in what is not ready, then runs the accesses (their data and
 * STLB-hit time as guest compute, their walks as TLB_WALK), then waits out the rest of
 * the batch's minimum time (a rate-limited workload computes meanwhile). Adds to `totals`.
 */
export function* memoryBatch(
  vcpu: Vcpu,
  vm: Vm,
  params: TranslationParams,
  batch: MemoryBatch,
  totals: MemoryTotals,
): Flow {
  const view = memoryView(vm, vcpu.platform, batch);
  const before = vcpu.cursorCycles;
  yield* view.prepare(vcpu);
  const n = batch.accesses;
  if (n === 0) { // the warm-up: only the touching in
    totals.warmupCycles += vcpu.cursorCycles - before;
    return;
  }
  const start = vcpu.cursorCycles;
  const cost = view.cost(params, batch);
  const accessCycles = Math.round((cost.dataCycles + cost.stlbHitCycles) * n);
  const walkCycles = Math.round(cost.walkCycles * n);
  if (batch.vtl === 0) {
    yield* vcpu.runGuest(accessCycles);
    if (walkCycles > 0) yield* vcpu.runGuest(walkCycles, P.TLB_WALK);
  } else {
    yield* vcpu.platform.runInVtl!(vcpu, batch.vtl, accessCycles, walkCycles);
  }
  const rest = batch.minCycles - (vcpu.cursorCycles - start);
  if (rest > 0) yield* vcpu.runGuest(rest);
  totals.accesses += n;
  totals.batchCycles += vcpu.cursorCycles - start;
  totals.accessCycles += accessCycles + walkCycles;
  totals.walkCycles += walkCycles;
  totals.l1Misses += cost.l1Misses * n;
  totals.stlbMisses += cost.stlbMisses * n;
  totals.hugeAccesses += view.hugeShare * n;
}
