/**
 * Intel TDX guests (TDs) on KVM: flows C.1-C.7 of flows.md, step by step.
 *
 * - C.1 Entry and exit go through the TDX module (`SEAMCALL(TDH.VP.ENTER)`, `TD_EXIT`); a
 *   vCPU that moved to another pCPU is first flushed from the old one (an IPI running
 *   `TDH.VP.FLUSH`).
 * - C.2 A TDVMCALL (`TDCALL(TDG.VP.VMCALL)`) exits to KVM, which handles CPUID, HLT, port
 *   I/O, MSRs, MMIO and hypercalls, or forwards (MapGPA) to userspace.
 * - C.3 Instructions the TD cannot run natively (CPUID of a hypervisor leaf, IN/OUT, MMIO,
 *   most MSRs) raise a #VE in the guest, whose handler makes the TDVMCALL. The first MMIO
 *   access of a TD exits once so KVM can install the MMIO mapping.
 * - C.4 Accepting private memory: the guest's ACCEPT finds no secure-EPT leaf, the TD
 *   exits, KVM walks its mirror of the S-EPT (or reads it through SEAMCALLs), adds missing
 *   levels (`TDH.MEM.SEPT.ADD`), clears a page and adds it (`TDH.MEM.PAGE.AUG`), and the
 *   module zeroes the page as the ACCEPT completes.
 * - Module locks: every SEAMCALL, TD entry and ACCEPT takes the locks the module's table
 *   lists (module_locks.ts, per TD, vCPU and S-EPT/PAMT entry; module 1.5 or 1.0). A
 *   conflict returns TDX_OPERAND_BUSY naming the operand, and KVM reacts as the design
 *   says: a fault's AUG/SEPT.ADD is retried in the kernel, or the TD re-entered to refault
 *   (S11; repeated entries without progress make the module's zero-step filter take the
 *   S-EPT tree exclusive on each entry); a busy BLOCK/TRACK/REMOVE holds every vCPU out of
 *   the TD, kicks them out and retries (tdh_do_no_vcpus), or spins; a busy entry goes
 *   around KVM's run loop and enters again.
 * - C.5 Reads of the S-EPT come from KVM's mirror copy, or through `TDH.MEM.SEPT.RD`.
 * - C.6 MapGPA converts 2 MiB at a time (through userspace, or in KVM):
 *   KVM_SET_MEMORY_ATTRIBUTES under slots_lock, then, for private to shared, each private
 *   leaf is blocked, the TLB epoch advanced (`TDH.MEM.TRACK`) with an IPI round to every
 *   running vCPU, removed, written back (`TDH.PHYMEM.PAGE.WBINVD`) and cleared.
 * - C.7 KVM reaches the TDX code through is_td() branches and static calls, or through a
 *   per-VM ops table (an indirect call, with a retpoline, per callback).
 *
 * @module
 */

import { EXIT } from "../host/exit_reasons.ts";
import {
  PAGE_ACCEPTED,
  PAGE_MAPPED,
  PAGE_PRIVATE,
  PAGES_PER_2M,
  REGION_HUGE,
} from "../host/memory.ts";
import { P, type PrimitiveName } from "../host/primitives.ts";
import { type Flow, returnOf } from "../host/thread.ts";
import { kickAndWait } from "../kvm/kick.ts";
import {
  type ChoiceSpec,
  type DesignSpec,
  EXIT_KIND,
  EXIT_KIND_COUNT,
  INSN,
  type PlatformSpec,
  type PlatformVm,
} from "../kvm/platform.ts";
import { armTscDeadline, emulateIpi, notifiedAhead, notifyVirtio } from "../kvm/handlers.ts";
import { userspaceExit } from "../kvm/userspace.ts";
import type { Vcpu } from "../kvm/vcpu.ts";
import type { Vm } from "../kvm/vm.ts";
import { X86_COMMON_OPERATIONS, X86_COMMON_PRIMITIVES, X86_IO_CHOICES } from "../kvm/x86.ts";
import { Latch, type ResourceStats } from "../engine/mod.ts";
import type { Timeline } from "../report/timeline.ts";
import { LEAF, type TdxModule } from "./module.ts";
import { LEAVES, type ModuleVersion } from "./module_locks.ts";
import { TdState } from "./td.ts";

/**
 * Vendor callbacks KVM makes per exit round trip (prepare_switch_to_guest, run,
 * handle_exit_irqoff, handle_exit, sync_pir_to_irr, ...). Estimate from the shape of
 * vcpu_enter_guest(); it scales the C.7 dispatch cost.
 */
export const CALLS_PER_EXIT = 6;

/** Levels KVM walks to find a leaf (4 for a 4 KiB leaf, 3 for a 2 MiB one). */
const WALK_4K = 4;
const WALK_2M = 3;

const TD_REASONS = (() => {
  const table = new Int32Array(EXIT_KIND_COUNT).fill(EXIT.TDVMCALL);
  table[EXIT_KIND.TDP_FAULT] = EXIT.EPT_VIOLATION;
  table[EXIT_KIND.EXTERNAL] = EXIT.EXTERNAL_INTERRUPT;
  table[EXIT_KIND.TIMER] = EXIT.EXTERNAL_INTERRUPT; // no preemption timer for TDs: an hrtimer IRQ
  return table;
})();

/** KVM's reaction when a SEAMCALL of a fault or a removal returns TDX_OPERAND_BUSY. */
const RETRY = 0; // retry in KVM until it gets through
const RETURN = 1; // give up: the caller re-enters the TD to refault
const NO_VCPUS = 2; // hold every vCPU out of the TD, kick them all out, retry (tdh_do_no_vcpus)

