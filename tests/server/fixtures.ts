/**
 * A reports directory with a few small, real reports (timelines included), for the
 * server and browser tests.
 *
 * @module
 */

import { execute } from "../../src/cli/execute.ts";
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
  return dir;
}
