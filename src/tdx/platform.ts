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
 *   module zeroes the page as the ACCEPT completes. A SEAMCALL that finds the per-TD S-EPT
 *   lock held returns TDX_OPERAND_BUSY: KVM retries in the kernel, or re-enters the TD to
 *   refault; repeated entries without progress trigger the module's zero-step mitigation,
 *   which holds the S-EPT lock and so fails other vCPUs' SEAMCALLs.
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
import type { Flow } from "../host/thread.ts";
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
import { armTscDeadline, emulateIpi, notifyVirtio } from "../kvm/handlers.ts";
import { userspaceExit } from "../kvm/userspace.ts";
import type { Vcpu } from "../kvm/vcpu.ts";
import type { Vm } from "../kvm/vm.ts";
import { X86_COMMON_OPERATIONS, X86_COMMON_PRIMITIVES, X86_IO_CHOICES } from "../kvm/x86.ts";
import type { ResourceStats, RwLockMode } from "../engine/mod.ts";
import { TdState } from "./td.ts";

/**
 * Vendor callbacks KVM makes per exit round trip (prepare_switch_to_guest, run,
 * handle_exit_irqoff, handle_exit, sync_pir_to_irr, ...). Estimate from the shape of
 * vcpu_enter_guest(); it scales the C.7 dispatch cost.
 */
export const CALLS_PER_EXIT = 6;

/**
 * Entries without progress after which the module's zero-step mitigation engages.
 * Estimate: flows.md C.4 step 4 names the mechanism, not its threshold.
 */
export const ZERO_STEP_THRESHOLD = 6;

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

/** A TD's flows. */
class TdxVm implements PlatformVm {
  readonly #vm: Vm;
  readonly #td: TdState;
  readonly #mirror: boolean;
  readonly #localRetry: boolean;
  readonly #mapGpaInKernel: boolean;
  readonly #batchedZap: boolean;
  readonly #callPrim: number;
  readonly #huge: boolean;
  readonly #septLocked: boolean;
  readonly #devicesInKernel: boolean;
  readonly #notifyOnVcpuThread: boolean;
  /** vCPU whose entry the zero-step mitigation holds the S-EPT lock for (-1: none). */
  #zeroStepHolder = -1;
  /** The TD's MMIO region has its #VE mapping (after the first access). */
  #mmioInstalled = false;

  constructor(vm: Vm, choices: Record<string, string>) {
    this.#vm = vm;
    const sim = vm.vcpus[0].sim;
    this.#td = new TdState(sim, vm.name, vm.memory, vm.vcpus.length);
    this.#mirror = choices["sept-reads"] === "mirror";
    this.#localRetry = choices["fault-retry"] === "local";
    this.#mapGpaInKernel = choices.mapgpa === "kernel";
    this.#batchedZap = choices["private-zap"] === "batched";
    this.#callPrim = choices.dispatch === "ops-table" ? P.KVM_CALL_INDIRECT : P.KVM_CALL_BRANCH;
    this.#huge = choices["private-page-size"] === "2M";
    this.#septLocked = choices["sept-lock"] === "per-td";
    this.#devicesInKernel = choices.devices === "kernel";
    this.#notifyOnVcpuThread = choices.virtio === "vmm-vcpu";
    // A TD's memory starts private and unaccepted; its I/O goes through bounce buffers.
    vm.memory.pageFlags.fill(PAGE_PRIVATE);
    vm.bounceBuffers = true;
  }

