/**
 * The engine benchmark model, shared by the `deno bench` file and the peer comparison:
 * 1000 processes, each waiting a random delay of 1..1000 cycles and rescheduling. The
 * same model also runs as 1000 re-arming timers (the engine's callback events, which the
 * models use for APIC timers, virtio responses and preemption checks): what the engine
 * costs without a generator to resume.
 *
 * @module
 */

import { RngStreams, Simulator } from "../src/engine/mod.ts";

/** Number of processes in the model. */
export const PROCESSES = 1000;

/** Runs the model for `events` events; returns the events processed. */
export function runTimeoutModel(events: number, seed = 1): number {
  const sim = new Simulator();
  const rng = new RngStreams(seed).stream("delays");
  for (let i = 0; i < PROCESSES; i++) {
    sim.process(
      `p${i}`,
      function* () {
        for (;;) yield rng.int(1, 1000);
      }(),
    );
  }
  return sim.run({ maxEvents: events }).events;
}

/** The same model with timers: each callback re-arms its own timer with the next delay. */
export function runTimerModel(events: number, seed = 1): number {
  const sim = new Simulator();
  const rng = new RngStreams(seed).stream("delays");
  for (let i = 0; i < PROCESSES; i++) {
    const timer = sim.timer(() => timer.set(rng.int(1, 1000)));
    timer.set(0);
  }
  return sim.run({ maxEvents: events }).events;
}

/** Measures events per wall-clock second of `model` (best of `rounds`). */
export function measureEventsPerSecond(
  events: number,
  rounds = 3,
  model: (events: number) => number = runTimeoutModel,
): number {
  model(events / 4); // warm up the JIT
  let best = 0;
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    const done = model(events);
    best = Math.max(best, done / ((performance.now() - start) / 1000));
  }
  return best;
}
