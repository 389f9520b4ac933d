/**
 * Engine throughput: the 1000-process timeout model, 1 M events per iteration, so
 * events/s = 1 M × iter/s. Target: at least 8 M events/s on a 2-core machine.
 *
 * ```sh
 * deno bench bench/engine_bench.ts
 * ```
 */

import { runTimeoutModel, runTimerModel } from "./engine_model.ts";

Deno.bench("engine: 1000 processes, random delays, 1 M events", { group: "engine" }, () => {
  runTimeoutModel(1_000_000);
});

Deno.bench("engine: 1000 re-arming timers, random delays, 1 M events", { group: "engine" }, () => {
  runTimerModel(1_000_000);
});
