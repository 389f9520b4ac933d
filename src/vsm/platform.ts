/**
 * Hyper-V VSM guests on KVM (flows.md section A), step by step. A VSM guest has two
 * Virtual Trust Levels per vCPU (VTL0, the normal OS; VTL1, the secure kernel), each with
 * its own registers, local APIC and view of memory (src/vsm/vtl.ts). Everything else is a
 * plain VMX guest: CPUID, port and MMIO accesses, timers and IPIs go through the VMX flows.
 *
 * Flows, per design choice:
 * - A.1 VTL call (VTL0 → VTL1 → VTL0), split S1:
 *   - `kernel` (D0): VMEXIT → KVM_VTL_SWITCH → KVM_MMU_VIEW_SWITCH + VMENTRY, and back;
 *   - `userspace` (D1/D2 as prototyped, two QEMU threads): IOCTL_RET, VTL0's state out,
 *     a hand-off to VTL1's thread, whose parked KVM_RUN returns (IOCTL_RET), VTL1's state
 *     out and back in, IOCTL_ENTER; the return mirrors it (src/vsm/vtl_thread.ts);
 *   - `userspace-minimal` (inferred): one thread; IOCTL_RET, only the private registers
 *     out and in, IOCTL_ENTER, and the memory view switched on entry;
 *   - `planes` (D3): one KVM_RUN thread picks the plane: IOCTL_RET, IOCTL_ENTER.
 * - A.2 interrupt for VTL1 while VTL0 runs (S5): KVM kicks the vCPU and switches before
 *   the next entry (`kernel`, `planes`, `userspace-minimal` after the VMM's signal); with
 *   two threads, VTL1's parked KVM_RUN wakes, signals VTL0's thread out, then the A.1 switch.
 * - A.3 protections (HvModifyVtlProtectionMask), split S2: `memslots` — the VMM pauses
 *   every vCPU, invalidates the memslot around the range (SRCU grace period, zap of all it
 *   mapped, remote flush) and creates the new ones (a second grace period), then resumes;
 *   `attributes` — KVM_SET_MEMORY_ATTRIBUTES: slots_lock, an xarray update per page, a
 *   targeted zap under mmu_lock and a remote flush. Both exit to the VMM under its BQL.
 * - A.4 secure intercept (VTL0 touches a page VTL1 protected), split S3: an EPT violation;
 *   `kernel` — KVM builds the message and raises VTL1's SINT; `userspace` — the memory-fault
 *   exit goes to the VMM, which reads VTL0's state and guest memory and builds the message;
 *   then the VTL switch, VTL1's handler and the return.
 * - A.5 cross-VTL hypercalls (an IPI to another vCPU's VTL1, Get/SetVpRegisters), split
 *   S4: handled in KVM, or a round trip to the VMM (with a state sync for registers).
 *
 * Modelling choices: operations VTL1 issues (`protect`, `vtl-ipi`, `vtl-get-registers`)
 * run on the vCPU's thread in every design (with two threads they would run on VTL1's,
 * which moves their time between thread accounts, not their latency). VTL exits other than
 * protections are handled without the VMM's BQL.
 *
 * Huge pages: with 2 MiB host pages, a fault in a 2 MiB region whose pages all have the same
 * access in VTL0's view maps the region with one leaf (in place of any 4 KiB leaves there);
 * a region with mixed access maps 4 KiB (KVM's lpage_info MIXED, or a memslot edge inside
 * it), and a protection that changes part of a 2 MiB leaf zaps the whole leaf. Whether
 * VTL0's mixed regions also cost VTL1 its huge pages is the `vtl-memslots` choice. VTL1's
 * own EPT is not faulted in step by step: a memory workload in VTL1 finds it mapped, 2 MiB
 * where its hugepage tracking allows.
 *
 * @module
 */

import { Signal } from "../engine/mod.ts";
import { EXIT } from "../host/exit_reasons.ts";
import { PAGE_MAPPED, PAGES_PER_2M } from "../host/memory.ts";
import { P, type PrimitiveName } from "../host/primitives.ts";
import type { Flow, HostThread } from "../host/thread.ts";
import { kickAndWait } from "../kvm/kick.ts";
import {
  type ChoiceSpec,
  type DesignSpec,
  EXIT_KIND,
  INSN,
  type PlatformSpec,
  type PlatformVm,
} from "../kvm/platform.ts";
import { STATE_SYNC_IOCTLS } from "../kvm/userspace.ts";
import type { Vcpu } from "../kvm/vcpu.ts";
import type { Vm } from "../kvm/vm.ts";
import { VMX_PLATFORM, X86_COMMON_OPERATIONS, X86_IO_CHOICES } from "../kvm/x86.ts";
import { INSTANT_EXIT } from "../report/timeline.ts";
import { BASE_MEMSLOTS, MemslotMap } from "./memslots.ts";
import { PageCounts, type PageTest } from "./page_counts.ts";
import {
  ACCESS_CODE,
  ACCESS_DATA,
  ACCESS_READ,
  ACCESS_WRITE,
  VTL0,
  VTL1,
  VTL_IRQ_IPI,
  VtlState,
} from "./vtl.ts";
import {
  PROTOTYPE_IOCTLS,
  type Vtl1Runner,
  VtlThread,
  WORK_CALL,
  WORK_INTERCEPT,
  WORK_INTERRUPT,
  WORK_MEMORY,
} from "./vtl_thread.ts";

export { PROTOTYPE_IOCTLS } from "./vtl_thread.ts";

/**
 * ioctls of a minimal userspace switch, each way (flows.md A.1 says 4-6, inferred): the
 * outgoing VTL's private registers out (KVM_GET_REGS, _SREGS, _MSRS) and the incoming VTL's
 * in (KVM_SET_REGS, _SREGS, _MSRS) — the groups the VTL-private registers (vtl.ts) fall in.
 */
export const MINIMAL_IOCTLS = { get: 3, put: 3 } as const;