const ENTER = LEAF["TDH.VP.ENTER"];
const FLUSH = LEAF["TDH.VP.FLUSH"];
const AUG = LEAF["TDH.MEM.PAGE.AUG"];
const SEPT_ADD = LEAF["TDH.MEM.SEPT.ADD"];
const SEPT_RD = LEAF["TDH.MEM.SEPT.RD"];
const BLOCK = LEAF["TDH.MEM.RANGE.BLOCK"];
const TRACK = LEAF["TDH.MEM.TRACK"];
const REMOVE = LEAF["TDH.MEM.PAGE.REMOVE"];
const DEMOTE = LEAF["TDH.MEM.PAGE.DEMOTE"];
const WBINVD = LEAF["TDH.PHYMEM.PAGE.WBINVD"];
const ACCEPT = LEAF["TDG.MEM.PAGE.ACCEPT"];

/** A TD's flows. */
class TdxVm implements PlatformVm {
  readonly #vm: Vm;
  readonly #td: TdState;
  readonly #module: TdxModule | undefined;
  readonly #costs: Float64Array;
  readonly #mirror: boolean;
  readonly #faultBusy: number;
  readonly #zapBusy: number;
  readonly #mapGpaInKernel: boolean;
  readonly #batchedZap: boolean;
  readonly #callPrim: number;
  readonly #huge: boolean;
  readonly #devicesInKernel: boolean;
  readonly #notifyOnVcpuThread: boolean;
  readonly #others: Vcpu[][];
  /** The TD's MMIO region has its #VE mapping (after the first access). */
  #mmioInstalled = false;
  /** Sub-steps of the TD entry in progress (reused: entries are the hot path). */
  readonly #spans = { epochCycles: 0, steppingCycles: 0 };

