/**
 * Builds the emulated host for one scenario under one design, runs it, and summarizes it.
 * This is the only place that wires models together.
 *
 * @module
 */

import { FifoServer, Latch, type Process, RngStreams, Simulator } from "../engine/mod.ts";
import { CpuPool, type SchedulerConfig } from "../host/cpu_pool.ts";
import type { ResolvedProfile } from "../host/profile.ts";
import { type Flow, HostThread } from "../host/thread.ts";
import { vcpuLoop } from "../kvm/guest.ts";
import { afterLaunch, launchVm } from "../kvm/launch.ts";
import type { HostHardware } from "../kvm/platform.ts";
import type { VcpuHostConfig } from "../kvm/vcpu.ts";
import type { Vcpu } from "../kvm/vcpu.ts";
import { type BackendKind, BackendThread, VirtioNet } from "../kvm/virtio.ts";
import { type HostEnv, type OutcomeSink, Vm } from "../kvm/vm.ts";
import { emptyMemoryTotals, Recorder } from "../report/recorder.ts";
import {
  type LaneKind,
  recordExclusive,
  Timeline,
  type TimelineOptions,
} from "../report/timeline.ts";
import { buildSummary, type StopOutcome, type Summary } from "../report/summary.ts";
import { SequenceProgram } from "../workloads/program.ts";
import { createProgram, type WorkloadSpec } from "../workloads/workloads.ts";
import { findDesign, findPlatform, guestDesign, withChoices } from "./catalog.ts";
import { designSetup, type LoadedScenario, usesVirtio } from "./load.ts";

/**
 * How the host's scheduler behaves under `profile` with the host's idle policy: the idle
 * states it may enter, mitigations, and its own random stream for wake-up latencies.
 */
export function schedulerConfig(
  profile: ResolvedProfile,
  cpuIdle: "poll" | "shallow" | "deep",
  rngs: RngStreams,
): SchedulerConfig {
  return {
    idleStates: cpuIdle === "poll"
      ? []
      : profile.idleStates.filter((state) => cpuIdle === "deep" || !state.deep),
    mitigations: profile.mitigations,
    rng: rngs.stream("host/scheduler"),
    p99ById: profile.p99ById,
  };
}

/** Options of {@linkcode simulate}. */
export interface SimulateOptions {
  /** Called now and then with simulated progress (for a progress line). */
  onProgress?: (simulatedCycles: number, limitCycles: number) => void;
  /** Record a timeline within these limits (no timeline when absent). */
  timeline?: TimelineOptions;
}

/** A finished run. */
export interface SimulationResult {
  summary: Summary;
  /** The vCPU threads, for tests that inspect accounts directly. */
  vcpus: Vcpu[];
  /** The other host threads (backends, daemons). */
  threads: HostThread[];
  /** The recorded timeline, when asked for. */
  timeline: Timeline | undefined;
}

/** Runs `loaded` under design `designName` (which must be valid for it). */
export function simulate(
  loaded: LoadedScenario,
  designName: string,
  options: SimulateOptions = {},
): SimulationResult {
  const simulation = startSimulation(loaded, designName, options);
  simulation.step(Infinity);
  return simulation.finish();
}

/**
 * A run that goes on in steps, so that a caller can look up between them (for Ctrl-C, or
 * to stop at an event limit) and end it early with the accounts closed where it stopped.
 */
export interface Simulation {
  /** Runs at most `maxEvents` more events; true once the run has ended by itself. */
  step(maxEvents: number): boolean;
  /** Events processed so far. */
  readonly events: number;
  /**
   * Closes every account and builds the summary. `cut` says why a run that had not ended
   * by itself stopped where it did (it is then partial).
   */
  finish(cut?: "interrupted" | "event-limit"): SimulationResult;
}

