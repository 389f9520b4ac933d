import {
  deepStrictEqual,
  match,
  notStrictEqual,
  ok,
  strictEqual,
  throws,
} from "node:assert/strict";
import { join } from "node:path";
import { main } from "../../src/cli/main.ts";
import { reusedPointResult, runPoint } from "../../src/sweep/point.ts";
import { checkScenario } from "../../src/scenario/load.ts";
import { simulate } from "../../src/scenario/run.ts";
import { crossovers, mergeShards, readSweepFile, type SweepFile } from "../../src/sweep/report.ts";
import { runSweep } from "../../src/sweep/run.ts";
import {
  parseParam,
  repetitionSeed,
  SweepError,
  sweepPoints,
  type SweepSpec,
} from "../../src/sweep/spec.ts";

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const SCENARIO = {
  name: "sweep-test",
  seed: 9,
  guests: [{
    vcpus: 2,
    memoryMiB: 64,
    workloads: [{
      kind: "mix",
      operations: [{ operation: "cpuid", ratePerSec: 20000 }, {
        operation: "pio-read",
        ratePerSec: 10000,
      }],
      durationMs: 2,
    }],
  }],
  designs: ["vmx.io-in-kernel", "vmx.io-in-vmm"],
};

function spec(params: string[], repetitions = 1): SweepSpec {
  return {
    scenario: structuredClone(SCENARIO),
    scenarioFile: "sweep-test.json",
    params: params.map(parseParam),
    designs: SCENARIO.designs,
    repetitions,
  };
}

Deno.test("sweep parameters: lists, ranges and clear errors", () => {
  deepStrictEqual(parseParam("guests[0].vcpus=1,2,4").values, [1, 2, 4]);
  deepStrictEqual(parseParam("guests[0].vcpus=1..64*2").values, [1, 2, 4, 8, 16, 32, 64]);
  deepStrictEqual(parseParam("stop.simulatedMs=10..50+10").values, [10, 20, 30, 40, 50]);
  deepStrictEqual(parseParam("x=0.1..0.3+0.1").values, [0.1, 0.2, 0.3]);
  deepStrictEqual(parseParam('designs[0]=vmx.io-in-kernel,"a b",true').values, [
    "vmx.io-in-kernel",
    "a b",
    true,
  ]);
  deepStrictEqual(parseParam("guests[0].workloads[1].ratePerSec=5").segments, [
    "guests",
    0,
    "workloads",
    1,
    "ratePerSec",
  ]);
  const bad: [string, RegExp][] = [
    ["vcpus", /expected <json.path>=<values>/],
    ["guests[0]..vcpus=1", /unexpected "."/],
    ["guests[x].vcpus=1", /cannot read the path/],
    ["guests[0].vcpus=", /no values/],
    ["guests[0].vcpus=8..1", /a range must go up/],
    ["guests[0].vcpus=1..8*1", /a factor > 1/],
    ["guests[0].vcpus=1,,2", /an empty value/],
    ["a=0..1000000", /more than 10000 values/],
    // A path must never reach an object's prototype.
    ["__proto__.polluted=1", /__proto__ is not a scenario field/],
    ["guests[0].constructor.prototype=1", /constructor is not a scenario field/],
  ];
  for (const [text, message] of bad) {
    throws(
      () => parseParam(text),
      (e: Error) => e instanceof SweepError && message.test(e.message),
    );
  }
  strictEqual(({} as Record<string, unknown>).polluted, undefined);
});

Deno.test("sweep points: values (first parameter slowest), then design, then repetition", () => {
  const points = sweepPoints(spec(["guests[0].vcpus=1,2", "guests[0].memoryMiB=64,128"], 2));
  strictEqual(points.length, 2 * 2 * 2 * 2);
  deepStrictEqual(points.slice(0, 5).map((p) => [p.values, p.design, p.repetition]), [
    [{ "guests[0].vcpus": 1, "guests[0].memoryMiB": 64 }, "vmx.io-in-kernel", 0],
    [{ "guests[0].vcpus": 1, "guests[0].memoryMiB": 64 }, "vmx.io-in-kernel", 1],
    [{ "guests[0].vcpus": 1, "guests[0].memoryMiB": 64 }, "vmx.io-in-vmm", 0],
    [{ "guests[0].vcpus": 1, "guests[0].memoryMiB": 64 }, "vmx.io-in-vmm", 1],
    [{ "guests[0].vcpus": 1, "guests[0].memoryMiB": 128 }, "vmx.io-in-kernel", 0],
  ]);
  strictEqual(points[0].seed, 9, "repetition 0 keeps the scenario's seed");
  notStrictEqual(points[1].seed, 9);
  strictEqual(repetitionSeed(9, 1), points[1].seed);
  deepStrictEqual(points.map((p) => p.index), [...points.keys()]);
});