  constructor(vm: Vm, choices: Record<string, string>) {
    this.#vm = vm;
    const locks = choices["module-locks"];
    this.#td = new TdState(
      vm.name,
      vm.memory,
      vm.vcpus.length,
      locks === "none" ? undefined : locks as ModuleVersion,
    );
    this.#module = this.#td.module;
    this.#costs = vm.vcpus[0].costs;
    this.#mirror = choices["sept-reads"] === "mirror";
    this.#faultBusy = choices["fault-retry"] === "local" ? RETRY : RETURN;
    this.#zapBusy = choices["zap-busy"] === "kick-all" ? NO_VCPUS : RETRY;
    this.#mapGpaInKernel = choices.mapgpa === "kernel";
    this.#batchedZap = choices["private-zap"] === "batched";
    this.#callPrim = choices.dispatch === "ops-table" ? P.KVM_CALL_INDIRECT : P.KVM_CALL_BRANCH;
    this.#huge = choices["private-page-size"] === "2M";
    this.#devicesInKernel = choices.devices === "kernel";
    this.#notifyOnVcpuThread = choices.virtio === "vmm-vcpu";
    this.#others = vm.vcpus.map((vcpu) => vm.vcpus.filter((other) => other !== vcpu));
    // A TD's memory starts private and unaccepted; its I/O goes through bounce buffers.
    vm.memory.pageFlags.fill(PAGE_PRIVATE);
    vm.bounceBuffers = true;
  }

  resources(): ResourceStats[] {
    return this.#module?.resources() ?? [];
  }

  /**
   * A lane per TD-wide module lock showing its exclusive holds and the vCPU holding each
   * (shared holds, the common case, are left out). Holds are committed at their holders'
   * local times, not in time order, so they are sorted when the run ends.
   */
  record(timeline: Timeline): (endCycles: number) => void {
    const module = this.#module;
    if (module === undefined) return () => {};
    const vcpus = this.#vm.vcpus;
    const lanes = Object.values(module.tdLocks).map((lock) => {
      const lane = timeline.addLane({ name: lock.name, kind: "resource", group: this.#vm.name });
      const holds: number[] = [];
      lock.onExclusive = (holder, start, end) => {
        // (A hold that starts where the timeline no longer takes spans is left out.)
        if (start < timeline.closedFromCycles) holds.push(vcpus[holder]?.lane ?? -1, start, end);
      };
      return { lane, holds };
    });
    return () => {
      for (const { lane, holds } of lanes) {
        const order = Array.from({ length: holds.length / 3 }, (_, i) => i);
        order.sort((a, b) => holds[3 * a + 1] - holds[3 * b + 1]);
        for (const i of order) {
          timeline.occupied(
            lane,
            holds[3 * i],
            holds[3 * i + 1],
            holds[3 * i + 2] - holds[3 * i + 1],
          );
        }
      }
    };
  }

  /** A TD exit (after the guest's TDCALL, for the exits a TDVMCALL causes). */
  exit(vcpu: Vcpu, kind: number): void {
    vcpu.countExit(TD_REASONS[kind]);
    if (kind !== EXIT_KIND.TDP_FAULT && kind !== EXIT_KIND.EXTERNAL && kind !== EXIT_KIND.TIMER) {
      vcpu.step(P["TDCALL(TDG.VP.VMCALL)"]);
    }
    vcpu.step(P.TD_EXIT);
    this.#module?.exitGuest(vcpu.index, vcpu.cursorCycles); // drops what the entry held
    vcpu.step(P.KVM_EXIT_DISPATCH);
    vcpu.stepTimes(this.#callPrim, CALLS_PER_EXIT);
  }

  /**
   * TDH.VP.ENTER, flushing the vCPU from its previous pCPU if it moved. The entry takes
   * the module's locks (its TDVPR and the TDR for the guest's run, the TLB epoch briefly,
   * the S-EPT tree while the zero-step filter runs); when one is busy the entry returns
   * TDX_OPERAND_BUSY and KVM goes around its run loop and enters again (tdx_vcpu_run's
   * EXIT_FASTPATH_EXIT_HANDLED), spinning until the operand is free.
   */
  enter(vcpu: Vcpu): void {
    const i = vcpu.index;
    const last = this.#td.lastCpu[i];
    if (last >= 0 && last !== vcpu.cpuId) {
      vcpu.step(P.KICK_SEND); // an IPI to the old pCPU, which runs TDH.VP.FLUSH
      this.#spinCall(vcpu, FLUSH, P["SEAMCALL(TDH.VP.FLUSH)"], 0, 0);
    }
    this.#td.lastCpu[i] = vcpu.cpuId;
    const module = this.#module;
    const costs = this.#costs;
    const stepping = this.#td.stepping(i);
    const epoch = costs[P.TDX_ENTER_EPOCH];
    const filter = stepping ? costs[P.TDX_ZERO_STEP] : 0;
    const total = epoch + filter + costs[P["SEAMCALL(TDH.VP.ENTER)"]];
    if (module !== undefined) {
      const spans = this.#spans;
      spans.epochCycles = epoch;
      spans.steppingCycles = filter;
      for (let busySince = -1;;) {
        const start = vcpu.cursorCycles;
        if (module.tryCall(ENTER, i, 0, 0, start, start + total, vcpu.sim.now, spans, stepping)) {
          if (busySince >= 0) this.#lockOf(module.busyOperand)?.stats.retried(start - busySince);
          break;
        }
        if (busySince < 0) busySince = start;
        vcpu.step(P.SEAMCALL_BUSY);
        this.#spinUntil(vcpu, module.busyUntil, "TDH.VP.ENTER");
      }
    }
    vcpu.step(P.TDX_ENTER_EPOCH);
    if (stepping) vcpu.step(P.TDX_ZERO_STEP);
    vcpu.step(P["SEAMCALL(TDH.VP.ENTER)"]);
  }

  *execute(vcpu: Vcpu, insn: number, arg: number): Flow {
    const vm = this.#vm;
    switch (insn) {
      case INSN.CPUID: // a hypervisor leaf: #VE, then a TDVMCALL
        vcpu.step(P.GUEST_VE);
        this.exit(vcpu, EXIT_KIND.CPUID);
        vcpu.step(P.KVM_CPUID);
        break;
      case INSN.HYPERCALL:
        this.exit(vcpu, EXIT_KIND.HYPERCALL);
        vcpu.step(P.KVM_HYPERCALL);
        break;
      case INSN.PIO_READ:
      case INSN.PIO_WRITE:
        vcpu.step(P.GUEST_VE);
        this.exit(vcpu, EXIT_KIND.PIO);
        if (this.#devicesInKernel) vcpu.step(P.KVM_PIO);
        else yield* userspaceExit(vcpu, vm, P.VMM_PIO);
        break;
      case INSN.MMIO_READ:
      case INSN.MMIO_WRITE:
        if (!this.#mmioInstalled) yield* this.#mmioReady(vcpu); // (no generator once done)
        vcpu.step(P.GUEST_VE);
        this.exit(vcpu, EXIT_KIND.MMIO); // the #VE handler decoded it: no emulation in KVM
        if (this.#devicesInKernel) vcpu.step(P.KVM_MMIO_DEVICE);
        else yield* userspaceExit(vcpu, vm, P.VMM_MMIO);
        break;
      case INSN.MSR_READ:
      case INSN.MSR_WRITE:
        vcpu.step(P.GUEST_VE);
        this.exit(vcpu, insn === INSN.MSR_READ ? EXIT_KIND.MSR_READ : EXIT_KIND.MSR_WRITE);
        vcpu.step(P.KVM_MSR);
        break;
      case INSN.TSC_DEADLINE:
        vcpu.step(P.GUEST_VE);
        this.exit(vcpu, EXIT_KIND.MSR_WRITE);
        yield* armTscDeadline(vcpu, arg);
        break;
      case INSN.ICR_WRITE:
        vcpu.step(P.GUEST_VE);
        this.exit(vcpu, EXIT_KIND.MSR_WRITE);
        yield* emulateIpi(vcpu, vm, arg);
        break;
      case INSN.VIRTIO_NOTIFY: {
        vcpu.step(P.GUEST_BOUNCE_COPY); // the request goes out through a shared buffer
        if (!this.#mmioInstalled) yield* this.#mmioReady(vcpu); // (no generator once done)
        vcpu.step(P.GUEST_VE);
        this.exit(vcpu, EXIT_KIND.MMIO);
        if (this.#notifyOnVcpuThread || !notifiedAhead(vcpu, vm, arg)) {
          yield* notifyVirtio(vcpu, vm, arg, this.#notifyOnVcpuThread);
        }
        break;
      }
      case INSN.MEM_TOUCH:
        yield* this.#touch(vcpu, arg);
        return;
      case INSN.ACCEPT_4K:
        yield* this.#accept4k(vcpu, arg);
        return;
      case INSN.ACCEPT_2M:
        yield* this.#accept2m(vcpu, arg);
        return;
      case INSN.MAP_GPA_SHARED:
      case INSN.MAP_GPA_PRIVATE:
        yield this.#mapGpa(vcpu, arg, insn === INSN.MAP_GPA_SHARED);
        break;
      case INSN.MAP_GPA_SHARED_4K:
      case INSN.MAP_GPA_PRIVATE_4K:
        yield* this.#mapGpa4k(vcpu, arg, insn === INSN.MAP_GPA_SHARED_4K);
        break;
      default:
        throw new Error(`${vcpu.name} cannot execute instruction ${insn}`);
    }
    // #reenter written out: this is every TDVMCALL's path, and a generator per exit costs.
    if (vcpu.hostWork) {
      vcpu.hostWork = false;
      yield* this.hostWork(vcpu);
    }
    if (vcpu.needResched) yield* vcpu.preempt();
    vcpu.enter();
  }

  /**
   * KVM's checks before every TD entry: held out while a busy S-EPT removal is retried
   * (KVM asks through host work), a reschedule point, then TDH.VP.ENTER.
   */
  *#reenter(vcpu: Vcpu): Flow {
    if (vcpu.hostWork) {
      vcpu.hostWork = false;
      yield* this.hostWork(vcpu);
    }
    if (vcpu.needResched) yield* vcpu.preempt();
    vcpu.enter();
  }

  /** A vCPU that would enter while KVM holds every vCPU out of the TD spins until it may. */
  *hostWork(vcpu: Vcpu): Flow {
    const gate = this.#td.entryGate;
    if (gate !== undefined) yield* vcpu.waitOn(gate, P.WAIT_SEPT_ZAP);
  }

  /** The first MMIO access of the TD exits so KVM can map the region to raise #VE. */
  *#mmioReady(vcpu: Vcpu): Flow {
    if (this.#mmioInstalled) return;
    this.#mmioInstalled = true;
    this.exit(vcpu, EXIT_KIND.TDP_FAULT);
    vcpu.step(P.KVM_MMU_FAULT);
    yield* this.#reenter(vcpu);
  }

  /** Shared pages are ready once mapped; private ones once accepted (and so mapped). */
  pageReady(page: number): boolean {
    const flags = this.#vm.memory.pageFlags[page];
    if ((flags & PAGE_MAPPED) === 0) return false;
    return (flags & PAGE_PRIVATE) === 0 || (flags & PAGE_ACCEPTED) !== 0;
  }

  needsAccept(page: number): boolean {
    return (this.#vm.memory.pageFlags[page] & (PAGE_PRIVATE | PAGE_ACCEPTED)) === PAGE_PRIVATE;
  }

  /** A data access: shared pages fault in normally; unaccepted private ones are accepted. */
  *#touch(vcpu: Vcpu, page: number): Flow {
    const memory = this.#vm.memory;
    const flags = memory.pageFlags[page];
    if ((flags & PAGE_PRIVATE) === 0) {
      if ((flags & PAGE_MAPPED) === 0) yield* this.#sharedFault(vcpu, page);
      return;
    }
    if ((flags & PAGE_ACCEPTED) !== 0) return;
    vcpu.step(P.GUEST_VE); // touching a pending page raises #VE; the handler accepts it
    yield* this.#accept4k(vcpu, page);
  }

  /** TDG.MEM.PAGE.ACCEPT of one 4 KiB page (C.4). */
  *#accept4k(vcpu: Vcpu, page: number): Flow {
    const memory = this.#vm.memory;
    yield this.#acceptCall(vcpu, page, 0);
    if ((memory.pageFlags[page] & PAGE_ACCEPTED) !== 0) return; // already accepted
    while (!memory.isMapped(page)) yield* this.#privateFault(vcpu, page, false);
    vcpu.step(P.TDX_PAGE_ZERO);
    memory.addPageFlags(page, PAGE_ACCEPTED);
  }

  /** ACCEPT of a 2 MiB chunk: one 2 MiB leaf, or 512 4 KiB accepts if KVM maps 4 KiB only. */
  *#accept2m(vcpu: Vcpu, chunk: number): Flow {
    const memory = this.#vm.memory;
    const first = chunk * PAGES_PER_2M;
    const last = Math.min(first + PAGES_PER_2M, memory.pages);
    yield this.#acceptCall(vcpu, first, 1);
    if (this.#huge && !this.#has4kLeaves(first, last)) {
      while (!memory.isMapped(first)) yield* this.#privateFault(vcpu, first, true);
      for (let page = first; page < last; page++) {
        if ((memory.pageFlags[page] & PAGE_ACCEPTED) !== 0) continue;
        vcpu.step(P.TDX_PAGE_ZERO);
        memory.addPageFlags(page, PAGE_ACCEPTED);
      }
      return;
    }
    // KVM maps 4 KiB (or 4 KiB leaves are already there): the 2 MiB ACCEPT faults once,
    // gets a 4 KiB leaf, fails with a size mismatch, and the guest accepts 4 KiB at a time.
    while (!memory.isMapped(first)) yield* this.#privateFault(vcpu, first, false);
    for (let page = first; page < last; page++) yield* this.#accept4k(vcpu, page);
  }

  /**
   * The guest's TDCALL(TDG.MEM.PAGE.ACCEPT) on the S-EPT entry of `page` at `level`: it
   * takes the entry's lock on the TD's side, so it fails while KVM holds the entry or a
   * KVM attempt on it is pending (host priority); the guest then tries again.
   */
  *#acceptCall(vcpu: Vcpu, page: number, level: number): Flow {
    const prim = P["TDCALL(TDG.MEM.PAGE.ACCEPT)"];
    const module = this.#module;
    if (module === undefined) {
      vcpu.step(prim);
      return;
    }
    const cycles = this.#costs[prim];
    for (;;) {
      const start = vcpu.cursorCycles;
      if (module.tryCall(ACCEPT, vcpu.index, page, level, start, start + cycles, vcpu.sim.now)) {
        vcpu.step(prim);
        return;
      }
      vcpu.step(prim); // the TDCALL ran and returned TDX_OPERAND_BUSY
      const wait = module.busyUntil - vcpu.cursorCycles;
      if (wait > 0) vcpu.stepCycles(P.GUEST, wait);
      if (vcpu.lagCycles > 0) yield vcpu.lagCycles; // let KVM's attempt get its turn
    }
  }

  /** True when part of [first, last) is already mapped by 4 KiB leaves (no 2 MiB leaf fits). */
  #has4kLeaves(first: number, last: number): boolean {
    const memory = this.#vm.memory;
    if ((memory.regionFlags[Math.floor(first / PAGES_PER_2M)] & REGION_HUGE) !== 0) return false;
    for (let page = first; page < last; page++) if (memory.isMapped(page)) return true;
    return false;
  }

  /**
   * A private-page fault (C.4): exit, walk, add missing levels, clear and AUG the leaf,
   * enter. On TDX_OPERAND_BUSY with re-enter-and-refault, returns after re-entering
   * without mapping the page (the caller's ACCEPT faults again, and the module counts the
   * entry without progress toward its zero-step mitigation).
   */
  *#privateFault(vcpu: Vcpu, page: number, huge: boolean): Flow {
    const vm = this.#vm;
    const memory = vm.memory;
    const td = this.#td;
    this.exit(vcpu, EXIT_KIND.TDP_FAULT);
    vcpu.step(P.KVM_MMU_FAULT);
    yield* vcpu.waitOn(vm.mmuLock.read, P.WAIT_MMU_LOCK);
    let mapped = memory.isMapped(page); // another vCPU may have mapped it meanwhile
    if (!mapped) {
      yield* this.#walk(vcpu, page, huge ? WALK_2M : WALK_4K);
      const missing = td.missingTables(page, huge);
      let ok = true;
      for (let level = 3; level >= 1 && ok; level--) {
        if ((missing & (1 << level)) === 0) continue;
        vcpu.step(P.PAGE_ALLOC);
        ok = yield* returnOf(
          this.#call(vcpu, SEPT_ADD, P["SEAMCALL(TDH.MEM.SEPT.ADD)"], page, level),
        );
      }
      if (ok) {
        td.addTables(page, huge);
        vcpu.step(P.PAGE_ALLOC);
        vcpu.stepTimes(P.PAGE_CLEAR, huge ? PAGES_PER_2M : 1);
        ok = yield* returnOf(
          this.#call(vcpu, AUG, P["SEAMCALL(TDH.MEM.PAGE.AUG)"], page, huge ? 1 : 0),
        );
      }
      if (ok) {
        if (huge) memory.map2m(page);
        else memory.map4k(page);
        mapped = true;
      }
    }
    if (vcpu.lagCycles > 0) yield vcpu.lagCycles;
    vm.mmuLock.read.release();
    if (mapped) td.progressed(vcpu.index);
    else td.noteNoProgress(vcpu.index, page); // the guest will retry the same ACCEPT
    yield* this.#reenter(vcpu);
  }

  /**
   * Reads the levels of one S-EPT walk (C.5): from the mirror, or through SEAMCALLs, each
   * taking the S-EPT tree shared and the entry it reads, retried in KVM when busy.
   */
  *#walk(vcpu: Vcpu, page: number, levels: number): Flow {
    if (this.#mirror) {
      vcpu.stepTimes(P.KVM_MIRROR_READ, levels);
      return;
    }
    const top = WALK_4K - 1;
    for (let level = top; level > top - levels; level--) {
      yield* this.#callWith(vcpu, SEPT_RD, P["SEAMCALL(TDH.MEM.SEPT.RD)"], page, level, RETRY);
    }
  }

  /** A SEAMCALL of the fault path, with KVM's reaction to BUSY as the design chose. */
  #call(vcpu: Vcpu, leaf: number, prim: number, page: number, level: number): Flow<boolean> {
    return this.#callWith(vcpu, leaf, prim, page, level, this.#faultBusy);
  }

  /**
   * A SEAMCALL on `page`'s S-EPT entry at `level`, at the simulator's time. Takes the
   * module's locks for the call's duration or returns TDX_OPERAND_BUSY (SEAMCALL_BUSY);
   * then, as `reaction` says, KVM retries until the operand is free (SEAMCALL_RETRY),
   * gives up (returns false), or holds every vCPU out of the TD, kicks them out of guest
   * mode and retries (tdh_do_no_vcpus).
   */
  *#callWith(
    vcpu: Vcpu,
    leaf: number,
    prim: number,
    page: number,
    level: number,
    reaction: number,
  ): Flow<boolean> {
    const module = this.#module;
    if (module === undefined) {
      vcpu.step(prim);
      return true;
    }
    if (vcpu.lagCycles > 0) yield vcpu.lagCycles; // try in time order with the other vCPUs
    const cycles = this.#costs[prim];
    let start = vcpu.cursorCycles;
    if (module.tryCall(leaf, vcpu.index, page, level, start, start + cycles, vcpu.sim.now)) {
      vcpu.step(prim);
      return true;
    }
    vcpu.step(P.SEAMCALL_BUSY);
    if (reaction === RETURN) return false;
    const busySince = start;
    if (reaction === NO_VCPUS) yield this.#holdVcpusOut(vcpu);
    for (;;) {
      start = vcpu.cursorCycles;
      if (module.tryCall(leaf, vcpu.index, page, level, start, start + cycles, vcpu.sim.now)) {
        break;
      }
      this.#spinUntil(vcpu, module.busyUntil, LEAVES[leaf]);
      if (vcpu.lagCycles > 0) yield vcpu.lagCycles;
    }
    this.#lockOf(module.busyOperand)?.stats.retried(start - busySince);
    vcpu.step(prim);
    if (reaction === NO_VCPUS) this.#letVcpusIn();
    return true;
  }

  /**
   * A SEAMCALL that KVM retries in place until it gets through, without yielding (the
   * entry path, which is not a generator): it spins until the busy operand is free.
   */
  #spinCall(vcpu: Vcpu, leaf: number, prim: number, page: number, level: number): void {
    const module = this.#module;
    if (module !== undefined) {
      const cycles = this.#costs[prim];
      for (;;) {
        const start = vcpu.cursorCycles;
        if (module.tryCall(leaf, vcpu.index, page, level, start, start + cycles, vcpu.sim.now)) {
          break;
        }
        vcpu.step(P.SEAMCALL_BUSY);
        this.#spinUntil(vcpu, module.busyUntil, LEAVES[leaf]);
      }
    }
    vcpu.step(prim);
  }

  /** KVM spins (retrying the SEAMCALL) until `untilCycles`, when the busy operand is free. */
  #spinUntil(vcpu: Vcpu, untilCycles: number, leaf: string): void {
    if (untilCycles === Infinity) {
      throw new Error(
        `${vcpu.name}: ${leaf} met ${this.#module!.busyOperand} held while a vCPU runs; ` +
          "KVM never issues it then",
      );
    }
    const wait = untilCycles - vcpu.cursorCycles;
    if (wait > 0) vcpu.stepCycles(P.SEAMCALL_RETRY, wait);
  }

  /** The TD-wide lock of `operand`, for statistics (per-page operands report together). */
  #lockOf(operand: string): { stats: { retried(cycles: number): void } } | undefined {
    const module = this.#module!;
    switch (operand) {
      case "TDR":
      case "OP_STATE":
      case "SEPT_TREE":
      case "TD_EPOCH":
        return module.tdLocks[operand];
      case "SEPT_ENTRY":
        return module.septEntries;
      case "PAMT_ENTRY":
        return module.pamtEntries;
      default:
        return module.tdvpr[0];
    }
  }

  /**
   * tdh_do_no_vcpus: no vCPU may enter the TD until the retry is done, and every vCPU in
   * guest mode is kicked out (KVM_REQ_OUTSIDE_GUEST_MODE), so no TD entry or TDCALL holds
   * what the retried SEAMCALL needs.
   */
  *#holdVcpusOut(vcpu: Vcpu): Flow {
    this.#td.entryGate = new Latch(1);
    const others = this.#others[vcpu.index];
    for (const other of others) other.hostWork = true; // checked before each entry
    yield kickAndWait(others, vcpu);
  }

  #letVcpusIn(): void {
    const gate = this.#td.entryGate!;
    this.#td.entryGate = undefined;
    gate.countDown();
  }

  /** A fault on a shared page: the normal EPT path. */
  *#sharedFault(vcpu: Vcpu, page: number): Flow {
    const vm = this.#vm;
    this.exit(vcpu, EXIT_KIND.TDP_FAULT);
    vcpu.step(P.KVM_MMU_FAULT);
    yield* vcpu.waitOn(vm.mmuLock.read, P.WAIT_MMU_LOCK);
    if (!vm.memory.isMapped(page)) {
      vcpu.step(P.PAGE_ALLOC);
      vcpu.step(P.PAGE_CLEAR);
      if (vcpu.lagCycles > 0) yield vcpu.lagCycles;
      vm.memory.map4k(page);
    } else if (vcpu.lagCycles > 0) {
      yield vcpu.lagCycles;
    }
    vm.mmuLock.read.release();
    yield* this.#reenter(vcpu);
  }

  /** MapGPA of one 2 MiB chunk (C.6): through userspace, or handled in KVM. */
  *#mapGpa(vcpu: Vcpu, chunk: number, toShared: boolean): Flow {
    this.exit(vcpu, EXIT_KIND.HYPERCALL);
    vcpu.step(P.KVM_MAPGPA);
    if (this.#mapGpaInKernel) {
      yield this.#setAttributes(vcpu, chunk, toShared);
      return;
    }
    vcpu.step(P.IOCTL_RET);
    vcpu.step(P.VMM_MAPGPA);
    yield this.#setAttributes(vcpu, chunk, toShared); // the VMM's KVM_SET_MEMORY_ATTRIBUTES
    vcpu.step(P.IOCTL_ENTER);
  }

  /** MapGPA of one 4 KiB page (a TDVMCALL), to KVM and on to the VMM unless in-kernel. */
  *#mapGpa4k(vcpu: Vcpu, page: number, toShared: boolean): Flow {
    this.exit(vcpu, EXIT_KIND.HYPERCALL);
    vcpu.step(P.KVM_MAPGPA);
    if (!this.#mapGpaInKernel) {
      vcpu.step(P.IOCTL_RET);
      vcpu.step(P.VMM_MAPGPA);
    }
    yield* this.#setAttributes4k(vcpu, page, toShared);
    if (!this.#mapGpaInKernel) vcpu.step(P.IOCTL_ENTER);
  }

  /**
   * KVM_SET_MEMORY_ATTRIBUTES for one 4 KiB page. To shared, a 2 MiB private leaf over it
   * is split first (kvm_split_cross_boundary_leafs, under mmu_lock for writing): BLOCK,
   * TRACK and the IPI round, then TDH.MEM.PAGE.DEMOTE into a new S-EPT page (Yan Zhao's
   * TDX huge page series); then the page's own leaf is removed. KVM never promotes a
   * mirror root's leaves back (Rick Edgecombe's patch), so the region stays 4 KiB.
   */
  *#setAttributes4k(vcpu: Vcpu, page: number, toShared: boolean): Flow {
    const vm = this.#vm;
    const memory = vm.memory;
    yield* vcpu.waitOn(vm.slotsLock, P.WAIT_SLOTS_LOCK);
    vcpu.step(P.KVM_SET_ATTRIBUTES);
    vcpu.step(P.XA_OP);
    yield* vcpu.waitOn(vm.mmuLock.write, P.WAIT_MMU_LOCK);
    const others = this.#others[vcpu.index];
    const private_ = (memory.pageFlags[page] & PAGE_PRIVATE) !== 0;
    if (toShared && private_) {
      const first = page - (page % PAGES_PER_2M);
      if (memory.isHuge(first)) {
        yield* this.#block(vcpu, first, PAGES_PER_2M);
        yield* this.#track(vcpu, others);
        vcpu.step(P.PAGE_ALLOC); // the new S-EPT page
        yield* this.#callWith(
          vcpu,
          DEMOTE,
          P["SEAMCALL(TDH.MEM.PAGE.DEMOTE)"],
          first,
          1,
          this.#zapBusy,
        );
        memory.splitRegion(first);
      }
      yield this.#zapPrivate(vcpu, page, page + 1, others);
    } else if (!toShared && !private_ && memory.isMapped(page)) {
      vcpu.step(P.KVM_ZAP);
      yield kickAndWait(others, vcpu); // remote TLB flush
    }
    if (private_ === toShared) memory.setPageFlags(page, toShared ? 0 : PAGE_PRIVATE);
    if (vcpu.lagCycles > 0) yield vcpu.lagCycles;
    vm.mmuLock.write.release();
    vm.slotsLock.release();
  }

  /** KVM_SET_MEMORY_ATTRIBUTES for a chunk, zapping what the old attribute mapped. */
  *#setAttributes(vcpu: Vcpu, chunk: number, toShared: boolean): Flow {
    const vm = this.#vm;
    const memory = vm.memory;
    const first = chunk * PAGES_PER_2M;
    const last = Math.min(first + PAGES_PER_2M, memory.pages);
    yield* vcpu.waitOn(vm.slotsLock, P.WAIT_SLOTS_LOCK);
    vcpu.step(P.KVM_SET_ATTRIBUTES);
    vcpu.stepTimes(P.XA_OP, last - first);
    yield* vcpu.waitOn(vm.mmuLock.write, P.WAIT_MMU_LOCK);
    const others = this.#others[vcpu.index];
    if (toShared) {
      yield this.#zapPrivate(vcpu, first, last, others);
    } else {
      let shared = 0;
      for (let page = first; page < last; page++) if (memory.isMapped(page)) shared++;
      if (shared > 0) {
        vcpu.stepTimes(P.KVM_ZAP, shared);
        yield kickAndWait(others, vcpu); // remote TLB flush
      }
    }
    for (let page = first; page < last; page++) {
      memory.setPageFlags(page, toShared ? 0 : PAGE_PRIVATE); // unmapped and unaccepted
    }
    memory.splitRegion(first);
    if (vcpu.lagCycles > 0) yield vcpu.lagCycles;
    vm.mmuLock.write.release();
    vm.slotsLock.release();
  }

  /**
   * Removes the private leaves of [first, last) (C.6): per leaf BLOCK, TRACK with an IPI
   * round to the running vCPUs, REMOVE, WBINVD and clear; or, batched, every BLOCK, one
   * TRACK and IPI round, then the removals. Between leaves KVM lets waiting faults have
   * mmu_lock (tdp_mmu_zap_leafs yields when rwlock_needbreak()).
   */
  *#zapPrivate(vcpu: Vcpu, first: number, last: number, others: Vcpu[]): Flow {
    const memory = this.#vm.memory;
    const leaves: [number, number][] = []; // [page, 4 KiB pages in the leaf]
    if ((memory.regionFlags[Math.floor(first / PAGES_PER_2M)] & REGION_HUGE) !== 0) {
      leaves.push([first, last - first]);
    } else {
      for (let page = first; page < last; page++) {
        if (memory.isMapped(page)) leaves.push([page, 1]);
      }
    }
    if (leaves.length === 0) return;
    if (this.#batchedZap) {
      for (const [page, pages] of leaves) yield* this.#block(vcpu, page, pages);
      yield* this.#track(vcpu, others);
      for (const [page, pages] of leaves) {
        yield* this.#remove(vcpu, page, pages);
        yield* this.#yieldMmuLock(vcpu);
      }
      return;
    }
    for (const [page, pages] of leaves) {
      yield* this.#block(vcpu, page, pages);
      yield* this.#track(vcpu, others);
      yield* this.#remove(vcpu, page, pages);
      yield* this.#yieldMmuLock(vcpu);
    }
  }

  /** The mirror walk to a private leaf, then TDH.MEM.RANGE.BLOCK on it. */
  *#block(vcpu: Vcpu, page: number, pages: number): Flow {
    yield* this.#walk(vcpu, page, pages > 1 ? WALK_2M : WALK_4K);
    const level = pages > 1 ? 1 : 0;
    yield* this.#callWith(
      vcpu,
      BLOCK,
      P["SEAMCALL(TDH.MEM.RANGE.BLOCK)"],
      page,
      level,
      this.#zapBusy,
    );
  }

  /** TDH.MEM.TRACK, then an IPI round: every running vCPU exits before pages go. */
  *#track(vcpu: Vcpu, others: Vcpu[]): Flow {
    yield* this.#callWith(vcpu, TRACK, P["SEAMCALL(TDH.MEM.TRACK)"], 0, 0, this.#zapBusy);
    yield kickAndWait(others, vcpu);
  }

  /** Removes a blocked leaf of `pages` 4 KiB pages: REMOVE, then WBINVD and clear each page. */
  *#remove(vcpu: Vcpu, page: number, pages: number): Flow {
    const level = pages > 1 ? 1 : 0;
    const remove = P["SEAMCALL(TDH.MEM.PAGE.REMOVE)"];
    yield* this.#callWith(vcpu, REMOVE, remove, page, level, this.#zapBusy);
    const wbinvd = P["SEAMCALL(TDH.PHYMEM.PAGE.WBINVD)"];
    for (let at = page; at < page + pages; at++) {
      yield* this.#callWith(vcpu, WBINVD, wbinvd, at, 0, RETRY);
    }
    vcpu.stepTimes(P.PAGE_CLEAR, pages);
  }

  /** Drops and retakes mmu_lock for writing if someone waits for it (fair: they go first). */
  *#yieldMmuLock(vcpu: Vcpu): Flow {
    const lock = this.#vm.mmuLock;
    if (lock.waiting === 0) return;
    if (vcpu.lagCycles > 0) yield vcpu.lagCycles;
    if (lock.waiting === 0) return;
    lock.write.release();
    yield* vcpu.waitOn(lock.write, P.WAIT_MMU_LOCK);
  }
}