/** Builds the host model for `loaded` under `designName`, ready to {@linkcode Simulation.step}. */
export function startSimulation(
  loaded: LoadedScenario,
  designName: string,
  options: SimulateOptions = {},
): Simulation {
  const catalogued = findDesign(designName);
  if (catalogued === undefined) {
    throw new Error(`Cannot simulate design ${designName}: it is not in the catalogue`);
  }
  const { scenario, profile } = designSetup(loaded, designName);
  const design = withChoices(catalogued, scenario.choices);
  const host = scenario.host;
  const sim = new Simulator();
  const rngs = new RngStreams(scenario.seed);
  const recorder = new Recorder();
  const cyclesPerSecond = host.clockGHz * 1e9;
  const cyclesPerMs = cyclesPerSecond / 1e3;
  const cyclesPerUs = cyclesPerSecond / 1e6;
  const pool = new CpuPool(
    sim,
    host.pcpus,
    Math.round(host.timesliceUs * cyclesPerUs),
    schedulerConfig(profile, host.cpuIdle, rngs),
  );
  recorder.addResource(pool.stats);
  const config: VcpuHostConfig = {
    postedInterrupts: host.postedInterrupts,
    ipiVirtualization: host.ipiVirtualization,
    haltPollCycles: Math.round(host.haltPollUs * cyclesPerUs),
  };
  const vms: Vm[] = [];
  let panicked = false;
  const outcomes: OutcomeSink = {
    record: (atCycles, kind, subject, cause) => {
      // Nothing happens on a panicked host: what its threads did after is not an outcome.
      if (!panicked) recorder.recordOutcome(atCycles, kind, subject, cause);
    },
    panic: (atCycles, cause) => {
      if (panicked) return;
      panicked = true;
      recorder.recordOutcome(atCycles, "host-panic", "host", cause);
      for (const vm of vms) recorder.recordOutcome(atCycles, "service-lost", vm.name, "host panic");
      sim.stop(); // nothing runs on a panicked host
    },
  };
  const env: HostEnv = {
    sim,
    costs: profile.cyclesById,
    pool,
    config,
    outcomes,
    translation: profile.translation,
    memoryVcpus: scenario.guests.reduce(
      (sum, guest) =>
        sum +
        Array.from({ length: guest.vcpus }, (_, i) => i).filter((i) =>
          guest.workloads.some((w) =>
            w.kind === "memory" && (w.vcpus === "all" || w.vcpus.includes(i))
          )
        ).length,
      0,
    ),
  };
  const timeline = options.timeline === undefined ? undefined : new Timeline(options.timeline);
  const laneByProcess = new Map<Process, number>();
  const laneOf = (process: Process) => laneByProcess.get(process) ?? -1;
  const closeHolds: ((endCycles: number) => void)[] = [];
  /** Starts a thread, giving it a timeline lane when recording. */
  const start = (thread: HostThread, body: Flow, kind: LaneKind, group: string) => {
    if (timeline !== undefined) {
      thread.timeline = timeline;
      thread.lane = timeline.addLane({ name: thread.name, kind, group });
    }
    thread.start(body);
    laneByProcess.set(thread.process!, thread.lane);
  };
  const threads: HostThread[] = [];
  /** Starts a backend thread; `vm` is the VM it serves (none for a host-wide daemon). */
  const startBackend = (name: string, kind: BackendKind, vm?: Vm) => {
    const thread = new BackendThread(env, name, kind, kind === "vmm" ? vm?.vmmLock : undefined);
    // vhost workers run in their VM's VMM process's address space; the daemon in its own.
    if (vm !== undefined) thread.addressSpace = vm.name;
    threads.push(thread);
    start(thread, thread.run(), "thread", vm?.name ?? "host");
    return thread;
  };
  let daemon: BackendThread | undefined;
  let psp: FifoServer | undefined;
  /** Host-wide hardware, built on first use (only SNP guests use the PSP). */
  const hardware: HostHardware = {
    get psp() {
      if (psp === undefined) {
        psp = new FifoServer(sim, "host/psp", 1, "psp");
        recorder.addResource(psp.stats);
        if (timeline !== undefined) {
          closeHolds.push(recordExclusive(timeline, psp.name, "host", psp.stats, laneOf));
        }
      }
      return psp;
    },
  };
  const stopWhenComplete = scenario.stop.when === "workloads-complete";
  let running = 0;
  const onFinished = () => {
    if (--running === 0 && stopWhenComplete) sim.stop();
  };
  const vcpus: Vcpu[] = [];
  for (const guest of scenario.guests) {
    const vm = new Vm(env, {
      name: guest.name,
      vcpus: guest.vcpus,
      memoryMiB: guest.memoryMiB,
      hostPageSize: guest.hostPageSize,
      timerHz: guest.timerHz,
      faults: guest.faults.map((fault) => ({
        kind: fault.kind,
        vcpu: fault.vcpu,
        atCycles: Math.round(fault.atMs * cyclesPerMs),
      })),
    }, cyclesPerSecond);
    vms.push(vm);
    const kvmLocks = [vm.vmmLock.stats, vm.mmuLock.stats, vm.slotsLock.stats];
    const effective = withChoices(guestDesign(design, guest.platform), scenario.choices);
    const platformVm = findPlatform(effective.platform)!.createVm(vm, effective.choices, hardware);
    const platformLocks = platformVm.resources?.() ?? [];
    for (const vcpu of vm.vcpus) vcpu.platform = platformVm;
    // Threads the platform runs besides the vCPUs (VSM: a VMM thread per vCPU for VTL1).
    const spawn = (name: string) => {
      const thread = new HostThread(sim, env.costs, pool, name, "vmm");
      thread.addressSpace = vm.name;
      return thread;
    };
    for (const { thread, body } of platformVm.hostThreads?.(spawn) ?? []) {
      threads.push(thread);
      start(thread, body, "thread", vm.name);
    }
    // A VM with a launch (SNP) is launched by its VMM thread before any vCPU runs.
    const launched = platformVm.launch === undefined ? undefined : new Latch(1);
    if (launched !== undefined) {
      const vmm = new HostThread(sim, env.costs, pool, `${vm.name}/vmm`, "vmm");
      vmm.addressSpace = vm.name;
      threads.push(vmm);
      start(vmm, launchVm(vmm, platformVm, launched), "thread", vm.name);
    }
    if (usesVirtio(guest)) {
      const kind = effective.choices.virtio ?? "vhost";
      // vhost: a worker per queue; QEMU: its one I/O thread; daemon: one for the host.
      let perQueue: BackendThread[];
      if (kind === "vhost") {
        perQueue = vm.vcpus.map((vcpu) =>
          startBackend(`${vm.name}/vhost${vcpu.index}`, "vhost", vm)
        );
      } else {
        const shared = kind === "daemon"
          ? (daemon ??= startBackend("host/net-daemon", "daemon"))
          : startBackend(`${vm.name}/iothread`, "vmm", vm);
        perQueue = vm.vcpus.map(() => shared);
      }
      vm.net = new VirtioNet(vm, perQueue, Math.round(guest.network.peerLatencyUs * cyclesPerUs));
    }
    const runsOn = (workload: WorkloadSpec, index: number) =>
      workload.vcpus === "all" || workload.vcpus.includes(index);
    const workloadIds = guest.workloads.map((workload, i) =>
      recorder.addWorkload({
        guest: guest.name,
        index: i,
        kind: workload.kind,
        vcpus: vm.vcpus.filter((vcpu) => runsOn(workload, vcpu.index)).length,
        operations: 0,
        finishedVcpus: 0,
        ...(workload.kind === "memory" ? { memory: emptyMemoryTotals() } : {}),
      })
    );
    for (const vcpu of vm.vcpus) {
      vcpus.push(vcpu);
      const mine = guest.workloads.flatMap((w, i) => runsOn(w, vcpu.index) ? [i] : []);
      const program = mine.length === 0 ? undefined : new SequenceProgram(mine.map((i) => {
        const sharing = vm.vcpus.filter((v) => runsOn(guest.workloads[i], v.index));
        return createProgram(guest.workloads[i], {
          rng: rngs.stream(`${guest.name}/vcpu${vcpu.index}/workload${i}`),
          cyclesPerMs,
          rank: sharing.indexOf(vcpu),
          ranks: sharing.length,
          guestMemoryMiB: guest.memoryMiB,
        });
      }));
      if (program !== undefined) running++;
      const body = vcpuLoop({
        vcpu,
        vm,
        program,
        workloadIds: mine.map((i) => workloadIds[i]),
        recorder,
        onFinished,
      });
      start(
        vcpu,
        launched === undefined ? body : afterLaunch(vcpu, launched, body),
        "vcpu",
        vm.name,
      );
    }
    for (const stats of [...kvmLocks, ...platformLocks]) recorder.addResource(stats);
    if (timeline !== undefined) {
      const followed = platformVm.record === undefined ? [...kvmLocks, ...platformLocks] : kvmLocks;
      for (const stats of followed) {
        closeHolds.push(recordExclusive(timeline, stats.name, vm.name, stats, laneOf));
      }
      if (platformVm.record !== undefined) closeHolds.push(platformVm.record(timeline));
    }
  }
  if (timeline !== undefined) pool.record(timeline);
  const limitCycles = Math.round(scenario.stop.simulatedMs * cyclesPerMs);
  const onProgress = options.onProgress;
  let ended: "stopped" | "until" | undefined;
  let nowCycles = 0;
  return {
    get events() {
      return sim.eventsProcessed;
    },
    step(maxEvents) {
      if (ended !== undefined) return true;
      const result = sim.run({
        untilCycles: limitCycles,
        maxEvents,
        onProgress: onProgress && ((now) => onProgress(now, limitCycles)),
      });
      nowCycles = result.nowCycles;
      if (result.reason === "max-events") return false;
      ended = result.reason === "stopped" ? "stopped" : "until";
      return true;
    },
    finish(cut) {
      const stop: StopOutcome = panicked
        ? "host-panic"
        : ended === undefined
        ? cut ?? "interrupted"
        : ended === "stopped"
        ? "workloads-complete"
        : stopWhenComplete
        ? "time-limit"
        : "time";
      // A thread may have charged private steps past the stop time; close every account there.
      const all: HostThread[] = [...vcpus, ...threads];
      let endCycles = nowCycles;
      for (const thread of all) endCycles = Math.max(endCycles, thread.cursorCycles);
      for (const thread of all) thread.finalize(endCycles);
      pool.finishRecording(endCycles);
      for (const close of closeHolds) close(endCycles);
      for (const o of recorder.outcomes) timeline?.outcome(o.atCycles, o.kind, o.subject, o.cause);
      const summary = buildSummary({
        scenario,
        design,
        profile,
        vcpus,
        threads,
        recorder,
        endCycles,
        stop,
        events: sim.eventsProcessed,
      });
      return { summary, vcpus, threads, timeline };
    },
  };
}
