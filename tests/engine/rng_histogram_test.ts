import { deepStrictEqual, notDeepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import { Histogram, RngStreams } from "../../src/engine/mod.ts";

Deno.test("named streams are reproducible and independent", () => {
  const draw = (seed: number, name: string) => {
    const rng = new RngStreams(seed).stream(name);
    return Array.from({ length: 8 }, () => rng.nextUint32());
  };
  deepStrictEqual(draw(7, "vm0/vcpu0"), draw(7, "vm0/vcpu0"));
  notDeepStrictEqual(draw(7, "vm0/vcpu0"), draw(7, "vm0/vcpu1"));
  notDeepStrictEqual(draw(7, "vm0/vcpu0"), draw(8, "vm0/vcpu0"));
  throws(() => new RngStreams(-1), /expected a safe integer/);
});

Deno.test("rng distributions have the right ranges and means", () => {
  const rng = new RngStreams(1).stream("test");
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  const n = 200_000;
  for (let i = 0; i < n; i++) {
    const v = rng.int(1, 6);
    sum += v;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  strictEqual(min, 1);
  strictEqual(max, 6);
  ok(Math.abs(sum / n - 3.5) < 0.02, `mean of a die was ${sum / n}`);
  let expSum = 0;
  for (let i = 0; i < n; i++) expSum += rng.exponential(1000);
  ok(Math.abs(expSum / n - 1000) < 10, `exponential mean was ${expSum / n}`);
  for (let i = 0; i < 1000; i++) {
    const f = rng.float();
    ok(f >= 0 && f < 1);
  }
});

Deno.test("histogram: exact below 64, within 1/64 above, exact min/max/mean", () => {
  const h = new Histogram();
  for (let v = 0; v < 64; v++) h.record(v);
  strictEqual(h.percentile(50), 31);
  strictEqual(h.percentile(100), 63);
  const big = new Histogram();
  const values: number[] = [];
  let x = 1;
  for (let i = 0; i < 2000; i++) {
    x = (x * 48271) % 2147483647;
    values.push(x % 10_000_000);
  }
  for (const v of values) big.record(v);
  values.sort((a, b) => a - b);
  for (const p of [50, 90, 99, 99.9]) {
    const truth = values[Math.ceil((p / 100) * values.length) - 1];
    const got = big.percentile(p);
    ok(got >= truth && got <= truth * (1 + 1 / 64), `p${p}: got ${got}, true ${truth}`);
  }
  strictEqual(big.min, values[0]);
  strictEqual(big.max, values[values.length - 1]);
  strictEqual(big.count, 2000);
  strictEqual(big.sum, values.reduce((a, b) => a + b, 0));
});

Deno.test("histogram: constant samples give exact percentiles; merge adds counts", () => {
  const a = new Histogram();
  a.record(1027, 1000);
  deepStrictEqual(
    [a.percentile(50), a.percentile(99), a.mean, a.min, a.max],
    [1027, 1027, 1027, 1027, 1027],
  );
  const b = new Histogram();
  b.record(5_000_000_000_000);
  a.merge(b);
  strictEqual(a.count, 1001);
  strictEqual(a.max, 5_000_000_000_000);
  strictEqual(a.percentile(100), 5_000_000_000_000);
  throws(() => a.record(-1), /expected an integer ≥ 0/);
  throws(() => a.record(2.5), /expected an integer ≥ 0/);
});