const CHOICES: readonly ChoiceSpec[] = [
  {
    id: "sept-reads",
    doc: "How KVM reads a TD's secure EPT (split S10)",
    options: {
      mirror: "from its mirror copy in host memory: a memory read per level (the RFC, upstream)",
      seamcall: "through TDH.MEM.SEPT.RD: a SEAMCALL per level (the RFC's rejected alternative)",
    },
  },
  {
    id: "fault-retry",
    doc: "What KVM does when AUG or SEPT.ADD returns TDX_OPERAND_BUSY (split S11)",
    options: {
      local: "retry the SEAMCALL in the kernel without re-entering the TD (upstream)",
      reenter: "re-enter the TD and let it refault (risks the zero-step mitigation)",
    },
  },
  {
    id: "mapgpa",
    doc: "Where MapGPA conversions are handled (split S12)",
    options: {
      userspace:
        "exit to the VMM per 2 MiB chunk, which calls KVM_SET_MEMORY_ATTRIBUTES (upstream)",
      kernel: "KVM updates the attributes itself, with no return to userspace",
    },
  },
  {
    id: "private-zap",
    doc: "How private pages are removed on conversion (split S13)",
    options: {
      "per-leaf": "BLOCK, TRACK + IPI round, REMOVE, WBINVD for each 4 KiB leaf",
      batched: "BLOCK every leaf of the range, one TRACK + IPI round, then the removals",
    },
  },
  {
    id: "dispatch",
    doc: "How KVM reaches the TDX callbacks (split S14)",
    options: {
      branch: "is_td() branches with static calls: a predictable branch per callback (the RFC)",
      "ops-table": "a per-VM ops table: an indirect call through a retpoline per callback",
    },
  },
  {
    id: "private-page-size",
    doc: "Size of private mappings KVM creates (split S15)",
    options: {
      "4K": "4 KiB only: each 2 MiB ACCEPT becomes 512 faults and AUGs (the RFC, upstream)",
      "2M": "2 MiB leaves where the guest accepts 2 MiB",
    },
  },
  {
    id: "zap-busy",
    doc: "What KVM does when BLOCK, TRACK or REMOVE of a private zap returns TDX_OPERAND_BUSY",
    options: {
      "kick-all": "hold every vCPU out of the TD, kick them out of guest mode, retry once " +
        "(tdh_do_no_vcpus, upstream)",
      retry: "retry the SEAMCALL in KVM until it gets through (the early TDX patch series)",
    },
  },
  {
    id: "module-locks",
    doc: "The TDX module's locking (src/tdx/module_locks.ts); `none` is a what-if, not a module",
    options: {
      "1.5": "TDX module 1.5/2.0: S-EPT changes take the tree shared and a lock per entry",
      "1.0": "TDX module 1.0: AUG, SEPT.ADD, BLOCK and REMOVE take the S-EPT tree exclusive",
      none: "an idealized module whose locks never contend",
    },
  },
  ...X86_IO_CHOICES,
];

