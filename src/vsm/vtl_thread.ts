/**
 * The second VMM thread of the prototyped userspace VSM design (flows.md A.1/A.2, D1/D2):
 * each VTL of a vCPU is its own KVM vCPU with its own QEMU thread, and VTL1's thread
 * parks in KVM_RUN while VTL0 runs.
 *
 * - VTL call (A.1): VTL0's thread (the vCPU thread) stops VTL0, syncs its state and hands
 *   over; this thread's parked KVM_RUN is interrupted, it syncs VTL1's state, copies what
 *   the VTLs share, writes VTL1's state back and enters VTL1. The return is the mirror image.
 * - Interrupt for VTL1 while VTL0 runs (A.2): KVM wakes this thread's parked KVM_RUN; it
 *   must first get VTL0's thread out of KVM_RUN (a signal), wait for it to hand over, and
 *   then do the same switch.
 *
 * VTL1's guest time is spent here, on this thread; the vCPU thread waits meanwhile
 * (WAIT_HANDOFF), without a pCPU.
 *
 * @module
 */

import { Signal, type Timer } from "../engine/mod.ts";
import { P } from "../host/primitives.ts";
import type { Flow, HostThread } from "../host/thread.ts";
import type { Vcpu } from "../kvm/vcpu.ts";

/** What VTL1 does when it runs: a secure call, */
export const WORK_CALL = 0;
/** a secure intercept message, */
export const WORK_INTERCEPT = 1;
/** or only its pending interrupts, */
export const WORK_INTERRUPT = 2;
/** or a batch of memory accesses (a memory workload in VTL1). */
export const WORK_MEMORY = 3;

/**
 * ioctls of the prototyped userspace switch, per step (flows.md A.1): a VTL call syncs
 * VTL0's state out (~10), VTL1's out (~10) and VTL1's back in (10-12), about 30 in all; the
 * return mirrors it with about 25: VTL1's state out, VTL0's back in, and the calls that
 * park VTL1's vCPU again (its MP state and pending events).
 */
export const PROTOTYPE_IOCTLS = {
  callVtl0Get: 10,
  callVtl1Get: 10,
  callVtl1Put: 11,
  returnVtl1Get: 10,
  returnVtl0Put: 11,
  returnParkPut: 4,
} as const;

/** What the thread needs from the platform: VTL1's side of a switch. */
export interface Vtl1Runner {
  /** True when VTL1 of `vcpu` has interrupts pending. */
  vtl1Pending(vcpu: Vcpu): boolean;
  /** Enters VTL1 of `vcpu` on `thread` (VTL1's state is loaded): inject, VM entry. */
  enterVtl1(thread: HostThread, vcpu: Vcpu, work: number): void;
  /** VTL1 does `work` and takes its pending interrupts, on `thread`. */
  runVtl1(thread: HostThread, vcpu: Vcpu, work: number): Flow;
  /** VTL1's HvCallVtlReturn exits on `thread`; VTL0 becomes the vCPU's active VTL. */
  exitVtl1(thread: HostThread, vcpu: Vcpu): void;
}

const PARKED = 0;
/** VTL0's thread handed VTL0 over: run VTL1. */
const CALLED = 1;
/** Woken for VTL1's interrupt: VTL0's thread must be signalled out and hand over first. */
const INTERRUPTED = 2;
const RUNNING = 3;

/** VTL1's VMM thread for one vCPU. */
export class VtlThread {
  readonly thread: HostThread;
  readonly vcpu: Vcpu;
  /** Fires when VTL1 has returned: the vCPU thread may run VTL0 again. */
  readonly returned: Signal = new Signal();
  readonly #runner: Vtl1Runner;
  readonly #wake = new Signal();
  /** Runs after this thread asked for a pCPU: still queued means none was free. */
  readonly #checkPreempt: Timer;
  #state = PARKED;
  #work = WORK_INTERRUPT;

