import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import { Latch, type Process, Signal, Simulator } from "../../src/engine/mod.ts";

Deno.test("processes advance the clock by the delays they yield", () => {
  const sim = new Simulator();
  const seen: number[] = [];
  sim.process(
    "p",
    function* () {
      seen.push(sim.now);
      yield 10;
      seen.push(sim.now);
      yield 0;
      seen.push(sim.now);
      yield 32;
      seen.push(sim.now);
    }(),
  );
  const result = sim.run();
  deepStrictEqual(seen, [0, 10, 10, 42]);
  strictEqual(result.reason, "empty");
  strictEqual(result.nowCycles, 42);
});

Deno.test("same-time wake-ups run in the order they were scheduled", () => {
  const sim = new Simulator();
  const order: string[] = [];
  for (const name of ["a", "b", "c", "d"]) {
    sim.process(
      name,
      function* () {
        yield 5;
        order.push(name);
        yield 5;
        order.push(name);
      }(),
    );
  }
  sim.run();
  deepStrictEqual(order, ["a", "b", "c", "d", "a", "b", "c", "d"]);
});

Deno.test("run stops at untilCycles and leaves later events queued", () => {
  const sim = new Simulator();
  let ticks = 0;
  sim.process(
    "ticker",
    function* () {
      for (;;) {
        yield 100;
        ticks++;
      }
    }(),
  );
  const first = sim.run({ untilCycles: 1000 });
  strictEqual(first.reason, "until");
  strictEqual(ticks, 10); // the tick at exactly 1000 runs
  strictEqual(sim.now, 1000);
  const second = sim.run({ untilCycles: 1050 });
  strictEqual(ticks, 10);
  strictEqual(second.nowCycles, 1050);
  strictEqual(sim.pendingEvents, 1);
});

Deno.test("stop() ends the run after the current event; maxEvents bounds a run", () => {
  const sim = new Simulator();
  sim.process(
    "stopper",
    function* () {
      yield 7;
      sim.stop();
      yield 7;
    }(),
  );
  const result = sim.run();
  strictEqual(result.reason, "stopped");
  strictEqual(result.nowCycles, 7);
  const other = new Simulator();
  other.process(
    "loop",
    function* () {
      for (;;) yield 1;
    }(),
  );
  strictEqual(other.run({ maxEvents: 50 }).events, 50);
});

Deno.test("interrupt cuts a timer short and passes the cause; the old timer is ignored", () => {
  const sim = new Simulator();
  const log: string[] = [];
  const sleeper = sim.process(
    "sleeper",
    function* () {
      const cause = yield 1000;
      log.push(`woke at ${sim.now} by ${String(cause)}`);
      const again = yield 2000;
      log.push(`woke at ${sim.now} by ${String(again)}`);
    }(),
  );
  sim.process(
    "kicker",
    function* () {
      yield 250;
      sleeper.interrupt("kick");
    }(),
  );
  sim.run();
  deepStrictEqual(log, ["woke at 250 by kick", "woke at 2250 by undefined"]);
});

Deno.test("interrupting a process that is not on a timer is an error with its state", () => {
  const sim = new Simulator();
  const latch = new Latch(1);
  const waiter = sim.process(
    "waiter",
    function* () {
      yield latch;
    }(),
  );
  sim.run();
  throws(() => waiter.interrupt("x"), /Cannot interrupt process waiter: it is parked/);
});

Deno.test("bad delays are reported with the offending time", () => {
  const sim = new Simulator();
  sim.process(
    "bad",
    function* () {
      yield 5;
      yield -3;
    }(),
  );
  throws(() => sim.run(), /Process bad cannot wait -3 cycles at cycle 5/);
  const other = new Simulator();
  other.process(
    "fractional",
    function* () {
      yield 1.5;
    }(),
  );
  throws(() => other.run(), /non-negative integers/);
});

Deno.test("callbacks run at their time and waiting on a process joins it", () => {
  const sim = new Simulator();
  const log: string[] = [];
  sim.call(30, () => log.push(`callback at ${sim.now}`));
  const child: Process = sim.process(
    "child",
    function* () {
      yield 50;
      log.push(`child done at ${sim.now}`);
    }(),
  );
  sim.process(
    "parent",
    function* () {
      yield child;
      log.push(`parent resumed at ${sim.now}`);
      yield child; // already done: continues at once
      log.push(`parent again at ${sim.now}`);
    }(),
  );
  sim.run();
  deepStrictEqual(log, [
    "callback at 30",
    "child done at 50",
    "parent resumed at 50",
    "parent again at 50",
  ]);
});