const PRIMITIVES: readonly PrimitiveName[] = [
  "GUEST_VE",
  "GUEST_BOUNCE_COPY",
  "TD_EXIT",
  "SEAMCALL(TDH.VP.ENTER)",
  "SEAMCALL(TDH.VP.FLUSH)",
  "SEAMCALL(TDH.MEM.PAGE.AUG)",
  "SEAMCALL(TDH.MEM.SEPT.ADD)",
  "SEAMCALL(TDH.MEM.SEPT.RD)",
  "SEAMCALL(TDH.MEM.RANGE.BLOCK)",
  "SEAMCALL(TDH.MEM.TRACK)",
  "SEAMCALL(TDH.MEM.PAGE.REMOVE)",
  "SEAMCALL(TDH.MEM.PAGE.DEMOTE)",
  "SEAMCALL(TDH.PHYMEM.PAGE.WBINVD)",
  "SEAMCALL_BUSY",
  "SEAMCALL_RETRY",
  "TDX_ENTER_EPOCH",
  "TDX_ZERO_STEP",
  "WAIT_SEPT_ZAP",
  "TDCALL(TDG.VP.VMCALL)",
  "TDCALL(TDG.MEM.PAGE.ACCEPT)",
  "TDX_PAGE_ZERO",
  "KVM_CALL_BRANCH",
  "KVM_CALL_INDIRECT",
  "KVM_MIRROR_READ",
  "KVM_SET_ATTRIBUTES",
  "XA_OP",
  "KVM_ZAP",
  "KVM_MAPGPA",
  "VMM_MAPGPA",
  ...X86_COMMON_PRIMITIVES,
];

