import { strictEqual, throws } from "node:assert/strict";
import { EXCLUSIVE, IntervalLock, SHARED } from "../../src/engine/mod.ts";

Deno.test("interval lock: shared holds overlap; an exclusive one waits for the last to end", () => {
  const lock = new IntervalLock("l");
  strictEqual(lock.tryHold(SHARED, 0, 100, 0), -1);
  strictEqual(lock.tryHold(SHARED, 50, 150, 0), -1);
  strictEqual(lock.tryHold(EXCLUSIVE, 120, 200, 0), 150, "busy until the second reader ends");
  strictEqual(lock.tryHold(EXCLUSIVE, 150, 200, 0), -1, "granted once both ended");
  strictEqual(lock.tryHold(SHARED, 160, 170, 0), 200, "a reader meets the writer");
  strictEqual(lock.tryHold(SHARED, 200, 210, 0), -1);
  const report = lock.stats.report(1000);
  strictEqual(report.acquisitions, 4);
  strictEqual(report.contended, 2);
  strictEqual(report.utilization, 210 / 1000, "held [0, 210) in some mode");
});

Deno.test("interval lock: holds that ended before the simulator's time are forgotten", () => {
  const lock = new IntervalLock("l");
  for (let i = 0; i < 1000; i++) strictEqual(lock.tryHold(SHARED, i * 10, i * 10 + 5, i * 10), -1);
  // Only the last reader, [9990, 9995), can still meet a hold that starts at 9990 or later.
  strictEqual(lock.tryHold(EXCLUSIVE, 9993, 9999, 9990), 9995);
  strictEqual(lock.tryHold(EXCLUSIVE, 9995, 9999, 9990), -1);
});

Deno.test("interval lock: an open hold blocks what conflicts until it is closed", () => {
  const lock = new IntervalLock("l");
  strictEqual(lock.busyUntil(SHARED, 0, Infinity, 0), -1);
  lock.open(SHARED, 0);
  strictEqual(lock.tryHold(SHARED, 10, 20, 0), -1, "readers share with an open reader");
  strictEqual(lock.tryHold(EXCLUSIVE, 10, 20, 0), Infinity, "busy while it stays open");
  lock.close(SHARED, 0, 50);
  strictEqual(lock.tryHold(EXCLUSIVE, 30, 60, 0), 50, "the closed hold still covers [0, 50)");
  strictEqual(lock.tryHold(EXCLUSIVE, 50, 60, 0), -1);
  throws(() => lock.close(SHARED, 0, 70), /no open shared hold/);
});