/**
 * Guest-memory reads the VMM makes to build an intercept message (S3 userspace): a 4-level
 * walk of VTL0's page tables to translate RIP, then the instruction bytes. Estimate.
 */
export const INTERCEPT_GUEST_READS = 5;

/** Length of VMCALL (0f 01 c1): a completed hypercall moves RIP past it. */
const VMCALL_BYTES = 3;
/** Length of the store VTL1 emulates for an intercepted write (a MOV to memory). */
const STORE_BYTES = 3;

/**
 * Pages of VTL0 kernel code VTL1 locks read-execute at boot (HVCI), at the top of guest
 * memory: 16 MiB, about a Windows kernel's and boot drivers' code; an eighth of a smaller
 * guest. `secure-touch` writes these.
 */
export const LOCKED_CODE_PAGES = 4096;

/** Memslot-tree levels when protections do not fragment memslots. */
const BASE_LOOKUP_LEVELS = 32 - Math.clz32(BASE_MEMSLOTS - 1);

const SWITCH_KERNEL = 0;
const SWITCH_USERSPACE = 1;
const SWITCH_MINIMAL = 2;
const SWITCH_PLANES = 3;
const SWITCHES: Record<string, number> = {
  kernel: SWITCH_KERNEL,
  userspace: SWITCH_USERSPACE,
  "userspace-minimal": SWITCH_MINIMAL,
  planes: SWITCH_PLANES,
};

/** A VSM guest's flows. */
export class VsmVm implements PlatformVm, Vtl1Runner {
  /** The VTLs' registers, interrupts and memory views. */
  readonly vtls: VtlState;
  readonly #vm: Vm;
  /** The plain VMX flows, for everything VTL-agnostic. */
  readonly #x86: PlatformVm;
  readonly #switch: number;
  readonly #memslots: MemslotMap | undefined;
  readonly #kernelIntercepts: boolean;
  readonly #kernelHypercalls: boolean;
  /** One KVM vCPU runs both VTLs, so entering the other VTL loads its memory view. */
  readonly #viewSwitchOnEntry: boolean;
  /** Pages mapped in VTL0's EPT, counted per region to find them fast. */
  readonly #mapped: PageCounts;
  readonly #isMapped: PageTest;
  /** VTL1's VMM thread per vCPU (two-thread userspace design only). */
  #threads: VtlThread[] = [];
  /** Memory view whose MMU root each vCPU has loaded. */
  readonly #loadedView: Uint8Array;
  /** 1 while a vCPU switches to VTL1, runs it or returns from it. */
  readonly #busy: Uint8Array;
  /** Every other vCPU of the VM, per vCPU (kick targets). */
  readonly #others: Vcpu[][];
  /** The VMM has paused every vCPU (for a memslot change). */
  #paused = false;
  readonly #held: Vcpu[] = [];
  readonly #resume: Signal[];
  /** vCPUs waiting for a cross-VTL IPI to reach each target's VTL1. */
  readonly #ipiSenders: Vcpu[][];
  /** First page of the locked kernel code; pages below it are what `protect` changes. */
  readonly #lockedFirst: number;
  readonly #protectNext: Float64Array;
  readonly #protectCount: Float64Array;
  readonly #lockedNext: Float64Array;
  /** 2 MiB host pages back guest memory, so whole regions can be one EPT leaf. */
  readonly #host2m: boolean;
  /** Each VTL tracks its own hugepage state (its own memslots); else VTL0's mixes VTL1's. */
  readonly #perVtlSlots: boolean;
  /** Per 2 MiB region: 1 when VTL0's view has mixed access there (or it is cut short). */
  readonly #mixed: Uint8Array;
  /** VTL1 accesses to do in the next WORK_MEMORY stint, per vCPU: [access, walk] cycles. */
  readonly #vtl1Batch: Float64Array;