/** Intel TDX guests. */
export const TDX_PLATFORM: PlatformSpec = {
  name: "tdx",
  description: "An Intel TDX trust domain (TD) on KVM",
  defaultProfile: "intel-tdx",
  choices: CHOICES,
  primitives: PRIMITIVES,
  operations: [
    ...X86_COMMON_OPERATIONS,
    "accept-page",
    "accept-2m",
    "convert-shared",
    "convert-private",
    "convert-page-shared",
    "convert-page-private",
  ],
  createVm: (vm, choices) => new TdxVm(vm, choices),
};

/** The upstream choices: what the 2020 RFC chose and upstream KVM kept. */
const UPSTREAM: Record<string, string> = {
  "sept-reads": "mirror",
  "fault-retry": "local",
  mapgpa: "userspace",
  "private-zap": "per-leaf",
  dispatch: "branch",
  "private-page-size": "4K",
  "zap-busy": "kick-all",
  "module-locks": "1.5",
  devices: "kernel",
  virtio: "vhost",
};

function variant(
  name: string,
  summary: string,
  splits: string[],
  changes: Record<string, string>,
): DesignSpec {
  return { name, platform: "tdx", summary, splits, choices: { ...UPSTREAM, ...changes } };
}

/** Designs of the TDX platform: upstream, and one variant per split. */
export const TDX_DESIGNS: readonly DesignSpec[] = [
  variant(
    "tdx.upstream",
    "TD as upstream KVM runs it: mirror S-EPT, local retry, MapGPA in userspace, 4K",
    ["S10", "S11", "S12", "S13", "S14", "S15"],
    {},
  ),
  variant("tdx.seamcall-reads", "upstream, but S-EPT reads through TDH.MEM.SEPT.RD", ["S10"], {
    "sept-reads": "seamcall",
  }),
  variant("tdx.refault", "upstream, but a busy SEAMCALL re-enters the TD to refault", ["S11"], {
    "fault-retry": "reenter",
  }),
  variant("tdx.mapgpa-in-kernel", "upstream, but MapGPA converts in KVM", ["S12"], {
    mapgpa: "kernel",
  }),
  variant("tdx.batched-zap", "upstream, but one TRACK + IPI round per converted range", ["S13"], {
    "private-zap": "batched",
  }),
  variant("tdx.ops-table", "upstream, but callbacks through a per-VM ops table", ["S14"], {
    dispatch: "ops-table",
  }),
  variant("tdx.huge-pages", "upstream, but 2 MiB private mappings", ["S15"], {
    "private-page-size": "2M",
  }),
  variant("tdx.io-in-vmm", "upstream, with devices in the VMM and virtio on its I/O thread", [], {
    devices: "vmm",
    virtio: "vmm",
  }),
  variant(
    "tdx.module-1.0",
    "upstream KVM on a TDX 1.0 module: S-EPT changes take the S-EPT tree exclusive",
    [],
    { "module-locks": "1.0" },
  ),
  variant("tdx.zap-retry", "upstream, but a busy private-zap SEAMCALL is retried in place", [], {
    "zap-busy": "retry",
  }),
  variant("tdx.no-module-locks", "what-if: a TDX module whose locks never contend", [], {
    "module-locks": "none",
  }),
];
