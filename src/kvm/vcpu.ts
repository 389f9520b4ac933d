/**
 * A vCPU: a host thread that runs guest code, and everything that can happen to it while
 * it does — interrupts (posted or injected), kicks that must wait for it to leave guest
 * mode, its LAPIC timer, the host scheduler taking its pCPU, halting with polling and
 * sleeping.
 *
 * Modes (where the vCPU is at the simulator's current time):
 * - GUEST: running guest code (an interruptible stretch of guest time);
 * - HOST: in KVM or the VMM handling an exit (private steps; events are seen before entry);
 * - POLL: halted, its thread polling for a wake event (halt_poll_ns);
 * - BLOCKED: halted, its thread asleep without a pCPU.
 *
 * Other actors call {@linkcode Vcpu.raiseIrq}, {@linkcode Vcpu.kick},
 * {@linkcode Vcpu.requestHostWork} and {@linkcode Vcpu.requestResched} at the simulator's
 * time (after syncing their own clock); the vCPU reacts in its own process: in GUEST mode
 * by cutting its guest stretch short.
 *
 * @module
 */

import { type Latch, Signal, type Simulator, type Timer } from "../engine/mod.ts";
import type { CpuPool } from "../host/cpu_pool.ts";
import { EXIT_REASON_NAMES } from "../host/exit_reasons.ts";
import { P } from "../host/primitives.ts";
import { type Flow, HostThread } from "../host/thread.ts";
import { FLOW_INTERRUPT, FLOW_KICK, INSTANT_EXIT } from "../report/timeline.ts";
import { GuestFlag, type IrqSource } from "./irq.ts";
import { EXIT_KIND, type PlatformVm } from "./platform.ts";

const GUEST = 0;
const HOST = 1;
const POLL = 2;
const BLOCKED = 3;

/** The value a vCPU's process resumes with when an event cuts its guest time short. */
const WOKEN = "woken";

/** Longest a vCPU spins on a flag before the run is considered broken (cycles). */
const SPIN_LIMIT_CYCLES = 2 ** 50;

/** Host features and settings every vCPU of the host shares. */
export interface VcpuHostConfig {
  /** Interrupts reach a running guest without an exit (APICv / AVIC). */
  postedInterrupts: boolean;
  /** ICR writes are virtualized (Intel IPI virtualization / AVIC IPI acceleration). */
  ipiVirtualization: boolean;
  /** How long a halted vCPU polls before sleeping (KVM's halt_poll_ns). */
  haltPollCycles: number;
}

/** A vCPU thread of some VM. */
export class Vcpu extends HostThread {
  /** Name of its VM. */
  readonly vmName: string;
  /** Index within its VM. */
  readonly index: number;
  /** Exits by exit-reason id. */
  readonly exitCounts: Float64Array = new Float64Array(EXIT_REASON_NAMES.length);
  /** The platform's flows for this vCPU's VM (set when the VM is built). */
  platform!: PlatformVm;
  /** Interrupt vectors by id (bit position in `pendingIrqs`). */
  readonly irqSources: IrqSource[] = [];
  /** Raised interrupts the guest has not handled yet (a bit per source id). */
  pendingIrqs = 0;
  /** The guest runs with interrupts disabled (IF=0): pending ones wait for STI. */
  guestIrqsMasked = false;
  /** The guest's LAPIC timer. */
  readonly timer: GuestTimer;
  /** Set by the handler of an IPI this vCPU sent (the `ipi` operation spins on it). */
  readonly ipiAck: GuestFlag = new GuestFlag();
  /**
   * The platform has work for this thread before the vCPU's next entry (PlatformVm.hostWork:
   * a switch to another VTL for its interrupt, a VMM pause); see {@linkcode requestHostWork}.
   */
  hostWork = false;
  readonly config: VcpuHostConfig;
  #mode = HOST;
  /** Local start of the current guest or poll stretch. */
  #spendStart = 0;
  /** Guest cycles the stretch {@linkcode beginGuest} started was to run. */
  #guestCycles = 0;
  /** Local end of the current stretch if nothing cuts it short. */
  #spendEndCycles = 0;
  /** An event has already cut the current stretch short. */
  #interrupted = false;
  /** When the cut ends the stretch (set with `#interrupted`). */
  #cutAtCycles = 0;
  /**
   * Interrupts raised at a sender's local time, ahead of the simulator's (a bit per source
   * id), pending from `#aheadAtCycles` (see {@linkcode raiseIrqAhead}).
   */
  #aheadIrqs = 0;
  #aheadAtCycles = 0;
  /** Delivers ahead interrupts whose stretch something else cut short first. */
  #aheadTimer: Timer | undefined;
  /** Kickers waiting for this vCPU to leave guest mode. */
  readonly #acks: Latch[] = [];
  /** The timer expired while in guest mode (a preemption-timer exit). */
  #timerExit = false;
  /** The timer expired and KVM has not processed it yet. */
  #timerFired = false;
  readonly #wake = new Signal();
  /** Causal links waiting for this vCPU to react (kind, lane, time triples; recording only). */
  readonly #incomingFlows: number[] = [];

