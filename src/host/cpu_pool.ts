/**
 * The host's pCPUs and its scheduler: runnable host threads (vCPU threads, VMM threads, a
 * host daemon) take a free pCPU or queue for one in FIFO order. When threads are queued,
 * the running thread whose time slice ends first is asked to give up its pCPU at its next
 * preemption point (a vCPU in guest mode is forced out by the host timer interrupt), so an
 * overcommitted host time-slices like a round-robin scheduler instead of running threads
 * to completion.
 *
 * Where a thread runs follows Linux's wake-up placement (select_idle_sibling): its previous
 * pCPU if that is idle, else another idle one, else a pCPU whose thread is just blocking
 * (a direct switch), else the queue. Each grant says what the thread finds there — how long
 * the pCPU had been idle (so which idle state it must leave) and who ran there before (so
 * whether caches are cold and, with mitigations, whether KVM must issue an IBPB) — and the
 * thread charges the scheduler's costs from that (HostThread.takeCpu).
 *
 * @module
 */

import {
  PRIORITY_URGENT,
  type Process,
  ResourceStats,
  type Rng,
  type Simulator,
} from "../engine/mod.ts";
import type { Timeline } from "../report/timeline.ts";
import type { IdleState } from "./profile.ts";

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
  /** The pCPU it last held (set by the pool), or -1. */
  lastCpuId: number;
  /** The pool's list of running threads: the ones before and after it (kept by the pool). */
  runningPrev: CpuClient | undefined;
  runningNext: CpuClient | undefined;
  /** True while on the pool's list of running threads (kept by the pool). */
  inRunning: boolean;
  /** Its timeline lane, or -1 when not recorded. */
  readonly lane: number;
  /** What its caches share with other threads: threads of one process share one. */
  readonly addressSpace: string;
  /** Set with each grant: how long the pCPU had been idle (0: it ran a thread until now). */
  grantIdleCycles: number;
  /** Set with each grant: the thread that ran on the pCPU before, if any. */
  grantPrevious: CpuClient | undefined;
}

/** How the host's scheduler and idle loop behave (from the profile and the host options). */
export interface SchedulerConfig {
  /** Idle states the host's CPUs may enter, shallowest first (none: they poll). */
  idleStates: readonly IdleState[];
  /** CPU vulnerability mitigations are on (IBPB when a pCPU switches vCPUs). */
  mitigations: boolean;
  /** Draws wake-up latencies (the scheduler's own stream of the run's seed). */
  rng: Rng | undefined;
  /** The profile's 99th percentiles by primitive id (costs that vary). */
  p99ById?: Float64Array;
}

const NO_SCHEDULER_COSTS: SchedulerConfig = { idleStates: [], mitigations: false, rng: undefined };
const NO_EXIT = { exitCycles: 0, flushesCaches: false };

/** A pool of identical pCPUs with a FIFO run queue and time slices. */
export class CpuPool {
  readonly stats: ResourceStats;
  readonly sim: Simulator;
  readonly timesliceCycles: number;
  readonly config: SchedulerConfig;
  /** Threads holding a pCPU, in the order they got it (see {@linkcode RunningList}). */
  readonly #running = new RunningList();
  readonly #queue: CpuClient[] = [];
  readonly #queuedSince: number[] = [];
  #queueHead = 0;
  #free: number;
  #preemptionArmed = false;
  /** Free pCPU ids; the most recently freed last (pCPU 0 is used first at the start). */
  readonly #freeIds: number[];
  /** Position of each pCPU in #freeIds, or -1 while it runs a thread. */
  readonly #freeAt: Int32Array;
  /** When each pCPU's current holder got it. */
  readonly #heldSince: Float64Array;
  /** When each pCPU last became idle. */
  readonly #idleSince: Float64Array;
  /** The thread each pCPU ran last. */
  readonly #previous: (CpuClient | undefined)[];
  /** The KVM vCPU each pCPU last loaded (for the IBPB on a switch). */
  readonly #loaded: (object | undefined)[];
  /** Releases ahead of the simulator's time ({@linkcode releaseAt}), earliest first. */
  readonly #pendingClients: (CpuClient | undefined)[] = [];
  readonly #pendingAt: number[] = [];
  #pendingCount = 0;
  #settleArmed = false;
  #timeline: Timeline | undefined;
  #firstLane = -1;
  #queueCounter = -1;

  constructor(
    sim: Simulator,
    pcpus: number,
    timesliceCycles: number,
    config: SchedulerConfig = NO_SCHEDULER_COSTS,
  ) {
    this.sim = sim;
    this.#free = pcpus;
    this.timesliceCycles = timesliceCycles;
    this.config = config;
    this.stats = new ResourceStats("host/pcpus", "pcpu-pool", pcpus);
    this.#freeIds = Array.from({ length: pcpus }, (_, i) => pcpus - 1 - i);
    this.#freeAt = Int32Array.from(this.#freeIds, (_, i) => pcpus - 1 - i);
    this.#heldSince = new Float64Array(pcpus);
    this.#idleSince = new Float64Array(pcpus);
    this.#previous = new Array(pcpus).fill(undefined);
    this.#loaded = new Array(pcpus).fill(undefined);
  }