  constructor(vm: Vm, choices: Record<string, string>) {
    this.#vm = vm;
    this.#x86 = VMX_PLATFORM.createVm(vm, choices);
    const pages = vm.memory.pages;
    const vcpus = vm.vcpus.length;
    this.vtls = new VtlState(vcpus, pages);
    this.#switch = SWITCHES[choices["vtl-switch"]];
    this.#kernelIntercepts = choices.intercepts === "kernel";
    this.#kernelHypercalls = choices["vtl-hypercalls"] === "kernel";
    this.#viewSwitchOnEntry = this.#switch === SWITCH_KERNEL || this.#switch === SWITCH_MINIMAL;
    const locked = Math.max(1, Math.min(LOCKED_CODE_PAGES, Math.floor(pages / 8)));
    this.#lockedFirst = pages - locked;
    this.vtls.views[VTL0].fill(ACCESS_CODE, this.#lockedFirst);
    this.#memslots = choices.protections === "memslots"
      ? new MemslotMap(this.vtls.views[VTL0])
      : undefined;
    this.#mapped = new PageCounts(pages);
    const flags = vm.memory.pageFlags;
    this.#isMapped = (page) => (flags[page] & PAGE_MAPPED) !== 0;
    this.#loadedView = new Uint8Array(vcpus);
    this.#busy = new Uint8Array(vcpus);
    this.#others = vm.vcpus.map((vcpu) => vm.vcpus.filter((other) => other !== vcpu));
    this.#resume = vm.vcpus.map(() => new Signal());
    this.#ipiSenders = vm.vcpus.map(() => []);
    this.#protectNext = new Float64Array(vcpus).fill(-1);
    this.#protectCount = new Float64Array(vcpus);
    this.#lockedNext = new Float64Array(vcpus);
    this.#host2m = vm.spec.hostPageSize === "2M";
    // Memslot protections are per-VTL slots by construction (VTL0's view is its own slots).
    this.#perVtlSlots = choices["vtl-memslots"] !== "shared" || this.#memslots !== undefined;
    this.#mixed = new Uint8Array(Math.ceil(pages / PAGES_PER_2M)).fill(1);
    // Without 2 MiB host pages nothing is ever one leaf: no need to track mixed regions.
    if (this.#host2m) this.#updateMixed(0, pages);
    this.#vtl1Batch = new Float64Array(2 * vcpus);
  }

  /** Recomputes the mixed flag of every region [first, last) touches. */
  #updateMixed(first: number, last: number): void {
    if (!this.#host2m) return;
    const view = this.vtls.views[VTL0];
    const pages = view.length;
    for (let region = Math.floor(first / PAGES_PER_2M); region * PAGES_PER_2M < last; region++) {
      const lo = region * PAGES_PER_2M;
      const hi = lo + PAGES_PER_2M;
      let mixed = hi > pages ? 1 : 0;
      for (let page = lo + 1; page < hi && mixed === 0; page++) {
        if (view[page] !== view[lo]) mixed = 1;
      }
      if (this.#mixed[region] !== mixed) {
        this.#mixed[region] = mixed;
        this.#vm.memory.noteChange(lo); // what VTL1's tables can map changed
      }
    }
  }

  hugeRegion(region: number, vtl: number): boolean {
    if (vtl === VTL0) return this.#vm.memory.isHuge(region * PAGES_PER_2M);
    return this.#host2m && (this.#perVtlSlots || this.#mixed[region] === 0);
  }

  pageReady(page: number, vtl: number): boolean {
    if (vtl !== VTL0) return true; // VTL1's EPT is taken as mapped (see the module doc)
    return (this.vtls.views[VTL0][page] & ACCESS_READ) !== 0 && this.#vm.memory.isMapped(page);
  }

  /** A memory workload's batch in VTL1: a VTL call whose work is the accesses. */
  *runInVtl(vcpu: Vcpu, vtl: number, accessCycles: number, walkCycles: number): Flow {
    if (vtl !== VTL1) throw new Error(`${vcpu.name}: a VSM guest has no VTL ${vtl}`);
    this.#vtl1Batch[2 * vcpu.index] = accessCycles;
    this.#vtl1Batch[2 * vcpu.index + 1] = walkCycles;
    this.exit(vcpu, EXIT_KIND.HYPERCALL);
    yield* this.#runVtl1Stint(vcpu, WORK_MEMORY, false);
    yield* this.#reenter(vcpu);
  }

  /** The memslots of VTL0's view (memslot protections only). */
  get memslots(): MemslotMap | undefined {
    return this.#memslots;
  }

  hostThreads(spawn: (name: string) => HostThread): { thread: HostThread; body: Flow }[] {
    if (this.#switch !== SWITCH_USERSPACE) return [];
    this.#threads = this.#vm.vcpus.map((vcpu) =>
      new VtlThread(spawn(`${vcpu.name}-vtl1`), vcpu, this)
    );
    return this.#threads.map((vtl) => ({ thread: vtl.thread, body: vtl.run() }));
  }

  exit(vcpu: Vcpu, kind: number): void {
    this.#x86.exit(vcpu, kind);
  }

  enter(vcpu: Vcpu): void {
    this.#loadView(vcpu, vcpu);
    vcpu.step(P.VMENTRY);
  }

  *execute(vcpu: Vcpu, insn: number, arg: number): Flow {
    switch (insn) {
      case INSN.VTL_CALL:
        this.exit(vcpu, EXIT_KIND.HYPERCALL);
        yield* this.#runVtl1Stint(vcpu, WORK_CALL, false);
        break;
      case INSN.VTL_PROTECT:
        yield this.#protect(vcpu, arg);
        break;
      case INSN.SECURE_WRITE:
        yield* this.#access(vcpu, arg >= 0 ? arg : this.#nextLocked(vcpu), ACCESS_WRITE);
        return;
      case INSN.MEM_TOUCH:
        yield* this.#access(vcpu, arg, ACCESS_READ);
        return;
      case INSN.VTL_IPI:
        yield* this.#vtlIpi(vcpu, arg);
        break;
      case INSN.VTL_GET_REGISTERS:
        this.#getRegisters(vcpu);
        break;
      case INSN.ACCEPT_4K:
      case INSN.ACCEPT_2M:
      case INSN.MAP_GPA_SHARED:
      case INSN.MAP_GPA_PRIVATE:
        throw new Error(`${vcpu.name}: a VSM guest has no private memory (instruction ${insn})`);
      default:
        yield* this.#x86.execute(vcpu, insn, arg); // VTL-agnostic: the VMX flows
        return;
    }
    yield* this.#reenter(vcpu);
  }

  /**
   * Host work asked of a vCPU: a hold while the VMM has paused the VM, and the switch to
   * VTL1 for an interrupt that arrived while VTL0 ran (A.2).
   */
  *hostWork(vcpu: Vcpu): Flow {
    if (this.#paused) yield* this.#hold(vcpu);
    const i = vcpu.index;
    if (this.#busy[i] !== 0 || this.vtls.active[i] !== VTL0) return;
    const wanted = this.#switch === SWITCH_USERSPACE
      ? this.#threads[i].awaitingHandOver
      : this.vtls.pending(i, VTL1) !== 0;
    if (wanted) yield* this.#runVtl1Stint(vcpu, WORK_INTERRUPT, false);
  }

  /** Back to VTL0's guest: pending host work, a reschedule point, the entry. */
  *#reenter(vcpu: Vcpu): Flow {
    if (vcpu.hostWork) {
      vcpu.hostWork = false;
      yield* this.hostWork(vcpu);
    }
    if (vcpu.needResched) yield* vcpu.preempt();
    vcpu.enter();
  }

  // ---- A.1 / A.2: a stint in VTL1 ----------------------------------------------------

  /**
   * Switches `vcpu` from VTL0 to VTL1, lets VTL1 do `work` and take its interrupts, and
   * switches back, as the design does it; the caller then re-enters VTL0. Starts after
   * VTL0's exit (a hypercall, an EPT violation, a kick), in KVM, or in the VMM when
   * `inVmm` (the VMM already handled the exit).
   */
  *#runVtl1Stint(vcpu: Vcpu, work: number, inVmm: boolean): Flow {
    const i = vcpu.index;
    this.#busy[i] = 1;
    switch (this.#switch) {
      case SWITCH_KERNEL:
        if (inVmm) vcpu.step(P.IOCTL_ENTER); // the VMM asks KVM to run VTL1
        vcpu.step(P.KVM_VTL_SWITCH);
        this.enterVtl1(vcpu, vcpu, work);
        yield* this.runVtl1(vcpu, vcpu, work);
        this.exitVtl1(vcpu, vcpu);
        vcpu.step(P.KVM_VTL_SWITCH);
        break;
      case SWITCH_MINIMAL:
        if (!inVmm) vcpu.step(P.IOCTL_RET);
        this.#minimalSwitch(vcpu);
        this.enterVtl1(vcpu, vcpu, work);
        yield* this.runVtl1(vcpu, vcpu, work);
        this.exitVtl1(vcpu, vcpu);
        vcpu.step(P.IOCTL_RET);
        this.#minimalSwitch(vcpu);
        break;
      case SWITCH_PLANES:
        if (!inVmm) vcpu.step(P.IOCTL_RET);
        vcpu.step(P.VMM_VTL_SWITCH);
        vcpu.step(P.IOCTL_ENTER); // KVM_RUN on VTL1's plane
        this.enterVtl1(vcpu, vcpu, work);
        yield* this.runVtl1(vcpu, vcpu, work);
        this.exitVtl1(vcpu, vcpu);
        vcpu.step(P.IOCTL_RET);
        vcpu.step(P.VMM_VTL_SWITCH);
        vcpu.step(P.IOCTL_ENTER); // KVM_RUN on VTL0's plane
        break;
      case SWITCH_USERSPACE: {
        const vtl1 = this.#threads[i];
        if (!inVmm) vcpu.step(P.IOCTL_RET);
        vcpu.step(P.VMM_VTL_SWITCH);
        vcpu.stepTimes(P.STATE_SYNC_GET, PROTOTYPE_IOCTLS.callVtl0Get);
        vcpu.step(P.THREAD_HANDOFF);
        if (vcpu.lagCycles > 0) yield vcpu.lagCycles;
        vtl1.handOver(work);
        yield* vcpu.sleep(vtl1.returned, P.WAIT_HANDOFF); // VTL1 runs on its own thread
        vcpu.stepTimes(P.STATE_SYNC_PUT, PROTOTYPE_IOCTLS.returnVtl0Put);
        vcpu.step(P.IOCTL_ENTER);
        vcpu.loadVcpu(vcpu); // VTL0's KVM vCPU again
        break;
      }
    }
    this.#busy[i] = 0;
  }

  /** A minimal userspace switch: the outgoing VTL's private registers out, the other's in. */
  #minimalSwitch(vcpu: Vcpu): void {
    vcpu.step(P.VMM_VTL_SWITCH);
    vcpu.stepTimes(P.STATE_SYNC_GET, MINIMAL_IOCTLS.get);
    vcpu.stepTimes(P.STATE_SYNC_PUT, MINIMAL_IOCTLS.put);
    vcpu.step(P.IOCTL_ENTER);
  }

  vtl1Pending(vcpu: Vcpu): boolean {
    return this.vtls.pending(vcpu.index, VTL1) !== 0;
  }

  enterVtl1(thread: HostThread, vcpu: Vcpu, work: number): void {
    this.vtls.activate(vcpu.index, VTL1);
    // An intercept arrives as a SynIC interrupt; a call needs no injection.
    if ((work !== WORK_CALL && work !== WORK_MEMORY) || this.vtls.pending(vcpu.index, VTL1) !== 0) {
      thread.step(P.KVM_INJECT_IRQ);
    }
    this.#loadView(thread, vcpu);
    thread.step(P.VMENTRY);
  }

  *runVtl1(thread: HostThread, vcpu: Vcpu, work: number): Flow {
    const i = vcpu.index;
    if (work === WORK_CALL) {
      thread.step(P.GUEST_SECURE_CALL);
      this.vtls.advanceRip(i, VTL0, VMCALL_BYTES); // VTL0 resumes after its VMCALL
    } else if (work === WORK_INTERCEPT) {
      thread.step(P.GUEST_SECURE_INTERCEPT);
      this.vtls.advanceRip(i, VTL0, STORE_BYTES); // VTL1 completed VTL0's store for it
    } else if (work === WORK_MEMORY) {
      thread.stepCycles(P.GUEST, this.#vtl1Batch[2 * i]);
      thread.stepCycles(P.TLB_WALK, this.#vtl1Batch[2 * i + 1]);
      this.vtls.advanceRip(i, VTL0, VMCALL_BYTES); // it was a secure call
    }
    // VTL1 takes the interrupts pending for it before it returns to VTL0.
    for (;;) {
      if (thread.lagCycles > 0) yield thread.lagCycles;
      const irq = this.vtls.take(i, VTL1);
      if (irq === 0) return;
      thread.step(P.GUEST_ISR);
      if (irq === VTL_IRQ_IPI) {
        if (thread.lagCycles > 0) yield thread.lagCycles; // the acknowledgement is a store
        const senders = this.#ipiSenders[i];
        for (const sender of senders) sender.ipiAck.set();
        senders.length = 0;
      }
    }
  }

  exitVtl1(thread: HostThread, vcpu: Vcpu): void {
    // HvCallVtlReturn is a VMCALL of VTL1's.
    if (thread === vcpu) {
      this.exit(vcpu, EXIT_KIND.HYPERCALL);
    } else {
      vcpu.exitCounts[EXIT.VMCALL]++;
      thread.timeline?.instant(thread.lane, INSTANT_EXIT, EXIT.VMCALL, thread.cursorCycles);
      thread.step(P.VMEXIT);
      thread.step(P.KVM_EXIT_DISPATCH);
    }
    this.vtls.advanceRip(vcpu.index, VTL1, VMCALL_BYTES);
    this.vtls.activate(vcpu.index, VTL0);
  }

  /** With one KVM vCPU for both VTLs, entering the other VTL loads its memory view. */
  #loadView(thread: HostThread, vcpu: Vcpu): void {
    if (!this.#viewSwitchOnEntry) return;
    const vtl = this.vtls.active[vcpu.index];
    if (this.#loadedView[vcpu.index] === vtl) return;
    thread.step(P.KVM_MMU_VIEW_SWITCH);
    this.#loadedView[vcpu.index] = vtl;
  }

  /**
   * Makes interrupt `irq` pending for VTL1 of `target` and gets VTL0 out of the way (A.2):
   * KVM kicks the vCPU, or, with two threads, wakes VTL1's parked KVM_RUN. A vCPU already
   * in or on its way to VTL1 takes it before it returns.
   */
  #raiseVtl1(target: Vcpu, irq: number, by: HostThread): void {
    const i = target.index;
    this.vtls.raise(i, VTL1, irq);
    if (this.#busy[i] !== 0 || this.vtls.active[i] !== VTL0) return;
    if (this.#switch === SWITCH_USERSPACE) {
      this.#threads[i].interrupt(by);
      return;
    }
    // VTL1's local APIC is the VMM's: it signals the vCPU's thread out of KVM_RUN.
    if (this.#switch === SWITCH_MINIMAL) by.step(P.THREAD_HANDOFF);
    target.requestHostWork(by);
  }

  // ---- A.5: cross-VTL hypercalls ----------------------------------------------------

  /** VTL1 sends an interrupt to VTL1 of vCPU `target` (HvCallSendSyntheticClusterIpi). */
  *#vtlIpi(vcpu: Vcpu, target: number): Flow {
    this.exit(vcpu, EXIT_KIND.HYPERCALL);
    const to = this.#vm.vcpus[target];
    if (this.#kernelHypercalls) {
      vcpu.step(P.KVM_HYPERCALL);
      vcpu.step(P.KVM_IPI_SEND);
      if (vcpu.lagCycles > 0) yield vcpu.lagCycles;
      this.#ipiSenders[target].push(vcpu);
      this.#raiseVtl1(to, VTL_IRQ_IPI, vcpu);
      return;
    }
    vcpu.step(P.IOCTL_RET);
    vcpu.step(P.VMM_HYPERCALL);
    if (vcpu.lagCycles > 0) yield vcpu.lagCycles;
    this.#ipiSenders[target].push(vcpu);
    this.#raiseVtl1(to, VTL_IRQ_IPI, vcpu);
    vcpu.step(P.IOCTL_ENTER);
  }

  /** VTL1 reads VTL0's registers (HvCallGetVpRegisters with a target VTL). */
  #getRegisters(vcpu: Vcpu): void {
    this.exit(vcpu, EXIT_KIND.HYPERCALL);
    if (this.#kernelHypercalls) {
      vcpu.step(P.KVM_HYPERCALL); // KVM reads VTL0's saved private state
      return;
    }
    vcpu.step(P.IOCTL_RET);
    vcpu.step(P.VMM_HYPERCALL);
    vcpu.stepTimes(P.STATE_SYNC_GET, STATE_SYNC_IOCTLS); // VTL0's state, through ioctls
    vcpu.step(P.IOCTL_ENTER);
  }

  // ---- memory: faults and A.4 secure intercepts ---------------------------------------

  /** VTL0 accesses `page` (`access`: read or write). */
  *#access(vcpu: Vcpu, page: number, access: number): Flow {
    if ((this.vtls.views[VTL0][page] & access) === 0) {
      yield* this.#secureIntercept(vcpu);
      return;
    }
    if (this.#vm.memory.isMapped(page)) return; // mapped with this access: no exit
    yield* this.#fault(vcpu, page);
  }

  /** A TDP fault on an allowed access: map the page in VTL0's EPT. */
  *#fault(vcpu: Vcpu, page: number): Flow {
    const vm = this.#vm;
    this.exit(vcpu, EXIT_KIND.TDP_FAULT);
    vcpu.step(P.KVM_MMU_FAULT);
    if (vcpu.lagCycles > 0) yield vcpu.lagCycles;
    const reader = vm.srcu.readLock(); // memslots are read under kvm->srcu
    this.#lookup(vcpu);
    yield* vcpu.waitOn(vm.mmuLock.read, P.WAIT_MMU_LOCK);
    if (!vm.memory.isMapped(page)) {
      const region = Math.floor(page / PAGES_PER_2M);
      if (this.#host2m && this.#mixed[region] === 0) {
        // One 2 MiB leaf, in place of any 4 KiB leaves the region had (a promotion).
        const first = region * PAGES_PER_2M;
        let missing = 0;
        for (let p = first; p < first + PAGES_PER_2M; p++) if (!vm.memory.isMapped(p)) missing++;
        vcpu.step(P.PAGE_ALLOC);
        vcpu.stepTimes(P.PAGE_CLEAR, missing);
        if (vcpu.lagCycles > 0) yield vcpu.lagCycles;
        for (let p = first; p < first + PAGES_PER_2M; p++) {
          if (vm.memory.map4k(p) === 1) this.#mapped.add(p, 1);
        }
        vm.memory.map2m(first);
      } else {
        vcpu.step(P.PAGE_ALLOC);
        vcpu.step(P.PAGE_CLEAR);
        if (vcpu.lagCycles > 0) yield vcpu.lagCycles;
        vm.memory.map4k(page);
        this.#mapped.add(page, 1);
      }
    } else if (vcpu.lagCycles > 0) {
      yield vcpu.lagCycles;
    }
    vm.mmuLock.read.release();
    vm.srcu.readUnlock(reader);
    yield* this.#reenter(vcpu);
  }

  /**
   * VTL0 touched a page its view forbids (A.4): an EPT violation becomes a secure intercept
   * message for VTL1, built in KVM or in the VMM, and VTL1 handles it before VTL0 resumes.
   */
  *#secureIntercept(vcpu: Vcpu): Flow {
    this.exit(vcpu, EXIT_KIND.TDP_FAULT);
    vcpu.step(P.KVM_MMU_FAULT);
    this.#lookup(vcpu);
    if (this.#kernelIntercepts) {
      vcpu.step(P.KVM_SYNIC_MESSAGE);
      yield* this.#runVtl1Stint(vcpu, WORK_INTERCEPT, false);
    } else {
      vcpu.step(P.IOCTL_RET); // KVM_EXIT_MEMORY_FAULT, with RWX flags and instruction length
      vcpu.stepTimes(P.STATE_SYNC_GET, STATE_SYNC_IOCTLS); // VTL0's registers for the message
      vcpu.stepTimes(P.VMM_GUEST_READ, INTERCEPT_GUEST_READS);
      vcpu.step(P.VMM_INTERCEPT);
      yield* this.#runVtl1Stint(vcpu, WORK_INTERCEPT, true);
    }
    yield* this.#reenter(vcpu);
  }

  /** Memslot lookup levels (the tree grows with fragmentation). */
  #lookup(thread: HostThread): void {
    thread.stepTimes(P.MEMSLOT_LOOKUP, this.#memslots?.lookupLevels ?? BASE_LOOKUP_LEVELS);
  }

  // ---- A.3: protections ---------------------------------------------------------------

  /**
   * VTL1 changes VTL0's access to its next `pages` pages (HvModifyVtlProtectionMask),
   * alternating code (read-execute) and data (read-write). The VMM carries the change
   * out under its BQL: as memslot edits or as memory attributes.
   */
  *#protect(vcpu: Vcpu, pages: number): Flow {
    const vm = this.#vm;
    const i = vcpu.index;
    const first = this.#nextProtected(vcpu, pages);
    const last = Math.min(first + pages, this.#lockedFirst);
    const access = this.#protectCount[i]++ % 2 === 0 ? ACCESS_CODE : ACCESS_DATA;
    this.exit(vcpu, EXIT_KIND.HYPERCALL);
    vcpu.step(P.IOCTL_RET);
    yield* vcpu.waitOn(vm.vmmLock, P.WAIT_VMM_LOCK);
    vcpu.step(P.VMM_PROTECT);
    if (this.#memslots !== undefined) yield this.#protectBySlots(vcpu, first, last, access);
    else yield this.#protectByAttributes(vcpu, first, last, access);
    if (vcpu.lagCycles > 0) yield vcpu.lagCycles;
    vm.vmmLock.release();
    vcpu.step(P.IOCTL_ENTER);
  }

  /** True when some page of [first, last) does not have `access` yet. */
  #changes(first: number, last: number, access: number): boolean {
    const view = this.vtls.views[VTL0];
    for (let page = first; page < last; page++) if (view[page] !== access) return true;
    return false;
  }

  /**
   * KVM_SET_MEMORY_ATTRIBUTES for VTL0's view (D1/D2): under slots_lock, an xarray update
   * per page, then under mmu_lock a zap of the pages mapped with more access than they now
   * have, and a remote TLB flush if any was.
   */
  *#protectByAttributes(vcpu: Vcpu, first: number, last: number, access: number): Flow {
    const vm = this.#vm;
    yield* vcpu.waitOn(vm.slotsLock, P.WAIT_SLOTS_LOCK);
    vcpu.step(P.KVM_SET_ATTRIBUTES);
    if (this.#changes(first, last, access)) {
      vcpu.stepTimes(P.XA_OP, last - first);
      yield* vcpu.waitOn(vm.mmuLock.write, P.WAIT_MMU_LOCK);
      const zapped = this.#zap(first, last, access);
      if (zapped > 0) {
        vcpu.stepTimes(P.KVM_ZAP, zapped);
        yield kickAndWait(this.#others[vcpu.index], vcpu); // remote TLB flush
      }
      this.vtls.views[VTL0].fill(access, first, last);
      this.#updateMixed(first, last);
      if (vcpu.lagCycles > 0) yield vcpu.lagCycles;
      vm.mmuLock.write.release();
    } else if (vcpu.lagCycles > 0) {
      yield vcpu.lagCycles;
    }
    vm.slotsLock.release();
  }

  /**
   * Memslot edits (D0): pause every vCPU, invalidate the slots holding the range (an SRCU
   * grace period, a zap of everything they mapped, a remote flush), create the new slots
   * (a second grace period), resume. A flat view that does not change issues no ioctl.
   */
  *#protectBySlots(vcpu: Vcpu, first: number, last: number, access: number): Flow {
    if (!this.#changes(first, last, access)) return;
    const vm = this.#vm;
    const slots = this.#memslots!;
    yield this.#pauseAll(vcpu);
    yield* vcpu.waitOn(vm.slotsLock, P.WAIT_SLOTS_LOCK);
    // Invalidate (and delete) the old slots: KVM zaps every mapping they had.
    const start = slots.slotStart(first);
    const end = slots.slotEnd(last - 1);
    vcpu.step(P.KVM_SET_MEMSLOT);
    this.#lookup(vcpu);
    yield* this.#srcuSync(vcpu);
    yield* vcpu.waitOn(vm.mmuLock.write, P.WAIT_MMU_LOCK);
    const zapped = this.#zap(start, end, -1);
    if (zapped > 0) {
      vcpu.stepTimes(P.KVM_ZAP, zapped);
      yield kickAndWait(this.#others[vcpu.index], vcpu); // paused vCPUs acknowledge at once
    }
    if (vcpu.lagCycles > 0) yield vcpu.lagCycles;
    vm.mmuLock.write.release();
    // Create the slots of the new layout.
    slots.beforeChange(first, last);
    this.vtls.views[VTL0].fill(access, first, last);
    slots.afterChange(first, last);
    this.#updateMixed(first, last);
    vcpu.step(P.KVM_SET_MEMSLOT);
    this.#lookup(vcpu);
    yield* this.#srcuSync(vcpu);
    vm.slotsLock.release();
    yield this.#resumeAll(vcpu);
  }

  /**
   * Unmaps the mapped pages of [first, last) in VTL0's EPT, except those whose access
   * already is `keep` (-1: unmap all); a page under a 2 MiB leaf takes the whole leaf (and
   * every page of its region) with it. Returns the leaves zapped.
   */
  #zap(first: number, last: number, keep: number): number {
    const memory = this.#vm.memory;
    const view = this.vtls.views[VTL0];
    let zapped = 0;
    for (
      let page = this.#mapped.next(first, last, this.#isMapped);
      page >= 0;
      page = this.#mapped.next(page + 1, last, this.#isMapped)
    ) {
      if (view[page] === keep) continue;
      zapped++;
      if (!memory.isHuge(page)) {
        memory.unmap4k(page);
        this.#mapped.add(page, -1);
        continue;
      }
      const region = page - (page % PAGES_PER_2M);
      for (let p = region; p < region + PAGES_PER_2M; p++) {
        if (memory.unmap4k(p) === 1) this.#mapped.add(p, -1);
      }
      memory.splitRegion(region);
      page = Math.max(page, Math.min(last, region + PAGES_PER_2M) - 1);
    }
    return zapped;
  }

  /** synchronize_srcu_expedited on kvm->srcu: its own work, then the wait for readers. */
  *#srcuSync(vcpu: Vcpu): Flow {
    vcpu.step(P.SRCU_SYNC);
    if (vcpu.lagCycles > 0) yield vcpu.lagCycles;
    yield* vcpu.waitOn(this.#vm.srcu.gracePeriod(), P.WAIT_SRCU);
  }

  /**
   * The VMM pauses every other vCPU (QEMU's pause_all_vcpus): each is signalled out of
   * KVM_RUN and held in userspace until {@linkcode #resumeAll}; the pauser waits until
   * every one has left guest mode.
   */
  *#pauseAll(vcpu: Vcpu): Flow {
    this.#paused = true;
    const others = this.#others[vcpu.index];
    for (const other of others) other.hostWork = true;
    yield kickAndWait(others, vcpu);
  }

