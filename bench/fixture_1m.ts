/**
 * A report whose timeline holds one million spans (virtio-rr under vhost, recorded until
 * the span limit), for the dashboard benchmarks. Written once per directory.
 *
 * @module
 */

import { execute } from "../src/cli/execute.ts";
import { loadScenario } from "../src/scenario/load.ts";

/** The id of the 1 M-span report. */
export const BIG_ID = "virtio-rr--vmx.io-in-kernel--seed11";

/** Writes (or reuses) the 1 M-span report under `dir`; returns `dir`. */
export function bigReport(dir = `${Deno.makeTempDirSync({ prefix: "cvmsim-1m-" })}`): string {
  try {
    Deno.statSync(`${dir}/${BIG_ID}/timeline.bin`);
    return dir;
  } catch {
    // not there yet
  }
  const loaded = loadScenario(new URL("../scenarios/virtio-rr.json", import.meta.url).pathname);
  loaded.scenario.stop = { when: "time", simulatedMs: 200 };
  execute(loaded, "vmx.io-in-kernel", dir, {
    maxSpans: 1_000_000,
    fromMs: 0,
    toMs: Infinity,
    trace: false,
  });
  return dir;
}