  /**
   * The exit latency of the idle state a pCPU idle for `idleCycles` is in: the deepest
   * allowed state whose target residency the idle time reached (the governor chose it
   * knowing when the next event would come), or 0 when it only polled. `flushed` tells
   * whether that state left the caches cold.
   */
  idleExit(idleCycles: number): { exitCycles: number; flushesCaches: boolean } {
    const states = this.config.idleStates;
    let exit = NO_EXIT;
    for (const state of states) {
      if (state.residencyCycles > idleCycles) break;
      exit = state;
    }
    return exit;
  }

  /** The 99th percentile the profile gives primitive `prim` (0: a fixed cost). */
  p99Of(prim: number): number {
    return this.config.p99ById?.[prim] ?? 0;
  }

  /** A wake-up latency from the profile's median and p99 (the median when not sampling). */
  wakeupCycles(median: number, p99: number): number {
    const rng = this.config.rng;
    return rng === undefined || !(p99 > median) ? median : rng.logNormalInt(median, p99);
  }

  /** True when `key` is not the KVM vCPU pCPU `cpuId` loaded last (and records it). */
  switchesVcpu(cpuId: number, key: object): boolean {
    const switched = this.#loaded[cpuId] !== key;
    this.#loaded[cpuId] = key;
    return switched;
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
    this.#settle(endCycles);
    this.#running.forEach((client) => this.#recordHold(client, endCycles));
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
    if (this.#pendingCount > 0) this.#settle(this.sim.now);
    return this.#free;
  }

  /**
   * Gives `client` a pCPU now (true), or queues it (false): the pool resumes its process
   * when a pCPU is handed over.
   */
  take(client: CpuClient): boolean {
    const now = this.sim.now;
    if (this.#pendingCount > 0) this.#settle(now);
    if (this.#free > 0 && this.queueLength === 0) {
      this.#free--;
      this.#run(client, now, this.#place(client, now));
      this.stats.granted(0);
      return true;
    }
    this.#queue.push(client);
    this.#queuedSince.push(now);
    this.#queueChanged(now);
    // A pCPU given back ahead of the simulator's time goes to the queue at that time.
    if (this.#pendingCount > 0) this.#armSettle();
    // A polling thread stops as soon as another is runnable (KVM checks single_task_running).
    const polling = this.#running.find((running) => running.polling && !running.needResched);
    if (polling !== undefined) {
      polling.requestResched();
      return false;
    }
    this.#armPreemption();
    return false;
  }

  /** Gives `client`'s pCPU back; the longest-waiting thread, if any, gets it now. */
  release(client: CpuClient): void {
    const now = this.sim.now;
    if (this.#pendingCount > 0) this.#settle(now);
    this.#release(client, now);
  }

  /**
   * Gives `client`'s pCPU back at `atCycles`, which may be ahead of the simulator's time (a
   * thread that goes to sleep at its local time), without an event: until then the thread
   * still holds it, exactly as if it had waited for that time and then released. Returns
   * false, and does nothing, when a thread is queued for a pCPU (it would be handed over
   * at that time, which needs an event: the caller waits and calls `release`).
   */
  releaseAt(client: CpuClient, atCycles: number): boolean {
    const now = this.sim.now;
    if (this.#pendingCount > 0) this.#settle(now);
    if (atCycles <= now) {
      this.#release(client, now);
      return true;
    }
    if (this.queueLength > 0) return false;
    // Kept in order of time (there are at most as many as pCPUs).
    let i = this.#pendingCount++;
    const clients = this.#pendingClients;
    const times = this.#pendingAt;
    while (i > 0 && times[i - 1] > atCycles) {
      clients[i] = clients[i - 1];
      times[i] = times[i - 1];
      i--;
    }
    clients[i] = client;
    times[i] = atCycles;
    return true;
  }

  /**
   * Takes back a release {@linkcode releaseAt} has not applied yet: the thread keeps its
   * pCPU. False if there is none pending for `client`.
   */
  keep(client: CpuClient): boolean {
    const clients = this.#pendingClients;
    const times = this.#pendingAt;
    const count = this.#pendingCount;
    const at = clients.indexOf(client);
    if (at < 0 || at >= count) return false;
    for (let i = at + 1; i < count; i++) {
      clients[i - 1] = clients[i];
      times[i - 1] = times[i];
    }
    clients[count - 1] = undefined;
    this.#pendingCount = count - 1;
    return true;
  }

  /** Applies the releases due by `now`, each at its own time. */
  #settle(now: number): void {
    const clients = this.#pendingClients;
    const times = this.#pendingAt;
    const count = this.#pendingCount;
    let done = 0;
    while (done < count && times[done] <= now) {
      this.#release(clients[done]!, times[done]);
      done++;
    }
    if (done === 0) return;
    for (let i = done; i < count; i++) {
      clients[i - done] = clients[i];
      times[i - done] = times[i];
    }
    for (let i = count - done; i < count; i++) clients[i] = undefined;
    this.#pendingCount = count - done;
  }

  /** A thread queued while pCPUs are being given back ahead of time: hand over then. */
  #armSettle(): void {
    if (this.#settleArmed) return;
    this.#settleArmed = true;
    this.sim.call(this.#pendingAt[0] - this.sim.now, () => {
      this.#settleArmed = false;
      this.#settle(this.sim.now);
      if (this.#pendingCount > 0 && this.queueLength > 0) this.#armSettle();
    }, PRIORITY_URGENT);
  }

  #release(client: CpuClient, now: number): void {
    if (!this.#running.delete(client)) {
      throw new Error(`Cannot release a pCPU for ${client.name}: it does not hold one`);
    }
    this.#recordHold(client, now);
    const cpuId = client.cpuId;
    client.cpuId = -1;
    client.lastCpuId = cpuId;
    this.#previous[cpuId] = client;
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
      next.grantIdleCycles = 0; // handed over from a running thread
      next.grantPrevious = client;
      this.#heldSince[cpuId] = now;
      next.process!.resume();
      this.#armPreemption();
      return;
    }
    this.#free++;
    this.#freeAt[cpuId] = this.#freeIds.push(cpuId) - 1;
    this.#idleSince[cpuId] = now;
    this.stats.busy.set(now, this.#running.size);
  }

  /**
   * The free pCPU a thread runs on: its previous one if that was already idle, else the
   * most recently freed pCPU that was already idle, else one freed just now (whose thread
   * is blocking: the thread runs there without the pCPU ever idling).
   */
  #place(client: CpuClient, now: number): number {
    const last = client.lastCpuId;
    if (last >= 0 && this.#freeAt[last] >= 0 && this.#idleSince[last] < now) return last;
    const ids = this.#freeIds;
    for (let i = ids.length - 1; i >= 0; i--) {
      if (this.#idleSince[ids[i]] < now) return ids[i];
    }
    return last >= 0 && this.#freeAt[last] >= 0 ? last : ids[ids.length - 1];
  }

  #run(client: CpuClient, now: number, cpuId: number): void {
    this.#running.add(client);
    client.sliceEndCycles = now + this.timesliceCycles;
    client.needResched = false;
    // Take cpuId out of the free list (swap it with the last).
    const ids = this.#freeIds;
    const at = this.#freeAt[cpuId];
    const moved = ids.pop()!;
    if (moved !== cpuId) {
      ids[at] = moved;
      this.#freeAt[moved] = at;
    }
    this.#freeAt[cpuId] = -1;
    client.cpuId = cpuId;
    client.grantIdleCycles = now - this.#idleSince[cpuId];
    client.grantPrevious = this.#previous[cpuId];
    this.#heldSince[cpuId] = now;
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
    this.#running.forEach((client) => {
      if (client.needResched) return;
      if (victim === undefined || client.sliceEndCycles < victim.sliceEndCycles) victim = client;
    });
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

/**
 * The running threads, in the order they got a pCPU (the order a Set would iterate them in,
 * which decides ties between threads the scheduler asks to yield), as a list through the
 * threads themselves: adding and removing one allocates nothing and hashes nothing, on
 * every wake-up and sleep.
 */
class RunningList {
  size = 0;
  #head: CpuClient | undefined;
  #tail: CpuClient | undefined;

  add(client: CpuClient): void {
    if (client.inRunning) return;
    client.inRunning = true;
    client.runningPrev = this.#tail;
    client.runningNext = undefined;
    if (this.#tail === undefined) this.#head = client;
    else this.#tail.runningNext = client;
    this.#tail = client;
    this.size++;
  }

  /** Removes `client`; false if it was not on the list. */
  delete(client: CpuClient): boolean {
    if (!client.inRunning) return false;
    client.inRunning = false;
    const prev = client.runningPrev, next = client.runningNext;
    if (prev === undefined) this.#head = next;
    else prev.runningNext = next;
    if (next === undefined) this.#tail = prev;
    else next.runningPrev = prev;
    client.runningPrev = client.runningNext = undefined;
    this.size--;
    return true;
  }

  has(client: CpuClient): boolean {
    return client.inRunning;
  }

  forEach(visit: (client: CpuClient) => void): void {
    for (let c = this.#head; c !== undefined; c = c.runningNext) visit(c);
  }

  find(test: (client: CpuClient) => boolean): CpuClient | undefined {
    for (let c = this.#head; c !== undefined; c = c.runningNext) if (test(c)) return c;
    return undefined;
  }
}
