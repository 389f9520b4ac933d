/**
 * The host's pCPUs and its scheduler: runnable host threads (vCPU threads, VMM threads, a
 * host daemon) take a free pCPU or queue for one in FIFO order. When threads are queued,
 * the running thread whose time slice ends first is asked to give up its pCPU at its next
 * preemption point (a vCPU in guest mode is forced out by the host timer interrupt), so an
 * overcommitted host time-slices like a round-robin scheduler instead of running threads
 * to completion.
 *
 * @module
 */

import { PRIORITY_URGENT, type Process, ResourceStats, type Simulator } from "../engine/mod.ts";
import type { Timeline } from "../report/timeline.ts";

/** What the pool needs from a thread it schedules. */
export interface CpuClient {
  readonly name: string;
  /** The thread's process (resumed when it is granted a pCPU). */
  readonly process: Process | undefined;
  /** End of the current time slice, set by the pool when the thread gets a pCPU. */
  sliceEndCycles: number;
  /** True once asked to yield; the pool clears it when it grants a pCPU. */
  needResched: boolean;
  /** Asks the thread to give up its pCPU at its next preemption point. */
  requestResched(): void;
  /** True while the thread only polls (a halted vCPU): it yields at once to a waiter. */
  readonly polling: boolean;
  /** The pCPU it holds (set by the pool), or -1. */
  cpuId: number;
  /** Its timeline lane, or -1 when not recorded. */
  readonly lane: number;
}

/** A pool of identical pCPUs with a FIFO run queue and time slices. */
export class CpuPool {
  readonly stats: ResourceStats;
  readonly sim: Simulator;
  readonly timesliceCycles: number;
  readonly #running = new Set<CpuClient>();
  readonly #queue: CpuClient[] = [];
  readonly #queuedSince: number[] = [];
  #queueHead = 0;
  #free: number;
  #preemptionArmed = false;
  /** Free pCPU ids, lowest last (so pCPU 0 is used first). */
  readonly #freeIds: number[];
  /** When each pCPU's current holder got it. */
  readonly #heldSince: Float64Array;
  #timeline: Timeline | undefined;
  #firstLane = -1;
  #queueCounter = -1;

  constructor(sim: Simulator, pcpus: number, timesliceCycles: number) {
    this.sim = sim;
    this.#free = pcpus;
    this.timesliceCycles = timesliceCycles;
    this.stats = new ResourceStats("host/pcpus", "pcpu-pool", pcpus);
    this.#freeIds = Array.from({ length: pcpus }, (_, i) => pcpus - 1 - i);
    this.#heldSince = new Float64Array(pcpus);
  }

  /** Records which thread runs on each pCPU, and the run queue's length, on `timeline`. */
  record(timeline: Timeline): void {
    this.#timeline = timeline;
    this.#firstLane = -1;
    for (let id = 0; id < this.stats.capacity; id++) {
      const lane = timeline.addLane({ name: `pcpu${id}`, kind: "pcpu", group: "host" });
      if (id === 0) this.#firstLane = lane;
    }
    this.#queueCounter = timeline.addCounter("host/run queue");
  }

  /** Closes the occupancy spans still open at the end of the run. */
  finishRecording(endCycles: number): void {
    for (const client of this.#running) this.#recordHold(client, endCycles);
  }

  #recordHold(client: CpuClient, now: number): void {
    const timeline = this.#timeline;
    if (timeline === undefined || client.cpuId < 0) return;
    const since = this.#heldSince[client.cpuId];
    timeline.occupied(this.#firstLane + client.cpuId, client.lane, since, now - since);
  }

  #queueChanged(now: number): void {
    this.stats.queue.set(now, this.queueLength);
    this.#timeline?.sample(this.#queueCounter, now, this.queueLength);
  }

  /** Threads waiting for a pCPU. */
  get queueLength(): number {
    return this.#queue.length - this.#queueHead;
  }

  /** pCPUs not running any thread. */
  get freeCpus(): number {
    return this.#free;
  }

  /**
   * Gives `client` a pCPU now (true), or queues it (false): the pool resumes its process
   * when a pCPU is handed over.
   */
  take(client: CpuClient): boolean {
    const now = this.sim.now;
    if (this.#free > 0 && this.queueLength === 0) {
      this.#free--;
      this.#run(client, now);
      this.stats.granted(0);
      return true;
    }
    this.#queue.push(client);
    this.#queuedSince.push(now);
    this.#queueChanged(now);
    // A polling thread stops as soon as another is runnable (KVM checks single_task_running).
    for (const running of this.#running) {
      if (running.polling && !running.needResched) {
        running.requestResched();
        return false;
      }
    }
    this.#armPreemption();
    return false;
  }

  /** Gives `client`'s pCPU back; the longest-waiting thread, if any, gets it now. */
  release(client: CpuClient): void {
    if (!this.#running.delete(client)) {
      throw new Error(`Cannot release a pCPU for ${client.name}: it does not hold one`);
    }
    const now = this.sim.now;
    this.#recordHold(client, now);
    const cpuId = client.cpuId;
    client.cpuId = -1;
    if (this.queueLength > 0) {
      const next = this.#queue[this.#queueHead];
      const since = this.#queuedSince[this.#queueHead];
      this.#queue[this.#queueHead] = undefined as unknown as CpuClient;
      this.#queueHead++;
      if (this.#queueHead > 1024 && this.#queueHead * 2 > this.#queue.length) this.#compact();
      this.#queueChanged(now);
      this.stats.granted(now - since);
      this.#running.add(next);
      next.sliceEndCycles = now + this.timesliceCycles;
      next.needResched = false;
      next.cpuId = cpuId;
      this.#heldSince[cpuId] = now;
      next.process!.resume();
      this.#armPreemption();
      return;
    }
    this.#free++;
    this.#freeIds.push(cpuId);
    this.stats.busy.set(now, this.#running.size);
  }

  #run(client: CpuClient, now: number): void {
    this.#running.add(client);
    client.sliceEndCycles = now + this.timesliceCycles;
    client.needResched = false;
    client.cpuId = this.#freeIds.pop()!;
    this.#heldSince[client.cpuId] = now;
    this.stats.busy.set(now, this.#running.size);
  }

  /**
   * While threads wait, makes sure the running thread whose slice ends first is asked to
   * yield when its slice ends. Threads already asked are skipped; once every running thread
   * has been asked, the next release re-arms.
   */
  #armPreemption(): void {
    if (this.#preemptionArmed || this.queueLength === 0) return;
    let victim: CpuClient | undefined;
    for (const client of this.#running) {
      if (client.needResched) continue;
      if (victim === undefined || client.sliceEndCycles < victim.sliceEndCycles) victim = client;
    }
    if (victim === undefined) return;
    this.#preemptionArmed = true;
    const chosen = victim;
    this.sim.call(Math.max(0, chosen.sliceEndCycles - this.sim.now), () => {
      this.#preemptionArmed = false;
      if (this.queueLength === 0) return;
      if (this.#running.has(chosen)) chosen.requestResched();
      // Line up the next preemption: the chosen thread yields at its next preemption point.
      this.#armPreemption();
    }, PRIORITY_URGENT);
  }

  #compact(): void {
    this.#queue.splice(0, this.#queueHead);
    this.#queuedSince.splice(0, this.#queueHead);
    this.#queueHead = 0;
  }
}
