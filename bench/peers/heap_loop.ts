/**
 * The engine benchmark's model as a plain TypeScript loop (no processes, no generators):
 * a binary min-heap in typed arrays ordered by (time, sequence) and the same delays. It
 * shows what this language and runtime reach without cvmsim's process machinery; the
 * generator variant adds only a generator resumption per event.
 *
 * @module
 */

import { RngStreams } from "../../src/engine/mod.ts";
import { PROCESSES } from "../engine_model.ts";

/** Runs `events` events; returns events per wall-clock second (best of `rounds`). */
export function heapLoopEventsPerSecond(events: number, rounds = 3): number {
  return bestRate(events, rounds, false);
}

/**
 * The same loop, but each process is a generator that yields its next delay, resumed once
 * per event: the floor of any engine whose processes are generators, as cvmsim's are.
 */
export function generatorHeapLoopEventsPerSecond(events: number, rounds = 3): number {
  return bestRate(events, rounds, true);
}

function bestRate(events: number, rounds: number, generators: boolean): number {
  let best = 0;
  for (let round = 0; round <= rounds; round++) {
    const rng = new RngStreams(1).stream("delays");
    const times = new Float64Array(PROCESSES);
    const ties = new Float64Array(PROCESSES);
    const owners = new Int32Array(PROCESSES);
    const bodies = Array.from({ length: PROCESSES }, () =>
      function* () {
        for (;;) yield rng.int(1, 1000);
      }());
    let sequence = 0;
    for (let p = 0; p < PROCESSES; p++) {
      // All start at time 0 in order: already a heap.
      times[p] = 0;
      ties[p] = sequence++;
      owners[p] = p;
    }
    const start = performance.now();
    let checksum = 0;
    for (let done = 0; done < events; done++) {
      const owner = owners[0];
      checksum += owner;
      const delay = generators ? bodies[owner].next().value as number : rng.int(1, 1000);
      const time = times[0] + delay;
      const tie = sequence++;
      let i = 0;
      for (;;) {
        let child = 2 * i + 1;
        if (child >= PROCESSES) break;
        if (
          child + 1 < PROCESSES &&
          (times[child + 1] < times[child] ||
            (times[child + 1] === times[child] && ties[child + 1] < ties[child]))
        ) child++;
        if (time < times[child] || (time === times[child] && tie < ties[child])) break;
        times[i] = times[child];
        ties[i] = ties[child];
        owners[i] = owners[child];
        i = child;
      }
      times[i] = time;
      ties[i] = tie;
      owners[i] = owner;
    }
    const rate = events / ((performance.now() - start) / 1000);
    if (round > 0) best = Math.max(best, rate); // round 0 warms up the JIT
    if (checksum < 0) console.log(checksum); // keep the work observable
  }
  return best;
}