Deno.test("a latch releases its waiters when the count reaches zero", () => {
  const sim = new Simulator();
  const acks = new Latch(3);
  let resumedAt = -1;
  sim.process(
    "sender",
    function* () {
      yield acks;
      resumedAt = sim.now;
    }(),
  );
  for (const delay of [10, 40, 25]) sim.call(delay, () => acks.countDown());
  sim.run();
  strictEqual(resumedAt, 40);
  throws(() => acks.countDown(), /already open/);
});

Deno.test("a cancelled timer that outlives its process is ignored, even after slot reuse", () => {
  const sim = new Simulator();
  const log: string[] = [];
  const shortLived = sim.process(
    "short",
    function* () {
      yield 1000; // interrupted at 10; the entry at 1000 goes stale
      log.push(`short ends at ${sim.now}`);
    }(),
  );
  sim.call(10, () => shortLived.interrupt("stop"));
  // Started after `short` ends, so it may reuse its queue slot; it must not wake at 1000.
  sim.call(20, () => {
    sim.process(
      "late",
      function* () {
        yield 5000;
        log.push(`late wakes at ${sim.now}`);
      }(),
    );
  });
  sim.run();
  deepStrictEqual(log, ["short ends at 10", "late wakes at 5020"]);
});

Deno.test("a signal wakes its waiter and remembers a fire nobody waited for", () => {
  const sim = new Simulator();
  const work = new Signal();
  const woke: number[] = [];
  sim.process(
    "worker",
    function* () {
      for (let i = 0; i < 3; i++) {
        yield work;
        woke.push(sim.now);
        yield 10;
      }
    }(),
  );
  sim.call(5, () => work.fire()); // wakes the sleeping worker at 5
  sim.call(12, () => work.fire()); // worker busy until 15: remembered, consumed at 15
  sim.call(40, () => work.fire());
  sim.run();
  deepStrictEqual(woke, [5, 15, 40]);
});

Deno.test("a reusable timer fires once per arming; re-arming and cancelling replace the firing", () => {
  const sim = new Simulator();
  const fired: number[] = [];
  const timer = sim.timer(() => fired.push(sim.now));
  timer.set(100);
  sim.call(50, () => timer.set(30)); // re-armed: fires at 80, not 100
  sim.call(200, () => {
    timer.set(10);
    timer.cancel(); // nothing at 210
  });
  sim.call(300, () => timer.set(0));
  sim.run();
  deepStrictEqual(fired, [80, 300]);
  strictEqual(timer.armed, false);
});

Deno.test("a signal fired ahead wakes its waiter then; ahead with nobody waiting is an error", () => {
  const sim = new Simulator();
  const work = new Signal();
  const woke: number[] = [];
  sim.process(
    "worker",
    function* () {
      yield work;
      woke.push(sim.now);
    }(),
  );
  sim.call(5, () => work.fire(20)); // a waker whose own time is 20 cycles ahead
  sim.run();
  deepStrictEqual(woke, [25]);
  throws(() => work.fire(3), /Cannot fire a signal 3 cycles ahead: nobody waits on it/);
  work.fire();
  work.forget();
  const later: number[] = [];
  sim.process(
    "again",
    function* () {
      yield work; // the forgotten fire does not count
      later.push(sim.now);
    }(),
  );
  sim.call(7, () => work.fire());
  sim.run();
  deepStrictEqual(later, [sim.now]);
  strictEqual(later[0], 32);
});

Deno.test("an earlier interrupt overrides a later one; a later one after it is an error", () => {
  const sim = new Simulator();
  const log: string[] = [];
  const sleeper = sim.process(
    "sleeper",
    function* () {
      const cause = yield 1000;
      log.push(`woke at ${sim.now} by ${String(cause)}`);
    }(),
  );
  sim.call(100, () => {
    sleeper.interrupt("ahead", 400); // a sender ahead of the simulator: due at 500
    sleeper.interrupt("sooner", 100); // due at 200: wins
    throws(() => sleeper.interrupt("later", 300), /Cannot interrupt process sleeper: it is ready/);
  });
  sim.run();
  deepStrictEqual(log, ["woke at 200 by sooner"]);
});