  resources(): ResourceStats[] {
    return [this.#td.septLock.stats];
  }

  /** A TD exit (after the guest's TDCALL, for the exits a TDVMCALL causes). */
  exit(vcpu: Vcpu, kind: number): void {
    vcpu.countExit(TD_REASONS[kind]);
    if (kind !== EXIT_KIND.TDP_FAULT && kind !== EXIT_KIND.EXTERNAL && kind !== EXIT_KIND.TIMER) {
      vcpu.step(P["TDCALL(TDG.VP.VMCALL)"]);
    }
    vcpu.step(P.TD_EXIT);
    vcpu.step(P.KVM_EXIT_DISPATCH);
    vcpu.stepTimes(this.#callPrim, CALLS_PER_EXIT);
  }

  /** TDH.VP.ENTER, flushing the vCPU from its previous pCPU if it moved. */
  enter(vcpu: Vcpu): void {
    const last = this.#td.lastCpu[vcpu.index];
    if (last >= 0 && last !== vcpu.cpuId) {
      vcpu.step(P.KICK_SEND); // an IPI to the old pCPU, which runs TDH.VP.FLUSH
      vcpu.step(P["SEAMCALL(TDH.VP.FLUSH)"]);
    }
    this.#td.lastCpu[vcpu.index] = vcpu.cpuId;
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
        yield* this.#mmioReady(vcpu);
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
        yield* this.#mmioReady(vcpu);
        vcpu.step(P.GUEST_VE);
        this.exit(vcpu, EXIT_KIND.MMIO);
        yield* notifyVirtio(vcpu, vm, arg, this.#notifyOnVcpuThread);
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
        yield* this.#mapGpa(vcpu, arg, insn === INSN.MAP_GPA_SHARED);
        break;
      default:
        throw new Error(`${vcpu.name} cannot execute instruction ${insn}`);
    }
    if (vcpu.needResched) yield* vcpu.preempt();
    vcpu.enter();
  }

  /** The first MMIO access of the TD exits so KVM can map the region to raise #VE. */
  *#mmioReady(vcpu: Vcpu): Flow {
    if (this.#mmioInstalled) return;
    this.#mmioInstalled = true;
    this.exit(vcpu, EXIT_KIND.TDP_FAULT);
    vcpu.step(P.KVM_MMU_FAULT);
    if (vcpu.needResched) yield* vcpu.preempt();
    vcpu.enter();
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
    vcpu.step(P["TDCALL(TDG.MEM.PAGE.ACCEPT)"]);
    if ((memory.pageFlags[page] & PAGE_ACCEPTED) !== 0) return; // already accepted
    while (!memory.isMapped(page)) yield* this.#privateFault(vcpu, page, false);
    vcpu.step(P.TDX_PAGE_ZERO);
    memory.pageFlags[page] |= PAGE_ACCEPTED;
  }

  /** ACCEPT of a 2 MiB chunk: one 2 MiB leaf, or 512 4 KiB accepts if KVM maps 4 KiB only. */
  *#accept2m(vcpu: Vcpu, chunk: number): Flow {
    const memory = this.#vm.memory;
    const first = chunk * PAGES_PER_2M;
    const last = Math.min(first + PAGES_PER_2M, memory.pages);
    vcpu.step(P["TDCALL(TDG.MEM.PAGE.ACCEPT)"]);
    if (this.#huge && !this.#has4kLeaves(first, last)) {
      while (!memory.isMapped(first)) yield* this.#privateFault(vcpu, first, true);
      for (let page = first; page < last; page++) {
        if ((memory.pageFlags[page] & PAGE_ACCEPTED) !== 0) continue;
        vcpu.step(P.TDX_PAGE_ZERO);
        memory.pageFlags[page] |= PAGE_ACCEPTED;
      }
      return;
    }
    // KVM maps 4 KiB (or 4 KiB leaves are already there): the 2 MiB ACCEPT faults once,
    // gets a 4 KiB leaf, fails with a size mismatch, and the guest accepts 4 KiB at a time.
    while (!memory.isMapped(first)) yield* this.#privateFault(vcpu, first, false);
    for (let page = first; page < last; page++) yield* this.#accept4k(vcpu, page);
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
   * without mapping the page (the caller's ACCEPT faults again).
   */
  *#privateFault(vcpu: Vcpu, page: number, huge: boolean): Flow {
    const vm = this.#vm;
    const memory = vm.memory;
    this.exit(vcpu, EXIT_KIND.TDP_FAULT);
    vcpu.step(P.KVM_MMU_FAULT);
    yield* vcpu.waitOn(vm.mmuLock.read, P.WAIT_MMU_LOCK);
    let mapped = memory.isMapped(page); // another vCPU may have mapped it meanwhile
    if (!mapped) {
      yield* this.#walk(vcpu, huge ? WALK_2M : WALK_4K);
      const missing = this.#td.missingTables(page, huge);
      let ok = true;
      for (let level = 0; level < missing && ok; level++) {
        vcpu.step(P.PAGE_ALLOC);
        ok = yield* this.#septCall(vcpu, P["SEAMCALL(TDH.MEM.SEPT.ADD)"], this.#localRetry);
      }
      if (ok) {
        this.#td.addTables(page, huge);
        vcpu.step(P.PAGE_ALLOC);
        vcpu.stepTimes(P.PAGE_CLEAR, huge ? PAGES_PER_2M : 1);
        ok = yield* this.#septCall(vcpu, P["SEAMCALL(TDH.MEM.PAGE.AUG)"], this.#localRetry);
      }
      if (ok) {
        if (huge) memory.map2m(page);
        else memory.map4k(page);
        mapped = true;
      }
    }
    if (vcpu.lagCycles > 0) yield vcpu.lagCycles;
    vm.mmuLock.read.release();
    if (vcpu.needResched) yield* vcpu.preempt();
    if (mapped) {
      this.#td.noProgress[vcpu.index] = 0;
      if (this.#zeroStepHolder === vcpu.index) {
        this.#zeroStepHolder = -1; // the vCPU made progress: the module lets go
        this.#td.septLock.write.release();
      }
    } else if (++this.#td.noProgress[vcpu.index] >= ZERO_STEP_THRESHOLD) {
      // Re-entered without progress too often: on this entry the module's zero-step
      // mitigation takes the S-EPT lock and holds it until the vCPU's fault is resolved,
      // so every other vCPU's AUG and SEPT.ADD fails busy meanwhile.
      this.#td.noProgress[vcpu.index] = 0;
      yield* this.#takeSeptLock(vcpu, this.#td.septLock.write);
      vcpu.step(P.TDX_ZERO_STEP);
      this.#zeroStepHolder = vcpu.index;
    }
    vcpu.enter();
  }

  /**
   * Reads the levels of one S-EPT walk (C.5): from the mirror, or through SEAMCALLs, each
   * taking the S-EPT lock shared (so they fail busy while another vCPU changes the tree).
   */
  *#walk(vcpu: Vcpu, levels: number): Flow {
    if (this.#mirror) {
      vcpu.stepTimes(P.KVM_MIRROR_READ, levels);
      return;
    }
    for (let level = 0; level < levels; level++) {
      yield* this.#septCall(vcpu, P["SEAMCALL(TDH.MEM.SEPT.RD)"], true, true);
    }
  }

  /**
   * A SEAMCALL that takes the TD's S-EPT lock (exclusive, or `shared`) for its duration.
   * Busy (the lock is held): TDX_OPERAND_BUSY costs a short SEAMCALL and, with `retry`,
   * KVM retries until the call gets through; without, returns false for the caller to
   * re-enter and refault.
   */
  *#septCall(vcpu: Vcpu, prim: number, retry: boolean, shared = false): Flow<boolean> {
    if (!this.#septLocked || this.#zeroStepHolder === vcpu.index) {
      vcpu.step(prim);
      return true;
    }
    const mode = shared ? this.#td.septLock.read : this.#td.septLock.write;
    if (vcpu.lagCycles > 0) yield vcpu.lagCycles;
    if (!mode.tryAcquire(vcpu.process)) {
      if (!retry) {
        vcpu.step(P.SEAMCALL_BUSY);
        return false;
      }
      yield* this.#takeSeptLock(vcpu, mode);
    }
    vcpu.step(prim);
    if (vcpu.lagCycles > 0) yield vcpu.lagCycles; // hold the lock for the call's duration
    mode.release();
    return true;
  }

