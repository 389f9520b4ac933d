/**
 * Builds the emulated host for one scenario under one design, runs it, and summarizes it.
 * This is the only place that wires models together.
 *
 * @module
 */

import { FifoServer, RngStreams, Simulator } from "../engine/mod.ts";
import { vcpuLoop } from "../kvm/vcpu_loop.ts";
import { Vm } from "../kvm/vm.ts";
import type { Vcpu } from "../kvm/vcpu.ts";
import { Recorder } from "../report/recorder.ts";
import { buildSummary, type StopOutcome, type Summary } from "../report/summary.ts";
import { SequenceProgram } from "../workloads/program.ts";
import { createProgram, type WorkloadSpec } from "../workloads/workloads.ts";
import { findDesign, findPlatform, guestDesign } from "./catalog.ts";
import type { LoadedScenario } from "./load.ts";

/** Options of {@linkcode simulate}. */
export interface SimulateOptions {
  /** Called now and then with simulated progress (for a progress line). */
  onProgress?: (simulatedCycles: number, limitCycles: number) => void;
}

/** A finished run. */
export interface SimulationResult {
  summary: Summary;
  /** The vCPU threads, for tests that inspect accounts directly. */
  vcpus: Vcpu[];
}

/** Runs `loaded` under design `designName` (which must be valid for it). */
export function simulate(
  loaded: LoadedScenario,
  designName: string,
  options: SimulateOptions = {},
): SimulationResult {
  const { scenario, profile } = loaded;
  const design = findDesign(designName);
  if (design === undefined) {
    throw new Error(`Cannot simulate design ${designName}: it is not in the catalogue`);
  }
  const sim = new Simulator();
  const rngs = new RngStreams(scenario.seed);
  const recorder = new Recorder();
  const costs = profile.cyclesById;
  const cyclesPerMs = scenario.host.clockGHz * 1e6;
  const pcpus = new FifoServer(sim, "host/pcpus", scenario.host.pcpus, "pcpu-pool");
  recorder.addResource(pcpus.stats);
  const stopWhenComplete = scenario.stop.when === "workloads-complete";
  let running = 0;
  const onFinished = () => {
    if (--running === 0 && stopWhenComplete) sim.stop();
  };
  const vcpus: Vcpu[] = [];
  for (const guest of scenario.guests) {
    const vm = new Vm(sim, costs, guest.name, guest.vcpus, guest.memoryMiB);
    recorder.addResource(vm.vmmLock.stats);
    const effective = guestDesign(design, guest.platform);
    const platformVm = findPlatform(effective.platform)!.createVm(vm, effective.choices);
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
      })
    );
    for (const vcpu of vm.vcpus) {
      vcpus.push(vcpu);
      const mine = guest.workloads.flatMap((workload, i) =>
        runsOn(workload, vcpu.index) ? [i] : []
      );
      if (mine.length === 0) continue; // an idle vCPU: its whole run is charged as idle
      const programs = mine.map((i) =>
        createProgram(guest.workloads[i], {
          rng: rngs.stream(`${guest.name}/vcpu${vcpu.index}/workload${i}`),
          cyclesPerMs,
        })
      );
      running++;
      vcpu.start(vcpuLoop({
        vcpu,
        program: new SequenceProgram(programs),
        workloadIds: mine.map((i) => workloadIds[i]),
        platform: platformVm,
        pcpus,
        recorder,
        onFinished,
      }));
    }
  }
  const limitCycles = Math.round(scenario.stop.simulatedMs * cyclesPerMs);
  const onProgress = options.onProgress;
  const result = sim.run({
    untilCycles: limitCycles,
    onProgress: onProgress && ((now) => onProgress(now, limitCycles)),
  });
  const stop: StopOutcome = result.reason === "stopped"
    ? "workloads-complete"
    : stopWhenComplete
    ? "time-limit"
    : "time";
  // A thread may have charged private steps past the stop time; close every account there.
  let endCycles = result.nowCycles;
  for (const vcpu of vcpus) endCycles = Math.max(endCycles, vcpu.cursorCycles);
  for (const vcpu of vcpus) vcpu.finalize(endCycles);
  const summary = buildSummary({
    scenario,
    design,
    profile,
    vcpus,
    recorder,
    endCycles,
    stop,
    events: sim.eventsProcessed,
  });
  return { summary, vcpus };
}
