/**
 * The engine model (1000 processes, each waiting a random delay of 1..1000 cycles and
 * rescheduling) in cvmsim's engine and in its peers, in one run on this machine: a C++
 * binary-heap loop (bench/peers/heap_loop.cpp, built here with g++ -O2), the same loop in
 * plain TypeScript (bench/peers/heap_loop.ts), that loop resuming a generator per event
 * (the floor of a generator-process engine) and SimPy 2.3.1 (Debian's python3-simpy,
 * when installed). Prints each one's events per second and cvmsim's ratio to each.
 *
 * ```sh
 * deno run --allow-run --allow-read --allow-write bench/peers/compare.ts
 * ```
 *
 * @module
 */

import { measureEventsPerSecond, runTimerModel } from "../engine_model.ts";
import { generatorHeapLoopEventsPerSecond, heapLoopEventsPerSecond } from "./heap_loop.ts";

const EVENTS = 4_000_000;
const here = (file: string) => new URL(`./${file}`, import.meta.url).pathname;

function run(command: string, args: string[]): string | undefined {
  try {
    const output = new Deno.Command(command, { args, stderr: "piped" }).outputSync();
    if (!output.success) {
      console.log(`${command} failed: ${new TextDecoder().decode(output.stderr).trim()}`);
      return undefined;
    }
    return new TextDecoder().decode(output.stdout).trim();
  } catch {
    return undefined;
  }
}

const rate = (line: string | undefined) => Number(/events\/s (\d+)/.exec(line ?? "")?.[1]);

// C++ first, while the machine is quiet; then the JavaScript ones, best of three each.
const binary = `${Deno.makeTempDirSync({ prefix: "cvmsim-peers-" })}/heap_loop`;
const built = run("g++", ["-O2", "-std=c++17", "-o", binary, here("heap_loop.cpp")]) !== undefined;
const cpp = built ? rate(run(binary, [String(EVENTS)])) : NaN;
const cvmsim = measureEventsPerSecond(EVENTS);
const timers = measureEventsPerSecond(EVENTS, 3, runTimerModel);
const plain = heapLoopEventsPerSecond(EVENTS);
const generators = generatorHeapLoopEventsPerSecond(EVENTS);

const python = ["/usr/bin/python3", "python3"].find((p) => {
  try {
    return new Deno.Command(p, { args: ["-c", "import SimPy"], stderr: "null" }).outputSync()
      .success;
  } catch {
    return false;
  }
});
const simpy = python === undefined
  ? NaN
  : rate(run(python, [here("simpy_timeouts.py"), String(EVENTS / 4)]));

const show = (n: number) => Number.isNaN(n) ? "n/a" : `${(n / 1e6).toFixed(2)} M`;
console.log(`cvmsim engine        ${show(cvmsim)} events/s (generator processes)`);
console.log(`  with timers        ${show(timers)} events/s (callbacks, no generator)`);
console.log(`C++ heap loop (-O2)  ${show(cpp)} events/s${built ? "" : " (g++ not found)"}`);
console.log(`TypeScript heap loop ${show(plain)} events/s`);
console.log(`  + a generator each  ${show(generators)} events/s`);
console.log(
  `SimPy 2.3.1          ${show(simpy)} events/s${
    python === undefined ? " (apt-get install -y python3-simpy)" : ""
  }`,
);
if (!Number.isNaN(cpp)) {
  console.log(`ratio cvmsim / C++: ${(cvmsim / cpp).toFixed(2)}`);
  console.log(`ratio cvmsim timers / C++: ${(timers / cpp).toFixed(2)}`);
}
console.log(`ratio cvmsim / TypeScript heap: ${(cvmsim / plain).toFixed(2)}`);
console.log(`ratio cvmsim / TypeScript heap with generators: ${(cvmsim / generators).toFixed(2)}`);
if (!Number.isNaN(simpy)) console.log(`ratio cvmsim / SimPy: ${(cvmsim / simpy).toFixed(1)}`);