Deno.test("a bad path or value fails before anything runs, naming the point", async () => {
  await rejects(
    runSweep(spec(["guests[1].vcpus=1"]), { jobs: 1 }),
    /the scenario has no guests\[1\]/,
  );
  await rejects(
    runSweep(spec(["guests[0].vcpus=2,0"]), { jobs: 1 }),
    /sweep point guests\[0\]\.vcpus=0, design vmx.io-in-kernel.*guests\[0\]\.vcpus: expected an integer from 1 to 1024, got 0/s,
  );
});

async function rejects(promise: Promise<unknown>, message: RegExp): Promise<void> {
  try {
    await promise;
  } catch (error) {
    match((error as Error).message, message);
    return;
  }
  throw new Error(`expected a rejection matching ${message}`);
}

Deno.test("parallel workers give the same results as a serial run, point by point", async () => {
  const sweep = spec(["guests[0].vcpus=1..4+1"], 2);
  const serial = await runSweep(sweep, { jobs: 1 });
  const parallel = await runSweep(sweep, { jobs: 2 });
  deepStrictEqual(parallel, serial);
  // Equal digests mean byte-identical summaries; and a point's summary is reproducible.
  const point = sweepPoints(sweep)[5];
  const again = runPoint(sweep, point);
  strictEqual(again.result.summaryDigest, serial[5].summaryDigest);
  strictEqual(again.summaryJson, runPoint(sweep, point).summaryJson);
  ok(serial[0].metrics["latency.cpuid.mean"] > 0);
  notStrictEqual(serial[0].summaryDigest, serial[1].summaryDigest, "repetitions differ");
});