  constructor(thread: HostThread, vcpu: Vcpu, runner: Vtl1Runner) {
    this.thread = thread;
    this.vcpu = vcpu;
    this.#runner = runner;
    this.#checkPreempt = thread.sim.timer(() => {
      if (!thread.onCpu && vcpu.onCpu) vcpu.requestResched();
    });
  }

  /** True while it waits for VTL0's thread to hand over after an interrupt woke it. */
  get awaitingHandOver(): boolean {
    return this.#state === INTERRUPTED;
  }

  /**
   * VTL0's thread has stopped VTL0 and synced its state: VTL1 runs `work`. The caller paid
   * the wake-up (THREAD_HANDOFF) and is at the simulator's time.
   */
  handOver(work: number): void {
    this.#work = work;
    if (this.#state === PARKED || this.#state === INTERRUPTED) {
      this.#state = CALLED;
      this.#wake.fire();
    }
  }

  /**
   * VTL1 got an interrupt while VTL0 runs: KVM wakes the parked KVM_RUN (`by` pays the
   * wake-up). Outside the parked state VTL1 takes it before it next returns.
   */
  interrupt(by: HostThread): void {
    if (this.#state !== PARKED) return;
    this.#state = INTERRUPTED;
    this.#work = WORK_INTERRUPT;
    if (this.#wake.waiting) by.step(P.KVM_WAKE);
    this.#wake.fire();
  }

  /** The thread's body: parked in KVM_RUN until a call or an interrupt needs VTL1. */
  *run(): Flow {
    const thread = this.thread;
    yield* thread.waitOn(this.#wake, P.IDLE); // parked from the start, without a pCPU
    yield* this.#takeCpu();
    for (;;) {
      yield* this.#serve();
      this.#state = PARKED;
      if (this.#runner.vtl1Pending(this.vcpu)) {
        // An interrupt came while VTL1 was on its way out: KVM_RUN returns at once.
        this.#state = INTERRUPTED;
        this.#work = WORK_INTERRUPT;
        continue;
      }
      yield* this.#sleep(P.IDLE);
    }
  }

  /** Gives up the pCPU until woken, then takes one again. */
  *#sleep(prim: number): Flow {
    yield* this.thread.releaseCpu();
    yield* this.thread.waitOn(this.#wake, prim);
    yield* this.#takeCpu();
  }

  /**
   * Takes a pCPU. The host pool has no wake-up preemption, but CFS lets a thread that
   * slept preempt a running one: if no pCPU is free, the vCPU thread this thread serves
   * (which must stop for VTL1 anyway) is asked to yield, instead of VTL1 waiting a slice.
   */
  *#takeCpu(): Flow {
    this.#checkPreempt.set(0);
    yield* this.thread.takeCpu(true);
  }

  /** One VTL1 stint, from the parked KVM_RUN returning to parking again. */
  *#serve(): Flow {
    const thread = this.thread;
    const vcpu = this.vcpu;
    const n = PROTOTYPE_IOCTLS;
    thread.currentOp = vcpu.currentOp; // its steps belong to the vCPU's operation
    thread.step(P.IOCTL_RET); // the parked KVM_RUN returns (a signal, or VTL1's interrupt)
    if (this.#state === INTERRUPTED) {
      // A.2: VTL0 still runs on the other thread; signal it out of KVM_RUN and wait.
      thread.step(P.VMM_VTL_SWITCH);
      thread.step(P.THREAD_HANDOFF);
      if (thread.lagCycles > 0) yield thread.lagCycles;
      vcpu.requestHostWork(thread);
      yield* this.#sleep(P.WAIT_HANDOFF);
    }
    this.#state = RUNNING;
    const work = this.#work;
    thread.stepTimes(P.STATE_SYNC_GET, n.callVtl1Get);
    thread.step(P.VMM_VTL_COPY); // what VTL0 left in the shared registers
    thread.stepTimes(P.STATE_SYNC_PUT, n.callVtl1Put);
    thread.step(P.IOCTL_ENTER);
    thread.loadVcpu(this); // VTL1's own KVM vCPU
    this.#runner.enterVtl1(thread, vcpu, work);
    yield* this.#runner.runVtl1(thread, vcpu, work);
    this.#runner.exitVtl1(thread, vcpu);
    thread.step(P.IOCTL_RET);
    thread.step(P.VMM_VTL_SWITCH);
    thread.stepTimes(P.STATE_SYNC_GET, n.returnVtl1Get);
    thread.step(P.THREAD_HANDOFF);
    if (thread.lagCycles > 0) yield thread.lagCycles;
    this.returned.fire(); // VTL0's thread writes VTL0's state back and re-enters
    thread.stepTimes(P.STATE_SYNC_PUT, n.returnParkPut);
    thread.step(P.IOCTL_ENTER); // back into KVM_RUN, where VTL1's vCPU blocks
    thread.currentOp = -1;
  }
}
