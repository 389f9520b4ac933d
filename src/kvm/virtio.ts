/**
 * A virtio network device and the host threads that serve it.
 *
 * A request's life: the guest posts it on its queue (no exit) and writes the queue's
 * notify register (an exit; the platform decides where it is handled). A backend thread
 * takes it off the queue and sends it (TX); the peer answers after the network's latency;
 * the backend puts the response in the queue (RX) and raises the queue's interrupt through
 * an irqfd. The guest's interrupt handler completes the request.
 *
 * Backends:
 * - `vhost`: an in-kernel worker thread per queue (multiqueue vhost-net: one vhost device,
 *   and so one worker, per queue pair);
 * - `vmm`: the VMM's I/O thread per VM, under the VMM's device lock (QEMU's virtio-net);
 * - `daemon`: one userspace daemon thread for every VM on the host (a vhost-user switch).
 *
 * @module
 */

import { type Mutex, Signal, type Timer } from "../engine/mod.ts";
import { P } from "../host/primitives.ts";
import { type Flow, HostThread, returnOf } from "../host/thread.ts";
import { GuestFlag, type IrqSource } from "./irq.ts";
import type { HostEnv, OutcomeSink, Vm } from "./vm.ts";
import type { Vcpu } from "./vcpu.ts";

/** Where a VM's virtio requests are processed. */
export type BackendKind = "vhost" | "vmm" | "daemon";

/** One outstanding request of a vCPU (each vCPU has at most one in flight). */
export interface VirtioRequest {
  readonly device: VirtioNet;
  readonly queue: number;
  /** Set by the guest's interrupt handler when the response has been processed. */
  readonly done: GuestFlag;
  /** Fires when the peer's response arrives. */
  readonly response: Timer;
  /**
   * Guest page the response is written to when it is not the shared bounce buffer (-1):
   * set by fault injection, where the host write is checked by the platform.
   */
  bufferPage: number;
}

const TX = 0;
const RX = 1;

/** A thread that processes virtio work items: an in-kernel worker, a VMM I/O thread, a daemon. */
export class BackendThread extends HostThread {
  readonly backend: BackendKind;
  /**
   * Queued work: items [#head, #count) of these (kept at their size and overwritten, as
   * truncating an array and pushing again reallocates its storage every time).
   */
  readonly #items: VirtioRequest[] = [];
  readonly #phases: number[] = [];
  #head = 0;
  #count = 0;
  readonly #work = new Signal();
  /** The VMM's device lock, taken while processing (QEMU's main loop holds the BQL). */
  readonly #lock: Mutex | undefined;
  readonly #outcomes: OutcomeSink | undefined;
  /** VMs whose queues it serves (all of them lose their network if it dies). */
  readonly #served: Vm[] = [];

  constructor(env: HostEnv, name: string, backend: BackendKind, lock?: Mutex) {
    super(env.sim, env.costs, env.pool, name, backend === "vhost" ? "kernel" : backend);
    this.backend = backend;
    this.#lock = lock;
    this.#outcomes = env.outcomes;
  }

  /** Registers a VM it serves. */
  serve(vm: Vm): void {
    if (!this.#served.includes(vm)) this.#served.push(vm);
  }

  /**
   * The thread's process was killed (its write to guest memory got SIGBUS): queued and
   * future requests are lost, and every VM it served loses its network for good.
   */
  *#die(): Flow {
    for (const vm of this.#served) {
      this.#outcomes?.record(this.cursorCycles, "service-lost", vm.name, `${this.name} died`);
    }
    this.#items.length = 0;
    this.#phases.length = 0;
    this.#head = 0;
    this.#count = 0;
    yield* this.sleep(new Signal(), P.IDLE); // nothing restarts it
  }

  /** True while it sleeps waiting for work that only one thread submits (a vhost worker). */
  waitsForOneSubmitter(): boolean {
    return this.backend === "vhost" && this.#work.waiting;
  }