Deno.test("sweep CLI: shards cover the sweep, merge rebuilds it, mismatches are refused", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "cvmsim-sweep-" });
  try {
    const file = join(dir, "s.json");
    Deno.writeTextFileSync(file, JSON.stringify(SCENARIO));
    const param = ["--param", "guests[0].vcpus=1,2,3", "--quiet", "--out", dir];
    const full = await cli("sweep", file, ...param, "--jobs", "2");
    strictEqual(full.code, 0, full.err);
    const reportDir = /sweep report: (\S+)/.exec(full.out)![1];
    const whole = readSweepFile(join(reportDir, "sweep.json"));
    strictEqual(whole.points.length, 6);
    ok(
      Deno.readTextFileSync(join(reportDir, "sweep.csv")).startsWith(
        "point,guests[0].vcpus,design",
      ),
    );
    for (const shard of ["0/2", "1/2"]) {
      const part = await cli("sweep", file, ...param, "--shard", shard, "--jobs", "1");
      strictEqual(part.code, 0, part.err);
    }
    const shardFiles = ["0", "1"].map((i) => join(reportDir, `sweep.shard-${i}-of-2.json`));
    const shards = shardFiles.map((path) => ({ path, file: readSweepFile(path) }));
    deepStrictEqual(shards.map((s) => s.file.points.length), [3, 3]);
    deepStrictEqual(mergeShards(shards), whole);
    const merged = await cli("merge", ...shardFiles, "--out", join(dir, "merged"));
    strictEqual(merged.code, 0, merged.err);

    // Refusals: a missing shard, a duplicate, a shard of another sweep.
    const refused = async (files: string[], message: RegExp) => {
      const result = await cli("merge", ...files, "--out", join(dir, "merged"));
      strictEqual(result.code, 2);
      match(result.err, message);
    };
    await refused([shardFiles[0]], /missing shard 1\/2/);
    await refused([shardFiles[0], shardFiles[0]], /are both shard 0\/2/);
    const other: SweepFile = structuredClone(shards[1].file);
    other.identity.designs = ["vmx.io-in-kernel"];
    const otherPath = join(dir, "other.json");
    Deno.writeTextFileSync(otherPath, JSON.stringify(other));
    await refused([shardFiles[0], otherPath], /a shard of a different sweep/);
    await refused([join(reportDir, "sweep.json")], /a complete sweep, not a shard/);

    // Usage errors.
    const usage = async (args: string[], message: RegExp) => {
      const result = await cli("sweep", file, ...args);
      strictEqual(result.code, 2, args.join(" "));
      match(result.err, message);
    };
    await usage([], /give at least one --param/);
    await usage(["--param", "guests[0].vcpus=1", "--shard", "2/2"], /--shard expects i\/n/);
    await usage(["--param", "guests[0].vcpus=1", "--jobs", "0"], /--jobs expects an integer/);
    await usage(["--param", "guests[0].vcpus=1", "--designs", "vmx.io-in-kernal"], /did you mean/);
    await usage(["--param", "a=1", "--param", "a=2"], /given twice/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("crossover: where a design's overhead against the baseline crosses each threshold", () => {
  const point = (x: number, design: string, share: number) => ({
    index: 0,
    values: { rate: x },
    design,
    repetition: 0,
    seed: 1,
    metrics: { guestShare: share },
    summaryDigest: "",
  });
  // Overheads of "slow" against "base": 0.5%, 2% and 8% at rates 100, 200 and 400.
  const points = [100, 200, 400].flatMap((x, i) => [
    point(x, "base", 0.8),
    point(x, "slow", 0.8 * (1 - [0.005, 0.02, 0.08][i])),
  ]);
  const file: SweepFile = {
    schemaVersion: 1,
    kind: "cvmsim-sweep",
    cvmsimVersion: "test",
    identity: {
      scenario: "s",
      scenarioFile: "s.json",
      scenarioDigest: "",
      params: [{ path: "rate", values: [100, 200, 400] }],
      designs: ["base", "slow"],
      repetitions: 1,
      totalPoints: 6,
    },
    points,
  };
  const result = crossovers(file, {
    metric: "guestShare",
    baseline: "base",
    higherIsBetter: true,
    thresholdsPercent: [1, 5, 20],
  });
  strictEqual(result.designs.length, 1);
  deepStrictEqual(result.designs[0].overheadPercent.map((p) => p.value), [0.5, 2, 8]);
  // Interpolated in log scale: 1% a third of the way from 100 to 200, 5% halfway to 400.
  deepStrictEqual(result.designs[0].crossings, [
    { thresholdPercent: 1, x: Math.round(100 * 2 ** (1 / 3) * 1000) / 1000 },
    { thresholdPercent: 5, x: Math.round(200 * Math.SQRT2 * 1000) / 1000 },
    { thresholdPercent: 20, x: null },
  ]);
});

Deno.test("a scenario's own sweep section runs without --param, with its crossover", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "cvmsim-study-" });
  try {
    const file = join(dir, "study.json");
    Deno.writeTextFileSync(
      file,
      JSON.stringify({
        ...SCENARIO,
        sweep: {
          params: ["guests[0].workloads[0].operations[1].ratePerSec=1000,20000"],
          crossover: { metric: "guestShare", baseline: "vmx.io-in-kernel" },
        },
      }),
    );
    const { code, out, err } = await cli("sweep", file, "--quiet", "--out", dir);
    strictEqual(code, 0, err);
    match(out, /Crossover: where the overhead in guestShare against vmx.io-in-kernel/);
    const report = readSweepFile(join(/sweep report: (\S+)/.exec(out)![1], "sweep.json"));
    strictEqual(report.points.length, 4);
    const [vmm] = report.crossover!.designs;
    strictEqual(vmm.design, "vmx.io-in-vmm");
    // Port reads through userspace cost more guest time the more of them there are.
    ok(vmm.overheadPercent[1].value > vmm.overheadPercent[0].value);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a point that is a report's own run takes its result from the report's summary", async () => {
  // The scenario's own value (2 vCPUs) is one of the points: the report of each design is
  // the same run, so the study can take the point from it instead of running it again.
  const sweep = spec(["guests[0].vcpus=1,2"]);
  const serial = await runSweep(sweep, { jobs: 1 });
  const reports = new Map<string, string>();
  for (const design of SCENARIO.designs) {
    const loaded = checkScenario(structuredClone(SCENARIO), "sweep-test.json");
    reports.set(design, JSON.stringify(simulate(loaded, design).summary, null, 2));
  }
  let asked = 0, taken = 0;
  const reused = await runSweep(sweep, {
    jobs: 1,
    known: (point) => {
      asked++;
      if (point.values["guests[0].vcpus"] !== 2) return undefined;
      const result = reusedPointResult(sweep, point, reports.get(point.design)!);
      if (result !== undefined) taken++;
      return result;
    },
  });
  strictEqual(asked, 4);
  strictEqual(taken, 2, "one point per design is the report's run");
  deepStrictEqual(reused, serial, "same results, digests included");
  // Another run's summary is not taken for the point: another seed, a design, a cut run.
  const point = sweepPoints(sweep).find((p) => p.values["guests[0].vcpus"] === 2)!;
  const report = JSON.parse(reports.get(point.design)!);
  const other = (patch: (s: typeof report) => void) => {
    const copy = structuredClone(report);
    patch(copy);
    return reusedPointResult(sweep, point, JSON.stringify(copy));
  };
  ok(reusedPointResult(sweep, point, reports.get(point.design)!) !== undefined);
  strictEqual(other((s) => (s.scenario.seed = 10)), undefined);
  strictEqual(other((s) => (s.design.name = "vmx.io-in-vmm")), undefined);
  strictEqual(other((s) => (s.run.stop = "interrupted")), undefined);
  strictEqual(reusedPointResult(sweep, point, "{ not json"), undefined);
});
