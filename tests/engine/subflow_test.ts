/**
 * Sub-flows: a process that yields a generator runs it as `yield*` would (same order,
 * same times, its return value and its exceptions back to the caller), waking only the
 * innermost generator.
 */
import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import { Signal, Simulator, type Yieldable } from "../../src/engine/mod.ts";

type Flow<T = void> = Generator<Yieldable, T, unknown>;

/** Runs the same nested program with sub-flows and with `yield*`; returns both logs. */
function both(program: (log: string[], delegate: boolean) => Flow): [string[], string[]] {
  const logs: string[][] = [];
  for (const delegate of [false, true]) {
    const sim = new Simulator();
    const log: string[] = [];
    sim.process("a", program(log, delegate));
    sim.process(
      "b",
      (function* () {
        for (let i = 0; i < 3; i++) {
          yield 7;
          log.push(`b at ${sim.now}`);
        }
      })(),
    );
    sim.run();
    logs.push(log);
  }
  return [logs[0], logs[1]];
}

Deno.test("a sub-flow runs in place, with the same order and times as yield*", () => {
  const program = (log: string[], delegate: boolean) =>
    function* (): Flow {
      function* leaf(n: number): Flow<number> {
        yield 5;
        log.push(`leaf ${n}`);
        return n * 2;
      }
      function* middle(): Flow<number> {
        let sum = 0;
        for (let n = 1; n <= 2; n++) {
          sum += delegate ? yield* leaf(n) : (yield leaf(n)) as number;
        }
        return sum;
      }
      const total = delegate ? yield* middle() : (yield middle()) as number;
      log.push(`total ${total}`);
    }();
  const [flat, delegated] = both(program);
  deepStrictEqual(flat, delegated);
  deepStrictEqual(flat, ["leaf 1", "b at 7", "leaf 2", "total 6", "b at 14", "b at 21"]);
});

Deno.test("an exception in a sub-flow reaches its caller, which may catch it", () => {
  const sim = new Simulator();
  const log: string[] = [];
  function* failing(): Flow {
    yield 3;
    throw new Error("boom");
  }
  sim.process(
    "p",
    (function* (): Flow {
      try {
        yield failing();
      } catch (error) {
        log.push(`caught ${(error as Error).message} at ${sim.now}`);
      }
      yield 1;
      log.push(`after at ${sim.now}`);
    })(),
  );
  sim.run();
  deepStrictEqual(log, ["caught boom at 3", "after at 4"]);
  // Uncaught, it leaves the run, as before.
  const other = new Simulator();
  other.process(
    "q",
    (function* (): Flow {
      yield failing();
    })(),
  );
  throws(() => other.run(), /boom/);
});

Deno.test("a waitable and an interrupt reach the innermost sub-flow", () => {
  const sim = new Simulator();
  const signal = new Signal();
  const log: string[] = [];
  function* inner(): Flow {
    yield signal;
    log.push(`signalled at ${sim.now}`);
    const cause = yield 100;
    log.push(`woken at ${sim.now} by ${String(cause)}`);
  }
  const p = sim.process(
    "p",
    (function* (): Flow {
      yield inner();
      log.push(`outer at ${sim.now}`);
    })(),
  );
  sim.call(10, () => signal.fire());
  sim.call(20, () => p.interrupt("kick"));
  sim.run();
  deepStrictEqual(log, ["signalled at 10", "woken at 20 by kick", "outer at 20"]);
  strictEqual(p.done, true);
});
