/**
 * A reports directory with a few small, real reports (timelines included), for the
 * server and browser tests.
 *
 * @module
 */

import { execute } from "../../src/cli/execute.ts";
import { runPoint } from "../../src/sweep/point.ts";
import { sweepFile, sweepIdentity, writeSweep } from "../../src/sweep/report.ts";
import { parseParam, sweepPoints, type SweepSpec } from "../../src/sweep/spec.ts";
import { load, scenario } from "../helpers.ts";

/** Report ids written by {@linkcode makeReports}. */
export const IDS = {
  kernel: "fixture--vmx.io-in-kernel--seed7",
  vmm: "fixture--vmx.io-in-vmm--seed7",
};

/** Writes the fixture reports into a new temporary directory; returns it. */
export function makeReports(): string {
  const dir = Deno.makeTempDirSync({ prefix: "cvmsim-reports-" });
  const loaded = load(scenario({
    name: "fixture",
    host: { pcpus: 3 },
    guests: [{
      vcpus: 3,
      timerHz: 1000,
      workloads: [
        { kind: "loop", operation: "pio-read", iterations: 400, vcpus: [0, 1] },
        { kind: "loop", operation: "ipi", iterations: 50, vcpus: [2] },
      ],
    }],
    designs: ["vmx.io-in-kernel", "vmx.io-in-vmm"],
  }));
  for (const design of loaded.scenario.designs) {
    execute(loaded, design, dir, { maxSpans: 1_000_000, fromMs: 0, toMs: Infinity, trace: false });
  }
  writeFixtureSweep(dir);
  return dir;
}

/** A small sweep report (pio-read under both designs for 1-3 vCPUs, two repetitions). */
function writeFixtureSweep(dir: string): void {
  const spec: SweepSpec = {
    scenario: scenario({
      name: "fixture-sweep",
      guests: [{ vcpus: 1, workloads: [{ kind: "loop", operation: "pio-read", iterations: 50 }] }],
      designs: ["vmx.io-in-kernel", "vmx.io-in-vmm"],
    }),
    scenarioFile: "fixture-sweep.json",
    params: [parseParam("guests[0].vcpus=1,2,3")],
    designs: ["vmx.io-in-kernel", "vmx.io-in-vmm"],
    repetitions: 2,
  };
  const points = sweepPoints(spec);
  const results = points.map((point) => runPoint(spec, point).result);
  writeSweep(dir, sweepFile(sweepIdentity(spec, points.length), results));
}