  /** A paused vCPU: KVM_RUN returned for the VMM's signal; it waits to be resumed. */
  *#hold(vcpu: Vcpu): Flow {
    vcpu.step(P.IOCTL_RET);
    this.#held.push(vcpu);
    yield* vcpu.sleep(this.#resume[vcpu.index], P.WAIT_PAUSED);
    vcpu.step(P.IOCTL_ENTER);
    vcpu.loadVcpu(vcpu);
  }

  /** resume_all_vcpus: wake every held vCPU thread. */
  *#resumeAll(vcpu: Vcpu): Flow {
    this.#paused = false;
    for (const held of this.#held) {
      vcpu.step(P.THREAD_HANDOFF);
      if (vcpu.lagCycles > 0) yield vcpu.lagCycles;
      this.#resume[held.index].fire();
    }
    this.#held.length = 0;
  }

  /** First page of `vcpu`'s next protection: its own slice of unlocked memory, in order. */
  #nextProtected(vcpu: Vcpu, pages: number): number {
    const vcpus = this.#vm.vcpus.length;
    let sliceStart = Math.floor((vcpu.index * this.#lockedFirst) / vcpus);
    let sliceEnd = Math.floor(((vcpu.index + 1) * this.#lockedFirst) / vcpus);
    if (sliceEnd <= sliceStart) { // fewer pages than vCPUs: share all of it
      sliceStart = 0;
      sliceEnd = this.#lockedFirst;
    }
    const next = this.#protectNext[vcpu.index];
    const first = next >= sliceStart && next < sliceEnd ? next : sliceStart;
    const last = Math.min(first + pages, sliceEnd);
    this.#protectNext[vcpu.index] = last;
    return first;
  }

  /** The locked code page `vcpu` writes next (its own stride through the region). */
  #nextLocked(vcpu: Vcpu): number {
    const locked = this.#vm.memory.pages - this.#lockedFirst;
    const step = this.#lockedNext[vcpu.index]++;
    return this.#lockedFirst + (step * this.#vm.vcpus.length + vcpu.index) % locked;
  }
}

const CHOICES: readonly ChoiceSpec[] = [
  {
    id: "vtl-switch",
    doc: "Who switches a vCPU between VTLs (splits S1 and S5)",
    options: {
      kernel: "KVM, inside the vCPU: swap VTL-private state and the memory view (D0)",
      userspace: "the VMM with two threads, VTL1's parked in KVM_RUN, and full state syncs " +
        "(D1/D2 as prototyped)",
      "userspace-minimal": "the VMM on the vCPU's one thread, moving only the VTL-private " +
        "registers (inferred)",
      planes: "KVM planes: one KVM_RUN thread picks the VTL's plane, no state ioctls (D3)",
    },
  },
  {
    id: "protections",
    doc: "How VTL1's protections of VTL0 memory reach the EPT (split S2)",
    options: {
      memslots: "memslot edits: pause the VM, two SRCU grace periods, zap the old slot; " +
        "page-granular protections fragment the memslots (D0)",
      attributes: "per-VTL RWX memory attributes: one ioctl, an xarray update per page, a " +
        "targeted zap and a remote flush (D1/D2)",
    },
  },
  {
    id: "vtl-memslots",
    doc: "Whose memslots hold the hugepage tracking VTL protections change (S2, with huge " +
      "host pages)",
    options: {
      shared: "one set of memslots for every VTL: a 2 MiB region VTL0's protections make " +
        "mixed maps 4 KiB in VTL1 too (the Nov 2023 RFC's attributes; planes)",
      "per-vtl": "a memslot address space per VTL, as SMM has: each VTL's huge pages depend " +
        "on its own view (memslot protections; the June 2024 VM per VTL; Sean " +
        "Christopherson's suggestion, ZUvUZytj1AabvvrB@google.com)",
    },
  },
  {
    id: "intercepts",
    doc: "Who builds the secure intercept message for VTL1 (split S3)",
    options: {
      kernel: "KVM builds it and raises VTL1's SynIC interrupt (the Nov 2023 RFC)",
      userspace: "the VMM, after a memory-fault exit, reading VTL0's state and guest memory " +
        "(June 2024 series)",
    },
  },
  {
    id: "vtl-hypercalls",
    doc: "Where cross-VTL hypercalls (IPIs to another VTL, Get/SetVpRegisters) run (split S4)",
    options: {
      kernel: "in KVM",
      userspace: "a round trip to the VMM each, with a state sync for register access",
    },
  },
  ...X86_IO_CHOICES,
];

const VSM_PRIMITIVES: readonly PrimitiveName[] = [
  "GUEST_SECURE_CALL",
  "GUEST_SECURE_INTERCEPT",
  "KVM_VTL_SWITCH",
  "KVM_MMU_VIEW_SWITCH",
  "KVM_SYNIC_MESSAGE",
  "KVM_SET_MEMSLOT",
  "MEMSLOT_LOOKUP",
  "KVM_SET_ATTRIBUTES",
  "XA_OP",
  "KVM_ZAP",
  "SRCU_SYNC",
  "STATE_SYNC_GET",
  "STATE_SYNC_PUT",
  "VMM_VTL_SWITCH",
  "VMM_VTL_COPY",
  "VMM_HYPERCALL",
  "VMM_PROTECT",
  "VMM_INTERCEPT",
  "VMM_GUEST_READ",
  "THREAD_HANDOFF",
];

/** Hyper-V VSM guests. */
export const VSM_PLATFORM: PlatformSpec = {
  name: "vsm",
  description: "A Hyper-V VSM guest (VTL0 and VTL1 per vCPU) on KVM",
  defaultProfile: "intel-vsm",
  choices: CHOICES,
  primitives: [...VMX_PLATFORM.primitives, ...VSM_PRIMITIVES],
  operations: [
    ...X86_COMMON_OPERATIONS,
    "vtl-call",
    "protect",
    "secure-touch",
    "vtl-ipi",
    "vtl-get-registers",
  ],
  createVm: (vm, choices) => new VsmVm(vm, choices),
};

const IN_KERNEL: Record<string, string> = {
  "vtl-switch": "kernel",
  protections: "memslots",
  "vtl-memslots": "per-vtl",
  intercepts: "kernel",
  "vtl-hypercalls": "kernel",
  devices: "kernel",
  virtio: "vhost",
};

const USERSPACE: Record<string, string> = {
  "vtl-switch": "userspace",
  protections: "attributes",
  "vtl-memslots": "per-vtl",
  intercepts: "userspace",
  "vtl-hypercalls": "userspace",
  devices: "kernel",
  virtio: "vhost",
};

function design(
  name: string,
  summary: string,
  splits: string[],
  base: Record<string, string>,
  changes: Record<string, string> = {},
): DesignSpec {
  return { name, platform: "vsm", summary, splits, choices: { ...base, ...changes } };
}

/** Designs of the VSM platform: the published designs, and one split flipped at a time. */
export const VSM_DESIGNS: readonly DesignSpec[] = [
  design(
    "vsm.in-kernel",
    "D0 (KVM Forum 2023): VTLs in KVM, protections by memslot edits, intercepts and " +
      "hypercalls in KVM",
    ["S1", "S2", "S3", "S4", "S5"],
    IN_KERNEL,
  ),
  design(
    "vsm.in-kernel-attributes",
    "D0 with per-VTL memory attributes in one set of memslots (as the Nov 2023 RFC) " +
      "instead of memslot edits",
    ["S2"],
    IN_KERNEL,
    { protections: "attributes", "vtl-memslots": "shared" },
  ),
  design(
    "vsm.in-kernel-attributes-per-vtl",
    "D0 with memory attributes, each VTL in its own memslot address space (Sean " +
      "Christopherson's suggestion: VTL0's protections leave VTL1's huge pages alone)",
    ["S2"],
    IN_KERNEL,
    { protections: "attributes", "vtl-memslots": "per-vtl" },
  ),
  design(
    "vsm.userspace",
    "D2 (June 2024): a QEMU thread per VTL, full state syncs, RWX attributes, intercepts " +
      "and hypercalls in userspace",
    ["S1", "S2", "S3", "S4", "S5"],
    USERSPACE,
  ),
  design(
    "vsm.userspace-kernel-intercepts",
    "vsm.userspace, but KVM builds secure intercepts (as the Nov 2023 RFC)",
    ["S3"],
    USERSPACE,
    { intercepts: "kernel" },
  ),
  design(
    "vsm.userspace-kernel-hypercalls",
    "vsm.userspace, but cross-VTL hypercalls in KVM",
    ["S4"],
    USERSPACE,
    { "vtl-hypercalls": "kernel" },
  ),
  design(
    "vsm.userspace-minimal",
    "one VMM thread per vCPU switching VTLs with only the private registers (inferred)",
    ["S1", "S5"],
    USERSPACE,
    { "vtl-switch": "userspace-minimal" },
  ),
  design(
    "vsm.planes",
    "D3 (2025): KVM planes, one KVM_RUN thread picks the VTL's plane, no hand-off; " +
      "planes share memslots",
    ["S1", "S5"],
    USERSPACE,
    { "vtl-switch": "planes", "vtl-memslots": "shared" },
  ),
];