  /**
   * Retries a busy SEAMCALL until it gets `mode` of the S-EPT lock. The spinning is
   * simulated as a queued wait (one event, not one per retry) charged to SEPT_BUSY_RETRY,
   * after the first busy return.
   */
  *#takeSeptLock(vcpu: Vcpu, mode: RwLockMode): Flow {
    if (vcpu.lagCycles > 0) yield vcpu.lagCycles;
    if (mode.tryAcquire(vcpu.process)) return;
    vcpu.step(P.SEAMCALL_BUSY);
    yield* vcpu.waitOn(mode, P.SEPT_BUSY_RETRY);
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
    if (vcpu.needResched) yield* vcpu.preempt();
    vcpu.enter();
  }

  /** MapGPA of one 2 MiB chunk (C.6): through userspace, or handled in KVM. */
  *#mapGpa(vcpu: Vcpu, chunk: number, toShared: boolean): Flow {
    this.exit(vcpu, EXIT_KIND.HYPERCALL);
    vcpu.step(P.KVM_MAPGPA);
    if (this.#mapGpaInKernel) {
      yield* this.#setAttributes(vcpu, chunk, toShared);
      return;
    }
    vcpu.step(P.IOCTL_RET);
    vcpu.step(P.VMM_MAPGPA);
    yield* this.#setAttributes(vcpu, chunk, toShared); // the VMM's KVM_SET_MEMORY_ATTRIBUTES
    vcpu.step(P.IOCTL_ENTER);
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
    const others = vm.vcpus.filter((other) => other !== vcpu);
    if (toShared) {
      yield* this.#zapPrivate(vcpu, first, last, others);
    } else {
      let shared = 0;
      for (let page = first; page < last; page++) if (memory.isMapped(page)) shared++;
      if (shared > 0) {
        vcpu.stepTimes(P.KVM_ZAP, shared);
        yield* kickAndWait(others, vcpu); // remote TLB flush
      }
    }
    for (let page = first; page < last; page++) {
      memory.pageFlags[page] = toShared ? 0 : PAGE_PRIVATE; // unmapped and unaccepted
    }
    memory.regionFlags[chunk] &= ~REGION_HUGE;
    if (vcpu.lagCycles > 0) yield vcpu.lagCycles;
    vm.mmuLock.write.release();
    vm.slotsLock.release();
  }

  /**
   * Removes the private leaves of [first, last) (C.6): per leaf BLOCK, TRACK with an IPI
   * round to the running vCPUs, REMOVE, WBINVD and clear; or, batched, every BLOCK, one
   * TRACK and IPI round, then the removals.
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
      for (const [, pages] of leaves) {
        yield* this.#walk(vcpu, pages > 1 ? WALK_2M : WALK_4K);
        yield* this.#septCall(vcpu, P["SEAMCALL(TDH.MEM.RANGE.BLOCK)"], true);
      }
      yield* this.#track(vcpu, others);
      for (const [, pages] of leaves) yield* this.#remove(vcpu, pages);
      return;
    }
    for (const [, pages] of leaves) {
      yield* this.#walk(vcpu, pages > 1 ? WALK_2M : WALK_4K);
      yield* this.#septCall(vcpu, P["SEAMCALL(TDH.MEM.RANGE.BLOCK)"], true);
      yield* this.#track(vcpu, others);
      yield* this.#remove(vcpu, pages);
    }
  }

  /** TDH.MEM.TRACK, then an IPI round: every running vCPU exits before pages go. */
  *#track(vcpu: Vcpu, others: Vcpu[]): Flow {
    vcpu.step(P["SEAMCALL(TDH.MEM.TRACK)"]);
    yield* kickAndWait(others, vcpu);
  }

  /** Removes a blocked leaf of `pages` 4 KiB pages: REMOVE, WBINVD and clear each page. */
  *#remove(vcpu: Vcpu, pages: number): Flow {
    yield* this.#septCall(vcpu, P["SEAMCALL(TDH.MEM.PAGE.REMOVE)"], true);
    vcpu.stepTimes(P["SEAMCALL(TDH.PHYMEM.PAGE.WBINVD)"], pages);
    vcpu.stepTimes(P.PAGE_CLEAR, pages);
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
    id: "sept-lock",
    doc: "The module's per-TD secure-EPT lock (a what-if knob, not a real design choice)",
    options: {
      "per-td": "AUG, SEPT.ADD, BLOCK and REMOVE serialize per TD, as the module does",
      none: "an idealized module whose S-EPT changes never contend",
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
  "SEAMCALL(TDH.PHYMEM.PAGE.WBINVD)",
  "SEAMCALL_BUSY",
  "SEPT_BUSY_RETRY",
  "TDX_ZERO_STEP",
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
  "sept-lock": "per-td",
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
  variant("tdx.no-sept-lock", "what-if: a module whose S-EPT changes never contend", [], {
    "sept-lock": "none",
  }),
];