  /**
   * Queues a TX at `by`'s local time, ahead of the simulator's, and wakes the thread then
   * (after {@linkcode waitsForOneSubmitter}; `by` pays for the wake-up if it was asleep).
   */
  submitAhead(request: VirtioRequest, by: HostThread): void {
    this.#queue(request, TX);
    const at = by.cursorCycles;
    if (this.asleepBy(at)) by.step(P.KVM_WAKE);
    this.#work.fire(at - this.sim.now);
  }

  /** Queues work; wakes the thread if it sleeps (`by` pays for the wake-up). */
  submit(request: VirtioRequest, phase: number, by: HostThread | undefined): void {
    this.#queue(request, phase);
    if (this.#work.waiting && this.asleepBy(this.sim.now)) by?.step(P.KVM_WAKE);
    this.#work.fire();
  }

  #queue(request: VirtioRequest, phase: number): void {
    this.#items[this.#count] = request;
    this.#phases[this.#count] = phase;
    this.#count++;
  }

  /** The thread's body: sleep until there is work, then process everything queued. */
  *run(): Flow {
    yield* this.waitOn(this.#work, P.IDLE);
    yield* this.takeCpu(true);
    const userspace = this.backend !== "vhost";
    const lock = this.#lock;
    for (;;) {
      while (this.#head < this.#count) {
        const request = this.#items[this.#head];
        const phase = this.#phases[this.#head];
        this.#head++;
        if (lock !== undefined) yield* this.waitOn(lock, P.WAIT_VMM_LOCK);
        if (phase === TX) {
          this.step(userspace ? P.VMM_VIRTIO_TX : P.VHOST_TX);
          if (userspace) this.step(P.SYSCALL); // write to the tap device
        } else {
          if (userspace) this.step(P.SYSCALL); // read from the tap device
          if (request.bufferPage >= 0) {
            const platform = request.device.vm.vcpus[0].platform;
            const survived = platform.deviceWrite === undefined ||
              (yield* returnOf(platform.deviceWrite(this, request.bufferPage, !userspace)));
            if (!survived) {
              if (lock !== undefined) lock.release();
              yield* this.#die();
              return;
            }
          }
          this.step(userspace ? P.VMM_VIRTIO_RX : P.VHOST_RX);
          if (userspace) this.step(P.SYSCALL); // write the irqfd
          this.step(P.IRQFD_SIGNAL);
        }
        const lag = this.cursorCycles - this.sim.now;
        if (phase === TX && lock === undefined) {
          // The request leaves at our time: its response is due a network latency later.
          request.device.sent(request, lag);
        } else if (lock === undefined && request.device.completeAhead(request, this)) {
          // The interrupt fires at our time, and the vCPU takes it then.
        } else {
          if (lag > 0) yield lag; // the lock is released (or the interrupt fires) at our time
          if (lock !== undefined) lock.release();
          if (phase === TX) request.device.sent(request, 0);
          else request.device.complete(request, this);
        }
        if (this.needResched) yield* this.reschedule();
      }
      this.#head = 0;
      this.#count = 0;
      // Still at work until its local time: work that comes before then is taken then.
      yield* this.sleep(this.#work, P.IDLE, true);
    }
  }
}

/** A multi-queue virtio-net device: one queue (and interrupt) per vCPU. */
export class VirtioNet {
  readonly vm: Vm;
  /** The backend thread serving each queue. */
  readonly backends: readonly BackendThread[];
  readonly #peerLatencyCycles: number;
  /** Interrupt id of each vCPU's queue. */
  readonly #irqIds: number[];
  /** Requests posted by the guest and not yet handed to the backend, per queue. */
  readonly #posted: (VirtioRequest | undefined)[];
  /** Requests whose response the guest has not handled yet, per queue. */
  readonly #completed: VirtioRequest[][];
  /** How many of each queue's #completed are pending (the arrays are overwritten). */
  readonly #completedCount: Int32Array;
  /** Each vCPU's reusable request (one in flight per vCPU). */
  readonly requests: VirtioRequest[];

  constructor(vm: Vm, backends: readonly BackendThread[], peerLatencyCycles: number) {
    this.vm = vm;
    this.backends = backends;
    this.#peerLatencyCycles = peerLatencyCycles;
    this.#posted = vm.vcpus.map(() => undefined);
    this.#completed = vm.vcpus.map(() => []);
    this.#completedCount = new Int32Array(vm.vcpus.length);
    const sim = vm.vcpus[0].sim;
    this.requests = vm.vcpus.map((_, queue) => {
      const request: VirtioRequest = {
        device: this,
        queue,
        done: new GuestFlag(),
        bufferPage: -1,
        response: sim.timer(() => this.backends[queue].submit(request, RX, undefined)),
      };
      return request;
    });
    this.#irqIds = vm.vcpus.map((vcpu) => vcpu.addIrqSource(this.#queueIrq()));
    for (const backend of backends) backend.serve(vm);
  }

  /** Guest side: puts `vcpu`'s request on its queue (no exit yet); returns it. */
  post(vcpu: Vcpu): VirtioRequest {
    const request = this.requests[vcpu.index];
    request.done.clear();
    this.#posted[vcpu.index] = request;
    return request;
  }

  /**
   * True when a notify of `queue` can reach its worker at the notifier's local time, ahead
   * of the simulator's ({@linkcode notifyAhead}): the worker is a vhost worker asleep
   * waiting for work, and its only submitter is this queue's vCPU, so nothing else can
   * reach it first. Otherwise the notifier waits for its own time and calls
   * {@linkcode notify}.
   */
  canNotifyAhead(queue: number): boolean {
    return this.backends[queue].waitsForOneSubmitter();
  }

  /** The notify reaches the worker at `by`'s local time (after {@linkcode canNotifyAhead}). */
  notifyAhead(queue: number, by: HostThread): void {
    const request = this.#take(queue);
    if (request !== undefined) this.backends[queue].submitAhead(request, by);
  }

  /** The notify reached the backend (ioeventfd): hand it the queue's posted request. */
  notify(queue: number, by: HostThread): void {
    const request = this.#take(queue);
    if (request !== undefined) this.backends[queue].submit(request, TX, by);
  }

  /**
   * The notify was handled on the vCPU's own thread, which sent the request itself (no
   * ioeventfd): only the response comes back through the backend.
   */
  sentByVcpu(queue: number): void {
    const request = this.#take(queue);
    if (request !== undefined) this.sent(request, 0);
  }

  /**
   * @internal The request is on the wire `delayCycles` from now: the response arrives the
   * peer's latency after that.
   */
  sent(request: VirtioRequest, delayCycles: number): void {
    request.response.set(delayCycles + this.#peerLatencyCycles);
  }

  /**
   * @internal The response is in the queue at `by`'s local time, ahead of the simulator's:
   * interrupt the guest then, if its vCPU can take it ahead (else false, and nothing done).
   */
  completeAhead(request: VirtioRequest, by: HostThread): boolean {
    const vcpu = this.vm.vcpus[request.queue];
    if (!vcpu.takesIrqAhead(by.cursorCycles)) return false;
    this.#completed[request.queue][this.#completedCount[request.queue]++] = request;
    vcpu.raiseIrqAhead(this.#irqIds[request.queue], by);
    return true;
  }

  /** @internal The response is in the queue: interrupt the guest. */
  complete(request: VirtioRequest, by: HostThread): void {
    this.#completed[request.queue][this.#completedCount[request.queue]++] = request;
    this.vm.vcpus[request.queue].raiseIrq(this.#irqIds[request.queue], by);
  }

  #take(queue: number): VirtioRequest | undefined {
    const request = this.#posted[queue];
    this.#posted[queue] = undefined;
    return request;
  }

  #queueIrq(): IrqSource {
    const completed = this.#completed;
    const completedCount = this.#completedCount;
    const vm = this.vm;
    return {
      name: "virtio-net",
      guestHandler(vcpu: Vcpu): void {
        vcpu.step(P.GUEST_IO_IRQ);
        if (vm.bounceBuffers) vcpu.step(P.GUEST_BOUNCE_COPY); // copy the response out
        const done = completed[vcpu.index];
        const count = completedCount[vcpu.index];
        for (let i = 0; i < count; i++) done[i].done.set();
        completedCount[vcpu.index] = 0;
      },
    };
  }
}