  constructor(
    sim: Simulator,
    costs: Float64Array,
    pool: CpuPool,
    config: VcpuHostConfig,
    vmName: string,
    index: number,
  ) {
    super(sim, costs, pool, `${vmName}/vcpu${index}`, "vcpu");
    this.vmName = vmName;
    this.index = index;
    this.config = config;
    this.addressSpace = vmName; // its VMM's process
    this.timer = new GuestTimer(sim, this);
  }

  /** Registers an interrupt vector; returns its id. */
  addIrqSource(source: IrqSource): number {
    if (this.irqSources.length >= 31) throw new Error(`${this.name} has too many IRQ sources`);
    return this.irqSources.push(source) - 1;
  }

  /** Counts one exit with reason id `reason`. */
  countExit(reason: number): void {
    this.exitCounts[reason]++;
    this.timeline?.instant(this.lane, INSTANT_EXIT, reason, this.cursorCycles);
  }

  /** Records a causal link from `origin` that this vCPU will react to (recording only). */
  #flowFrom(kind: number, origin: HostThread | undefined): void {
    if (this.timeline === undefined || origin === undefined) return;
    this.#incomingFlows.push(kind, origin.lane, origin.cursorCycles);
  }

  /** Ends the pending causal links at this vCPU's current time. */
  #flowsArrive(): void {
    const flows = this.#incomingFlows;
    const timeline = this.timeline; // (gone once the thread is past what it still takes)
    for (let i = 0; timeline !== undefined && i < flows.length; i += 3) {
      timeline.flow(flows[i], flows[i + 1], flows[i + 2], this.lane, this.cursorCycles);
    }
    flows.length = 0;
  }

  // ---- Events from other actors, at the simulator's time -------------------------------

  /**
   * Makes interrupt `id` pending. A running guest gets it at once if interrupts are
   * posted (else it is kicked out and the interrupt injected at entry); a halted vCPU is
   * woken. `by` pays for the notification IPI or the wake-up.
   */
  raiseIrq(id: number, by?: HostThread, origin: HostThread | undefined = by): void {
    this.pendingIrqs |= 1 << id;
    if (this.timeline !== undefined) this.#flowFrom(FLOW_INTERRUPT, origin);
    if (this.#mode === GUEST && this.guestIrqsMasked) return;
    this.#getAttention(by);
  }

  /**
   * True if an interrupt raised at `atCycles`, ahead of the simulator's time, reaches this
   * vCPU now as it would then: it is in a guest stretch (interrupts enabled) or a poll
   * stretch that nothing has cut short yet and that lasts past then, so the interrupt cuts
   * it short there (see {@linkcode raiseIrqAhead}).
   */
  takesIrqAhead(atCycles: number): boolean {
    if (this.#aheadIrqs !== 0 || this.#interrupted) return false;
    if (this.#mode === GUEST ? this.guestIrqsMasked : this.#mode !== POLL) return false;
    return atCycles < this.#spendEndCycles;
  }

  /**
   * Raises interrupt `id` at `by`'s local time, ahead of the simulator's, when
   * {@linkcode takesIrqAhead} said so: the stretch is cut short then, and the interrupt is
   * pending from then. (If an earlier event cuts the stretch first, the interrupt arrives
   * at its time anyway, in whatever the vCPU is doing then.)
   */
  raiseIrqAhead(id: number, by: HostThread): void {
    this.#aheadIrqs |= 1 << id;
    this.#aheadAtCycles = by.cursorCycles;
    if (this.timeline !== undefined) this.#flowFrom(FLOW_INTERRUPT, by);
    this.#getAttention(by);
  }

  /** At the end of a stretch: ahead interrupts due by now become pending, later ones then. */
  #aheadArrive(): void {
    const delay = this.#aheadAtCycles - this.sim.now;
    if (delay <= 0) {
      this.pendingIrqs |= this.#aheadIrqs;
      this.#aheadIrqs = 0;
      return;
    }
    (this.#aheadTimer ??= this.sim.timer(() => {
      const irqs = this.#aheadIrqs;
      this.#aheadIrqs = 0;
      for (let id = 0; id < 32; id++) if ((irqs & (1 << id)) !== 0) this.raiseIrq(id);
    })).set(delay);
  }

  /**
   * Makes the vCPU look at what was just asked of it: a running guest is forced out (`by`
   * pays the kick IPI), a polling vCPU stops polling, a halted one is woken (`by` pays the
   * wake-up); a vCPU in the host sees it before its next entry anyway.
   */
  #getAttention(by: HostThread | undefined): void {
    switch (this.#mode) {
      case GUEST:
        by?.step(P.KICK_SEND);
        this.#cutShort(by);
        return;
      case POLL:
        this.#cutShort(by);
        return;
      case BLOCKED:
        by?.step(P.KVM_WAKE);
        this.#wake.fire();
        return;
    }
  }

  /**
   * Forces the vCPU out of guest mode (a KVM request). If it is in guest mode, `ack`
   * counts down once it has exited and run the IPI handler; otherwise at once, since a
   * vCPU outside guest mode sees requests before its next entry.
   */
  kick(ack: Latch, by: HostThread): void {
    if (this.#mode !== GUEST) {
      ack.countDown();
      return;
    }
    by.step(P.KICK_SEND);
    if (this.timeline !== undefined) this.#flowFrom(FLOW_KICK, by);
    this.#acks.push(ack);
    this.#cutShort(by);
  }

  /**
   * Asks for the platform's host work before the next entry: a running guest is forced
   * out (`by` pays the kick IPI), a halted vCPU is woken (`by` pays the wake-up); a vCPU
   * already in the host sees the request before it enters again.
   */
  requestHostWork(by: HostThread): void {
    this.hostWork = true;
    if (this.#mode === GUEST && this.timeline !== undefined) this.#flowFrom(FLOW_KICK, by);
    this.#getAttention(by);
  }

  /** Runs the platform's host work if some was requested (clearing the request first). */
  *#hostWork(): Flow {
    this.hostWork = false;
    yield* this.platform.hostWork!(this);
  }

  /** True while halt-polling: the pool asks a polling vCPU first when a thread waits. */
  override get polling(): boolean {
    return this.#mode === POLL;
  }

  /** The scheduler wants the pCPU: a guest is forced out by the host timer tick. */
  override requestResched(): void {
    this.needResched = true;
    if (this.#mode === GUEST || this.#mode === POLL) this.#cutShort();
  }

  /** @internal The guest timer expired. */
  timerExpired(): void {
    this.#timerFired = true;
    if (this.#mode === GUEST) this.#timerExit = true;
    this.raiseIrq(TIMER_IRQ);
  }

  /** @internal A flag this vCPU spins on was set: the spinning guest sees it, no exit. */
  flagSet(): void {
    if (this.#mode === GUEST) this.#cutShort();
  }

  /**
   * Cuts the current guest or poll stretch short, no earlier than it starts nor than the
   * sender's own time (`by`'s IPI leaves when its steps so far are done: a kicker sending
   * to many vCPUs reaches the last one last).
   */
  #cutShort(by?: HostThread): void {
    const at = Math.max(
      this.sim.now,
      by === undefined ? this.#spendStart : Math.max(this.#spendStart, by.cursorCycles),
    );
    // A cut already due sooner wins; one due later (a sender ahead of the simulator's time)
    // gives way to this one.
    if (this.#interrupted && this.#cutAtCycles <= at) return;
    this.#interrupted = true;
    this.#cutAtCycles = at;
    this.process!.interrupt(WOKEN, at - this.sim.now);
  }

  // ---- Flows run by the vCPU's own process --------------------------------------------

  /**
   * Runs `cycles` of guest work, charged to `prim` (guest compute by default; a memory
   * workload charges its page walks to TLB_WALK). Events that arrive meanwhile are handled
   * as they come (an exit and re-entry, or a posted interrupt's handler) and the work then
   * continues.
   */
  *runGuest(cycles: number, prim: number = P.GUEST): Flow {
    let remaining = cycles;
    for (;;) {
      if (this.#eventWaiting()) yield* this.#handleEvent();
      const start = this.cursorCycles;
      const cause = yield this.#beginStretch(prim, remaining, GUEST);
      this.#endStretch();
      if (cause === undefined) return;
      remaining -= this.cursorCycles - start;
      yield* this.#handleEvent();
      if (remaining <= 0) return;
    }
  }

  /**
   * {@linkcode runGuest} of guest compute without a generator while nothing cuts it short
   * (the vCPU loop's hot path): returns the delay to yield for `cycles` of guest time, or -1
   * when an event waits (then use runGuest). After the yield, {@linkcode endGuest}.
   */
  beginGuest(cycles: number): number {
    if (this.#eventWaiting()) return -1;
    this.#guestCycles = cycles;
    return this.#beginStretch(P.GUEST, cycles, GUEST);
  }

  /**
   * Ends what {@linkcode beginGuest} began, given what the yield returned: undefined when
   * the stretch ran to its end, else the flow that handles what cut it short and runs the
   * rest (yield* it).
   */
  endGuest(cause: unknown): Flow | undefined {
    const start = this.#spendStart;
    this.#endStretch();
    if (cause === undefined) return undefined;
    return this.#guestAfterCut(this.#guestCycles - (this.cursorCycles - start));
  }

  *#guestAfterCut(remaining: number): Flow {
    yield* this.#handleEvent();
    if (remaining > 0) yield* this.runGuest(remaining);
  }

  /** The guest spins on `flag` until it is set (handling events meanwhile). */
  *spinUntil(flag: GuestFlag): Flow {
    while (!flag.isSet) {
      if (this.#eventWaiting()) {
        yield* this.#handleEvent();
        continue;
      }
      flag.spinBy(this);
      const cause = yield this.#beginStretch(P.GUEST, SPIN_LIMIT_CYCLES, GUEST);
      this.#endStretch();
      flag.spinBy(undefined);
      if (cause === undefined) throw new Error(`${this.name} spun ${SPIN_LIMIT_CYCLES} cycles`);
      yield* this.#handleEvent();
    }
  }

  /** The guest idles (HLT) until `flag` is set, handling the interrupts that wake it. */
  *idleUntil(flag: GuestFlag): Flow {
    while (!flag.isSet) {
      yield* this.halt();
      if (this.pendingIrqs === 0) continue;
      const rest = this.takeIrqs();
      if (rest !== undefined) yield* rest;
    }
  }

  /**
   * One HLT with interrupts enabled: exit; unless an interrupt is pending, poll for a
   * while, then sleep without the pCPU until woken; re-enter. The guest's handlers for
   * the interrupts that woke it run afterwards ({@linkcode guestInterrupts}).
   */
  *halt(): Flow {
    const delay = this.beginHalt();
    if (delay === HALT_SLEEP) return yield* this.#haltSleep();
    if (delay === HALT_PENDING) return yield* this.#haltTail();
    yield delay;
    const rest = this.endHaltPoll();
    if (rest !== undefined) yield* rest;
  }

  /**
   * The first part of {@linkcode halt}, without a generator (the I/O hot path writes halt
   * out: `const delay = vcpu.beginHalt(); if (delay < 0) yield* vcpu.haltWithoutPoll(delay);
   * else { yield delay; const rest = vcpu.endHaltPoll(); if (rest !== undefined) yield* rest; }`):
   * the exit, then the poll's delay to yield if the vCPU polls, else a negative code for
   * {@linkcode haltWithoutPoll}.
   */
  beginHalt(): number {
    this.platform.exit(this, EXIT_KIND.HLT);
    this.step(P.KVM_HLT);
    if (this.pendingIrqs !== 0 || this.hostWork) return HALT_PENDING;
    // Poll only while nothing else wants the pCPU (KVM checks single_task_running()).
    if (this.config.haltPollCycles > 0 && !this.needResched && this.pool.queueLength === 0) {
      return this.#beginStretch(P.HALT_POLL, this.config.haltPollCycles, POLL);
    }
    return HALT_SLEEP;
  }

  /** The rest of a halt that does not poll ({@linkcode beginHalt}'s negative codes). */
  *haltWithoutPoll(code: number): Flow {
    if (code === HALT_SLEEP) yield* this.#haltSleep();
    else yield* this.#haltTail();
  }

  /**
   * After the poll {@linkcode beginHalt} started: back in the guest if something woke the
   * vCPU (undefined), else the flow that sleeps, or handles host work first (yield* it).
   */
  endHaltPoll(): Flow | undefined {
    this.#endStretch();
    if (this.pendingIrqs === 0 && !this.hostWork) return this.#haltSleep();
    this.step(P.KVM_HALT_RESUME);
    if (this.hostWork || this.needResched) return this.#haltTail();
    this.enter();
    return undefined;
  }

  /** Sleeps without the pCPU until woken, then re-enters. */
  *#haltSleep(): Flow {
    this.step(P.VCPU_PUT);
    this.#mode = BLOCKED;
    yield* this.sleep(this.#wake, P.IDLE);
    this.#mode = HOST;
    this.step(P.VCPU_LOAD);
    this.loadVcpu(this);
    this.step(P.KVM_HALT_RESUME);
    yield* this.#haltTail();
  }

  /** Host work and a reschedule point, then the entry. */
  *#haltTail(): Flow {
    if (this.hostWork) yield* this.#hostWork();
    if (this.needResched) yield* this.preempt();
    this.enter();
  }

  /**
   * The guest is gone (it terminated, or the VMM killed it): the vCPU thread leaves
   * KVM_RUN for good and sleeps, charged as idle, for the rest of the run.
   */
  *shutdown(): Flow {
    this.step(P.VCPU_PUT);
    this.#mode = BLOCKED;
    yield* this.sleep(new Signal(), P.IDLE); // nothing wakes it
  }

  /**
   * The pre-entry work of KVM_RUN and the entry itself: yield the pCPU if the scheduler
   * asked ({@linkcode preempt}), then {@linkcode enter}. Hot paths write the two steps out:
   * `if (vcpu.needResched) yield* vcpu.preempt(); vcpu.enter();`.
   */
  *enterGuest(): Flow {
    if (this.needResched) yield* this.preempt();
    this.enter();
  }

  /** KVM's preemption point before entry: put the vCPU, go to the run queue, load it again. */
  *preempt(): Flow {
    this.step(P.VCPU_PUT);
    yield* this.reschedule();
    this.step(P.VCPU_LOAD);
    this.loadVcpu(this);
  }

  /** Processes an expired timer, prepares pending interrupts, and enters the guest. */
  enter(): void {
    if (this.#timerFired) {
      this.#timerFired = false;
      this.step(P.KVM_TIMER_FIRE);
    }
    if (this.pendingIrqs !== 0 && !this.guestIrqsMasked) this.step(P.KVM_INJECT_IRQ);
    this.platform.enter(this);
  }

  /** The guest runs the handlers of delivered interrupts, lowest vector id first. */
  *guestInterrupts(): Flow {
    const rest = this.takeIrqs();
    if (rest !== undefined) yield* rest;
  }

  /**
   * {@linkcode guestInterrupts} without a generator while no handler waits (hot paths:
   * `const rest = vcpu.takeIrqs(); if (rest !== undefined) yield* rest;`): runs the
   * handlers, and returns the flow that goes on from the first one that must wait.
   */
  takeIrqs(): Flow | undefined {
    if (this.#incomingFlows.length > 0) this.#flowsArrive();
    while (this.pendingIrqs !== 0 && !this.guestIrqsMasked) {
      const id = 31 - Math.clz32(this.pendingIrqs & -this.pendingIrqs);
      this.pendingIrqs &= ~(1 << id);
      const flow = this.irqSources[id].guestHandler(this);
      if (flow !== undefined) return this.#irqsAfter(flow);
    }
    return undefined;
  }

  *#irqsAfter(flow: Flow): Flow {
    yield* flow;
    yield* this.guestInterrupts();
  }

  /** Something must be handled before more guest time can run. */
  #eventWaiting(): boolean {
    return this.#acks.length > 0 || this.needResched || this.#timerExit || this.hostWork ||
      (this.pendingIrqs !== 0 && !this.guestIrqsMasked);
  }

  /**
   * Reacts to events that cut guest time short: with only posted interrupts (or a flag
   * seen), the guest handles them without an exit; otherwise exit, acknowledge kicks,
   * re-enter (rescheduling and injecting on the way) and run the handlers.
   */
  *#handleEvent(): Flow {
    const exitNeeded = this.#acks.length > 0 || this.needResched || this.#timerExit ||
      this.hostWork || (this.pendingIrqs !== 0 && !this.config.postedInterrupts);
    if (!exitNeeded) {
      yield* this.guestInterrupts();
      return;
    }
    const timer = this.#timerExit;
    this.#timerExit = false;
    this.platform.exit(this, timer ? EXIT_KIND.TIMER : EXIT_KIND.EXTERNAL);
    if (this.#incomingFlows.length > 0) this.#flowsArrive();
    if (this.#acks.length > 0) {
      this.step(P.KVM_IRQ_ACK);
      if (this.lagCycles > 0) yield this.lagCycles;
      for (const ack of this.#acks) ack.countDown();
      this.#acks.length = 0;
    }
    if (this.hostWork) yield* this.#hostWork();
    yield* this.enterGuest();
    yield* this.guestInterrupts();
  }

  /**
   * Starts an interruptible stretch of guest time or halt polling, charged to `prim`;
   * returns the delay the caller yields (an event cuts it short), then {@linkcode #endStretch}.
   */
  #beginStretch(prim: number, cycles: number, mode: number): number {
    this.#mode = mode;
    this.#spendStart = this.cursorCycles;
    this.#spendEndCycles = this.cursorCycles + cycles;
    this.#interrupted = false;
    return this.beginActivity(prim, cycles);
  }

  #endStretch(): void {
    this.endActivity();
    this.#mode = HOST;
    if (this.#aheadIrqs !== 0) this.#aheadArrive();
  }
}

/** beginHalt: an interrupt or host work is already pending (no poll, no sleep). */
const HALT_PENDING = -2;
/** beginHalt: the vCPU does not poll; it sleeps. */
const HALT_SLEEP = -1;

/** Interrupt id of every vCPU's LAPIC timer (registered first). */
export const TIMER_IRQ = 0;

/** A vCPU's LAPIC timer in TSC-deadline mode. */
export class GuestTimer {
  /** The armed deadline, or -1 when disarmed. */
  deadlineCycles = -1;
  readonly #sim: Simulator;
  readonly #vcpu: Vcpu;
  readonly #timer: Timer;

  constructor(sim: Simulator, vcpu: Vcpu) {
    this.#sim = sim;
    this.#vcpu = vcpu;
    this.#timer = sim.timer(() => this.#fire());
  }

  /** Arms the timer for absolute time `deadlineCycles`; a past deadline fires at once. */
  arm(deadlineCycles: number): void {
    this.deadlineCycles = deadlineCycles;
    const delay = deadlineCycles - this.#sim.now;
    if (delay <= 0) {
      this.#timer.cancel();
      this.#fire();
      return;
    }
    this.#timer.set(delay);
  }

  #fire(): void {
    this.deadlineCycles = -1;
    this.#vcpu.timerExpired();
  }
}
