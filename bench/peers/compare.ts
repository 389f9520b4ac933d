/**
 * Runs the engine model in cvmsim and in SimPy 2.3.1 on this machine and prints the
 * ratio. Needs Debian's python3-simpy (`apt-get install -y python3-simpy`).
 *
 * ```sh
 * deno run --allow-run --allow-read bench/peers/compare.ts
 * ```
 *
 * @module
 */

import { measureEventsPerSecond } from "../engine_model.ts";

const EVENTS = 2_000_000;

const cvmsim = measureEventsPerSecond(EVENTS);
console.log(`cvmsim events/s ${cvmsim.toFixed(0)}`);

// Debian's own interpreter: a pyenv shim earlier on PATH would lack SimPy.
const python = ["/usr/bin/python3", "python3"].find((p) => {
  try {
    return new Deno.Command(p, { args: ["-c", "import SimPy"], stderr: "null" }).outputSync()
      .success;
  } catch {
    return false;
  }
});
if (python === undefined) {
  console.log("SimPy not found: apt-get install -y python3-simpy");
  Deno.exit(1);
}
const script = new URL("./simpy_timeouts.py", import.meta.url).pathname;
const output = new Deno.Command(python, { args: [script, String(EVENTS / 2)] }).outputSync();
const line = new TextDecoder().decode(output.stdout).trim();
console.log(line);
const simpy = Number(/events\/s (\d+)/.exec(line)?.[1]);
console.log(`ratio cvmsim / simpy: ${(cvmsim / simpy).toFixed(1)}x`);
