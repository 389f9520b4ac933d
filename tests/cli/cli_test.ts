import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { main } from "../../src/cli/main.ts";
import { execute } from "../../src/cli/execute.ts";
import type { Summary } from "../../src/report/summary.ts";
import { renderSummary } from "../../src/report/text.ts";
import { loadScenario } from "../../src/scenario/load.ts";
import { simulate, startSimulation } from "../../src/scenario/run.ts";
import { assertConserved } from "../helpers.ts";

/** Runs the CLI in-process; returns exit code and captured output. */
async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

async function withTempDir(body: (dir: string) => void | Promise<void>): Promise<void> {
  const dir = Deno.makeTempDirSync({ prefix: "cvmsim-cli-" });
  try {
    await body(dir);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

Deno.test("help is available everywhere and exits 0", async () => {
  for (
    const args of [["--help"], ["run", "--help"], ["compare", "-h"], ["validate", "--help"], [
      "list",
      "--help",
    ]]
  ) {
    const { code, out } = await cli(...args);
    strictEqual(code, 0, args.join(" "));
    match(out, /Usage: cvmsim/);
  }
});

Deno.test("usage errors are one line and exit 2", async (t) => {
  const cases: [string[], RegExp][] = [
    [[], /^$/],
    [["frobnicate"], /^cvmsim: unknown command "frobnicate"; run 'cvmsim --help'$/],
    [["rnu"], /^cvmsim: unknown command "rnu" \(did you mean "run"\?\)/],
    [
      ["run", "scenarios/baseline.json", "--desing", "x"],
      /^cvmsim run: unknown flag --desing \(did you mean "--design"\?\)$/,
    ],
    [
      ["run", "scenarios/nope.json"],
      /^cvmsim run: cannot read scenarios\/nope\.json: no such file$/,
    ],
    [["run"], /^cvmsim run: missing scenario file$/],
    [
      ["run", "scenarios/baseline.json", "--seed", "abc"],
      /^cvmsim run: --seed expects an integer from 0 to 4294967295, got "abc"$/,
    ],
    [["run", "scenarios/baseline.json", "--design"], /^cvmsim run: --design needs a value$/],
    [
      ["compare", "scenarios/baseline.json", "--designs", "vmx.io-in-kernel"],
      /^cvmsim compare: needs at least two designs/,
    ],
    [["validate"], /^cvmsim validate: missing scenario files$/],
    [
      ["validate", "scenarios/baseline.json", "missing.json"],
      /^cvmsim validate: cannot read missing\.json: no such file$/,
    ],
    [
      ["list", "things"],
      /^cvmsim list: expected one of scenarios, designs, profiles, got "things"$/,
    ],
    [["run", "scenarios"], /^cvmsim run: scenarios is not a file$/],
  ];
  for (const [args, expected] of cases) {
    await t.step(args.join(" ") || "(no arguments)", async () => {
      const { code, err } = await cli(...args);
      strictEqual(code, 2);
      match(err, expected);
      strictEqual(err.includes("\n"), false, `one line: ${err}`);
    });
  }
});

Deno.test("an invalid scenario lists its problems and exits 1", async () => {
  await withTempDir(async (dir) => {
    const file = `${dir}/bad.json`;
    Deno.writeTextFileSync(file, JSON.stringify({ name: "bad", guests: [{ vcpus: 0 }] }));
    const ran = await cli("run", file, "--out", dir);
    strictEqual(ran.code, 1);
    match(ran.err, /guests\[0\]\.vcpus: expected an integer from 1 to 1024, got 0/);
    const validated = await cli("validate", file, "scenarios/baseline.json");
    strictEqual(validated.code, 1);
    match(validated.out, /invalid .*bad\.json:\n {2}guests\[0\]\.vcpus/);
    match(validated.out, /ok scenarios\/baseline\.json/);
    // A design named on the command line is a usage problem.
    const badDesign = await cli(
      "run",
      "scenarios/baseline.json",
      "--design",
      "vmx.nope",
      "--out",
      dir,
    );
    strictEqual(badDesign.code, 2);
    match(badDesign.err, /^cvmsim run: unknown design "vmx.nope"/);
  });
});

Deno.test("validate accepts every shipped scenario", async () => {
  const inDir = (dir: string) =>
    [...Deno.readDirSync(dir)].filter((e) => e.isFile && e.name.endsWith(".json"))
      .map((e) => `${dir}/${e.name}`);
  const files = [...inDir("scenarios"), ...inDir("scenarios/scale")];
  ok(files.length > 10);
  const { code, out } = await cli("validate", ...files);
  strictEqual(code, 0, out);
});

Deno.test("run writes summary.json and run-info.json atomically; --json prints the summary", async () => {
  await withTempDir(async (dir) => {
    const { code, out } = await cli(
      "run",
      "scenarios/vmexit-inl.json",
      "--design",
      "vmx.io-in-vmm",
      "--json",
      "--out",
      dir,
    );
    strictEqual(code, 0);
    const printed = JSON.parse(out) as Summary;
    strictEqual(printed.design.name, "vmx.io-in-vmm");
    const reportDir = `${dir}/vmexit-inl--vmx.io-in-vmm--seed1`;
    const names = [...Deno.readDirSync(reportDir)].map((e) => e.name).sort();
    // No temp files left behind.
    deepStrictEqual(names, ["run-info.json", "summary.json", "tables", "timeline.bin"]);
    deepStrictEqual(
      [...Deno.readDirSync(`${reportDir}/tables`)].map((e) => e.name).sort(),
      ["exits.csv", "operations.csv", "primitives.csv", "resources.csv", "threads.csv"],
    );
    const written = Deno.readTextFileSync(`${reportDir}/summary.json`);
    strictEqual(written, JSON.stringify(printed, null, 2) + "\n");
    const info = JSON.parse(Deno.readTextFileSync(`${reportDir}/run-info.json`));
    ok(info.wallMs > 0);
    ok(!written.includes("wallMs"), "wall-clock facts stay out of summary.json");
  });
});

Deno.test("--seed changes the seed recorded in the report", async () => {
  await withTempDir(async (dir) => {
    const { code } = await cli(
      "run",
      "scenarios/baseline.json",
      "--design",
      "vmx.io-in-kernel",
      "--seed",
      "5",
      "--out",
      dir,
    );
    strictEqual(code, 0);
    const summary = JSON.parse(
      Deno.readTextFileSync(`${dir}/baseline--vmx.io-in-kernel--seed5/summary.json`),
    );
    strictEqual(summary.seed, 5);
    strictEqual(summary.scenario.seed, 5);
  });
});

Deno.test("compare prints one table with deltas against the first design", async () => {
  await withTempDir(async (dir) => {
    const { code, out } = await cli("compare", "scenarios/vmexit-inl.json", "--out", dir);
    strictEqual(code, 0);
    match(out, /baseline vmx\.io-in-kernel/);
    match(out, /pio-read mean \(cycles\)\s+1,403\s+4,652 \+3,249 \(\+231\.6%\)/);
    match(out, /IOCTL_RET count\s+0\s+100,000 \+100,000/);
    const json = await cli(
      "compare",
      "scenarios/vmexit-inl.json",
      "--designs",
      "vmx.io-in-vmm,vmx.io-in-kernel",
      "--json",
      "--out",
      dir,
    );
    const parsed = JSON.parse(json.out);
    deepStrictEqual(parsed.designs, ["vmx.io-in-vmm", "vmx.io-in-kernel"]);
    const mean = parsed.rows.find((r: { metric: string }) => r.metric === "pio-read mean");
    deepStrictEqual(mean.values, [4652, 1403]);
  });
});

Deno.test("list shows scenarios, designs and profiles", async () => {
  const { code, out } = await cli("list");
  strictEqual(code, 0);
  match(out, /scenarios\/baseline\.json/);
  match(out, /vmx\.io-in-vmm/);
  match(out, /intel-vmx\s+2\.5 GHz/);
  const json = JSON.parse((await cli("list", "designs", "--json")).out);
  ok(json.designs.length >= 2);
  strictEqual(json.scenarios, undefined);
});

Deno.test("the real binary exits with the documented codes and never prints a stack trace", async () => {
  const deno = Deno.execPath();
  const spawn = async (...args: string[]) => {
    const output = await new Deno.Command(deno, {
      args: ["run", "--allow-read", "--allow-write", "main.ts", ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
    return { code: output.code, err: new TextDecoder().decode(output.stderr) };
  };
  const bad = await spawn("run", "scenarios/missing.json");
  strictEqual(bad.code, 2);
  ok(!bad.err.includes("    at "), bad.err);
  const flag = await spawn("list", "--bogus");
  strictEqual(flag.code, 2);
  ok(!flag.err.includes("    at "), flag.err);
  strictEqual((await spawn("--help")).code, 0);
});

Deno.test("calibrate prints every cost with its source and the microbenchmark comparison", async () => {
  const { code, out } = await cli("calibrate");
  strictEqual(code, 0);
  match(out, /Profile intel-vmx: /);
  match(out, /KVM_CPUID\s+kvm\s+97\s+38\.8\s+derived\s+intel-vmx\s+1027 \(vmexit cpuid/);
  match(out, /VMEXIT\s+kvm\s+330\s+132\.0\s+estimate/);
  match(out, /cpuid\s+vmx\.io-in-kernel\s+1,027\s+1,027\s+\+0\.0%\s+measured/);
  match(out, /inl_from_qemu\s+vmx\.io-in-vmm\s+4,652\s+4,652\s+\+0\.0%\s+derived/);
  const json = JSON.parse((await cli("calibrate", "--profile", "amd-svm", "--json")).out);
  strictEqual(json.profile.name, "amd-svm");
  strictEqual(json.microbenchmarks[0].design, "svm.io-in-kernel");
});

Deno.test("calibrate --import builds a profile file that scenarios can use", async () => {
  await withTempDir(async (dir) => {
    const profile = `${dir}/my-host.json`;
    const imported = await cli(
      "calibrate",
      "--import",
      "tests/fixtures/vmexit_output.txt",
      "--name",
      "lab-host",
      "--out",
      profile,
    );
    strictEqual(imported.code, 0, imported.err);
    match(imported.out, /wrote .*my-host\.json: 7 costs set from 8 tests/);
    match(imported.err, /not used \(cvmsim does not reproduce them\): .*inl_from_pmtimer/);
    const shown = await cli("calibrate", "--profile", profile);
    strictEqual(shown.code, 0);
    match(shown.out, /cpuid\s+vmx\.io-in-kernel\s+1,124\s+1,124\s+\+0\.0%\s+measured/);
    Deno.writeTextFileSync(
      `${dir}/s.json`,
      JSON.stringify({
        name: "s",
        profile: "my-host.json",
        guests: [{ vcpus: 1, workloads: [{ kind: "loop", operation: "cpuid", iterations: 10 }] }],
      }),
    );
    const ran = await cli("run", `${dir}/s.json`, "--json", "--out", dir);
    strictEqual(ran.code, 0, ran.err);
    strictEqual(JSON.parse(ran.out).operations.cpuid.meanCycles, 1124);
  });
  strictEqual((await cli("calibrate", "--import", "nope.txt")).code, 2);
  strictEqual((await cli("calibrate", "--base", "intel-vmx")).code, 2);
  strictEqual((await cli("calibrate", "--import", "README.md")).code, 2);
});

Deno.test("a scenario's timeline section sets the recorded stretch; --timeline-window overrides it", async () => {
  await withTempDir(async (dir) => {
    const file = `${dir}/s.json`;
    Deno.writeTextFileSync(
      file,
      JSON.stringify({
        name: "windowed",
        guests: [{ vcpus: 1, workloads: [{ kind: "loop", operation: "cpuid", iterations: 5000 }] }],
        timeline: { fromMs: 0.5, toMs: 1 },
      }),
    );
    const stretch = async (...flags: string[]) => {
      const { code, out, err } = await cli("run", file, "--out", dir, ...flags);
      strictEqual(code, 0, err);
      match(out, /timeline: [\d,]+ spans, /);
      const report = /report: (\S+)/.exec(out)![1];
      const info = JSON.parse(Deno.readTextFileSync(`${report}/run-info.json`));
      return [info.timeline.fromMs, info.timeline.toMs];
    };
    deepStrictEqual(await stretch(), [0.5, 1]);
    deepStrictEqual(await stretch("--timeline-window", "0:0.25"), [0, 0.25]);
    const bad = JSON.parse(Deno.readTextFileSync(file));
    bad.timeline = { fromMs: 2, toMs: 1 };
    Deno.writeTextFileSync(file, JSON.stringify(bad));
    const { code, out } = await cli("validate", file);
    strictEqual(code, 1);
    match(out, /timeline\.toMs: expected a time after timeline\.fromMs \(2 ms\), got 1/);
  });
});

Deno.test("a run estimated above the event limit is refused with the estimate and the flag", async () => {
  await withTempDir(async (dir) => {
    const file = `${dir}/accept.json`;
    Deno.writeTextFileSync(
      file,
      JSON.stringify({
        name: "huge-accept",
        guests: [{ vcpus: 4, memoryMiB: 4194304, workloads: [{ kind: "accept-memory" }] }],
        designs: ["tdx.upstream"],
        stop: { simulatedMs: 3600000 },
      }),
    );
    const refused = await cli("run", file, "--out", dir);
    strictEqual(refused.code, 1);
    match(
      refused.err,
      /guests\[0\]\.workloads\[0\]: this run is estimated at up to 4\.3 billion simulated events \(about 36 min\), most of them accepting 1\.1 billion pages; the limit is 300\.0 million: .*--allow-long/,
    );
    const small = await cli("run", "scenarios/vmexit.json", "--max-events", "1000", "--out", dir);
    strictEqual(small.code, 1);
    match(small.err, /the limit is 1,000/);
    strictEqual((await cli("run", "scenarios/vmexit.json", "--max-events", "x")).code, 2);
  });
});

Deno.test("a run cut at the event limit writes its report so far, marked partial", async () => {
  await withTempDir((dir) => {
    const loaded = loadScenario("scenarios/baseline.json");
    const { summary, info, dir: report } = execute(
      loaded,
      "vmx.io-in-kernel",
      dir,
      undefined,
      5000,
    );
    strictEqual(summary.run.stop, "event-limit");
    strictEqual(info.partial, "event-limit");
    ok(summary.run.events <= 5000 + 1);
    assertConserved(summary);
    const written = JSON.parse(Deno.readTextFileSync(`${report}/run-info.json`));
    strictEqual(written.partial, "event-limit");
    match(renderSummary(summary), /ended by event-limit \(a partial report\)/);
  });
});

Deno.test("a run in slices is the run in one go, byte for byte", () => {
  const loaded = loadScenario("scenarios/virtio-rr.json");
  const whole = simulate(loaded, "vmx.io-in-kernel").summary;
  const simulation = startSimulation(loaded, "vmx.io-in-kernel");
  while (!simulation.step(10_000));
  strictEqual(JSON.stringify(simulation.finish().summary), JSON.stringify(whole));
});

Deno.test("Ctrl-C stops the run, writes the report so far, marked partial, and exits 130", async () => {
  await withTempDir(async (dir) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-write",
        "main.ts",
        "run",
        "scenarios/scale/scale-hour.json",
        "--allow-long",
        "--timeline-spans",
        "0",
        "--out",
        dir,
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    // Wait until the run is under way (its model built), then interrupt it.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    child.kill("SIGINT");
    const output = await child.output();
    const err = new TextDecoder().decode(output.stderr);
    strictEqual(output.code, 130, err);
    match(
      err,
      /^interrupted after [\d.]+ ms simulated and [\d,]+ events: the report so far is in /,
    );
    const info = JSON.parse(
      Deno.readTextFileSync(`${dir}/scale-hour--vmx.io-in-kernel--seed23/run-info.json`),
    );
    strictEqual(info.partial, "interrupted");
    const summary = JSON.parse(
      Deno.readTextFileSync(`${dir}/scale-hour--vmx.io-in-kernel--seed23/summary.json`),
    );
    strictEqual(summary.run.stop, "interrupted");
    ok(!err.includes("    at "), err);
  });
});

Deno.test("compare --baseline measures against that design and lists the choices that differ", async () => {
  await withTempDir(async (dir) => {
    const result = await cli(
      "compare",
      "scenarios/baseline.json",
      "--baseline",
      "vmx.io-in-vmm",
      "--timeline-spans",
      "0",
      "--out",
      dir,
    );
    strictEqual(result.code, 0, result.err);
    match(result.out, /baseline vmx\.io-in-vmm\n/);
    match(result.out, /vmx\.io-in-kernel: devices: vmm → kernel; virtio: vmm → vhost/);
    const json = await cli(
      "compare",
      "scenarios/baseline.json",
      "--designs",
      "vmx.io-in-kernel",
      "--baseline",
      "tdx.upstream",
      "--timeline-spans",
      "0",
      "--json",
      "--out",
      dir,
    );
    const comparison = JSON.parse(json.out);
    deepStrictEqual(comparison.designs, ["tdx.upstream", "vmx.io-in-kernel"]);
    deepStrictEqual(comparison.differences, [[], ["platform: tdx → vmx"]]);
    const bad = await cli("compare", "scenarios/baseline.json", "--baseline", "vmx.io-in-vm");
    strictEqual(bad.code, 2);
    match(
      bad.err,
      /--baseline expects a design name .*got "vmx.io-in-vm" \(did you mean "vmx.io-in-vmm"\?\)/,
    );
  });
});

Deno.test("--version names cvmsim's and Deno's versions", async () => {
  const result = await cli("--version");
  strictEqual(result.code, 0);
  match(result.out, /^cvmsim \d+\.\d+\.\d+ \(Deno \d+\.\d+\.\d+, V8 /);
});

Deno.test("list shows each scenario's first sentence, not a cut at a dot inside it", async () => {
  const result = await cli("list");
  strictEqual(result.code, 0);
  // snp-buggy-dma's description mentions "(flows.md B.4, split S7)" in its first sentence.
  match(
    result.out,
    /snp-buggy-dma: The 2021 host-access debate \(flows\.md B\.4, split S7\), run: .*\)\.\n/,
  );
});

Deno.test("a scenario can come on standard input as -", async () => {
  const main = new URL("../../main.ts", import.meta.url).pathname;
  const pipe = async (args: string[], input: string) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", "--allow-write", main, ...args],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(input));
    await writer.close();
    const output = await child.output();
    const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    return { code: output.code, out: text(output.stdout), err: text(output.stderr) };
  };
  const ok_ = await pipe(["validate", "-"], Deno.readTextFileSync("scenarios/baseline.json"));
  strictEqual(ok_.code, 0, ok_.err);
  match(ok_.out, /^ok - \(designs: vmx\.io-in-kernel, vmx\.io-in-vmm\)/);
  const bad = await pipe(["run", "-", "--timeline-spans", "0"], '{"name": "x"');
  strictEqual(bad.code, 1);
  match(bad.err, /^standard input is invalid:\n {2}\(top level\): not valid JSON/);
});

Deno.test("compare measures against the scenario's own baseline unless told otherwise", async () => {
  await withTempDir(async (dir) => {
    const spec = JSON.parse(Deno.readTextFileSync("scenarios/baseline.json"));
    spec.baseline = "vmx.io-in-vmm";
    const file = `${dir}/s.json`;
    Deno.writeTextFileSync(file, JSON.stringify(spec));
    const own = await cli("compare", file, "--timeline-spans", "0", "--json", "--out", dir);
    strictEqual(own.code, 0, own.err);
    deepStrictEqual(JSON.parse(own.out).designs, ["vmx.io-in-vmm", "vmx.io-in-kernel"]);
    const listed = await cli(
      "compare",
      file,
      "--designs",
      "vmx.io-in-kernel,vmx.io-in-vmm",
      "--timeline-spans",
      "0",
      "--json",
      "--out",
      dir,
    );
    deepStrictEqual(JSON.parse(listed.out).designs, ["vmx.io-in-kernel", "vmx.io-in-vmm"]);
  });
});
