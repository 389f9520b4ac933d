/**
 * The CLI's text fits and lines up: compare fits 120 columns for any number of designs
 * (designs as rows when they do not fit side by side; --wide keeps one column per design),
 * list, suite and start print their rows through the one table helper, and --quiet silences
 * progress on every command while progress never reaches stdout.
 */
import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { main } from "../../src/cli/main.ts";
import { COMMANDS } from "../../src/cli/commands.ts";
import { parse } from "../../src/cli/args.ts";
import { execute } from "../../src/cli/execute.ts";
import { ReportProducer } from "../../src/cli/producer.ts";
import {
  compareSummaries,
  type Comparison,
  COMPARISON_TEXT_COLUMNS,
  renderComparison,
} from "../../src/report/compare.ts";
import { tableLayout, textWidth } from "../../src/report/format.ts";
import { loadScenario } from "../../src/scenario/load.ts";
import { DESIGN_NAMES } from "../../src/scenario/catalog.ts";
import { scenario } from "../helpers.ts";

const ROOT = new URL("../..", import.meta.url).pathname;

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

function shippedScenarioFiles(): string[] {
  const inDir = (dir: string) =>
    [...Deno.readDirSync(join(ROOT, dir))]
      .filter((e) => e.isFile && e.name.endsWith(".json"))
      .map((e) => join(ROOT, dir, e.name))
      .sort();
  return [...inDir("scenarios"), ...inDir("scenarios/scale"), ...inDir("scenarios/validation")];
}

/** Every shipped scenario compared over its designs, each run cut short (its metrics are real). */
function shippedComparisons(): Comparison[] {
  return shippedScenarioFiles().map((file) => {
    const loaded = loadScenario(file);
    const summaries = loaded.scenario.designs.map((design) =>
      execute(loaded, design, undefined, undefined, 20_000).summary
    );
    return compareSummaries(summaries);
  });
}

/** `comparison` with values as wide as real ones get: 12-digit baselines, the others 10x. */
function widened(comparison: Comparison): Comparison {
  return {
    ...comparison,
    rows: comparison.rows.map((row) => ({
      ...row,
      values: row.values.map((_, i) => (i === 0 ? 123_456_789_012.345 : 1_234_567_890_123.456)),
    })),
  };
}

const overWidth = (text: string) =>
  text.split("\n").filter((line) => line.length > COMPARISON_TEXT_COLUMNS);

Deno.test("compare's text fits 120 columns for every shipped scenario, with real and wide values", () => {
  const comparisons = shippedComparisons();
  ok(comparisons.some((c) => c.designs.length >= 7), "some shipped scenario has 7+ designs");
  for (const comparison of comparisons) {
    for (const shown of [comparison, widened(comparison)]) {
      const text = renderComparison(shown);
      deepStrictEqual(overWidth(text), [], `${comparison.scenario}: ${textWidth(text)} columns`);
    }
  }
});

Deno.test("compare's text fits 120 columns however many designs; each is a row, the baseline first", () => {
  const [vsm] = shippedComparisons().filter((c) => c.scenario === "vsm-boot");
  // Every design in the catalogue (40-odd), each with vsm-boot's metrics.
  const designs = [...DESIGN_NAMES];
  const many: Comparison = {
    ...vsm,
    designs,
    differences: designs.map((_, i) => i === 0 ? [] : ["vtl-switch: kernel → userspace"]),
    rows: vsm.rows.map((row) => ({
      ...row,
      values: designs.map((_, i) => 1_000 + 37 * i),
    })),
  };
  const text = renderComparison(many);
  deepStrictEqual(overWidth(text), []);
  match(text, new RegExp(`^\\(${designs.length} designs do not fit side by side`, "m"));
  // Every table lists every design, the baseline first and marked as such.
  const tables = text.split("\n\n").filter((block) => /^design {2,}/m.test(block));
  ok(tables.length > 5);
  for (const block of tables) {
    const lines = block.split("\n");
    const header = lines.findIndex((line) => line.startsWith("design "));
    const labels = lines.slice(header + 2).map((line) => line.split(/ {2,}/)[0]);
    deepStrictEqual(labels, [`${designs[0]} (baseline)`, ...designs.slice(1)]);
  }
  // No metric is lost: each is a column header once, or named among the unchanged.
  for (const row of vsm.rows) {
    const label = row.unit === "" ? row.metric : `${row.metric} (${row.unit})`;
    ok(text.includes(label), label);
  }
});

Deno.test("compare shows values and deltas against the baseline in the rows layout", () => {
  const comparison: Comparison = {
    scenario: "s",
    seed: 1,
    designs: ["vsm.in-kernel-attributes", "vsm.userspace", "vsm.userspace-kernel-intercepts"],
    differences: [[], ["vtl-switch: kernel → userspace"], ["vtl-switch: kernel → userspace"]],
    rows: [
      { section: "run", metric: "simulated time", unit: "ms", values: [2852.65, 2870.041, null] },
      { section: "latency", metric: "vtl-call mean", unit: "cycles", values: [13264, 85560, 1] },
      { section: "latency", metric: "vtl-call p99", unit: "cycles", values: [13264, 13264, 1] },
    ],
  };
  const rows = renderComparison(comparison, { columns: 90 });
  const table = (title: string) => rows.slice(rows.indexOf(`\n${title}\n`) + title.length + 2);
  strictEqual(
    table("Run").split("\n\n")[0],
    [
      "design                               simulated time (ms)",
      "-----------------------------------  -------------------------",
      "vsm.in-kernel-attributes (baseline)  2,852.650",
      "vsm.userspace                        2,870.041 +17.391 (+0.6%)",
      "vsm.userspace-kernel-intercepts              -",
    ].join("\n"),
  );
  // Values right-aligned in their column, the delta after them; a pair of columns together.
  strictEqual(
    table("Guest operation latency").split("\n\n")[0],
    [
      "design                               vtl-call mean (cycles)    vtl-call p99 (cycles)",
      "-----------------------------------  ------------------------  ------------------------",
      "vsm.in-kernel-attributes (baseline)  13,264                    13,264",
      "vsm.userspace                        85,560 +72,296 (+545.1%)  13,264 =",
      "vsm.userspace-kernel-intercepts           1 -13,263 (-100.0%)       1 -13,263 (-100.0%)",
    ].join("\n"),
  );
  deepStrictEqual(rows.split("\n").filter((line) => line.length > 90), []);
  // Side by side when that fits (two designs here).
  const two: Comparison = {
    ...comparison,
    designs: comparison.designs.slice(0, 2),
    differences: comparison.differences.slice(0, 2),
    rows: comparison.rows.map((row) => ({ ...row, values: row.values.slice(0, 2) })),
  };
  const sideBySide = renderComparison(two);
  match(sideBySide, /^metric {2,}vsm\.in-kernel-attributes {2}vsm\.userspace \(vs baseline\)$/m);
  match(sideBySide, /^vtl-call mean \(cycles\) {20}13,264 {5}85,560 \+72,296 \(\+545\.1%\)$/m);
  strictEqual(sideBySide, renderComparison(two, { wide: true }));
});

Deno.test("compare --wide keeps one column per design; --json is the same with or without it", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "cvmsim-layout-" });
  try {
    const file = join(dir, "many.json");
    Deno.writeTextFileSync(
      file,
      JSON.stringify(scenario({
        name: "many",
        designs: [
          "vmx.io-in-kernel",
          "vmx.io-in-vmm",
          "vmx.io-in-vmm-vcpu",
          "vmx.io-daemon",
          "svm.io-in-kernel",
          "tdx.upstream",
          "snp.upstream",
        ],
      })),
    );
    const common = ["--timeline-spans", "0", "--out", dir, "--quiet"];
    const narrow = await cli("compare", file, ...common);
    strictEqual(narrow.code, 0, narrow.err);
    deepStrictEqual(overWidth(narrow.out), []);
    match(narrow.out, /^vmx\.io-in-kernel \(baseline\) {2}/m);
    const wide = await cli("compare", file, "--wide", ...common);
    strictEqual(wide.code, 0, wide.err);
    ok(textWidth(wide.out) > COMPARISON_TEXT_COLUMNS);
    // One table per section, a column per design: the header names them all in one line.
    match(
      wide.out,
      /^metric +vmx\.io-in-kernel +vmx\.io-in-vmm \(vs baseline\) +vmx\.io-in-vmm-vcpu \(vs baseline\) +vmx\.io-daemon \(vs baseline\) +svm\.io-in-kernel \(vs baseline\) +tdx\.upstream \(vs baseline\) +snp\.upstream \(vs baseline\)$/m,
    );
    match(wide.out, /^cpuid mean \(cycles\) +[\d,]+ +[\d,]+ =/m);
    const json = await cli("compare", file, "--json", ...common);
    const jsonWide = await cli("compare", file, "--json", "--wide", ...common);
    deepStrictEqual(JSON.parse(jsonWide.out), JSON.parse(json.out));
    strictEqual(
      Object.keys(JSON.parse(json.out)).join(),
      "scenario,seed,designs,differences,rows,reports",
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("list's designs and profiles line up, the longest design name included", async () => {
  const { code, out } = await cli("list", "designs");
  strictEqual(code, 0);
  const lines = out.split("\n").slice(1);
  strictEqual(lines.length, DESIGN_NAMES.length);
  const longest = DESIGN_NAMES.reduce((a, b) => (b.length > a.length ? b : a));
  ok(longest.length > 24, "longer than the old hand-padded column");
  // Each summary starts two spaces after the longest name, on every line.
  for (const line of lines) {
    const name = line.slice(2).split(" ")[0];
    ok(DESIGN_NAMES.includes(name), line);
    strictEqual(line.slice(2 + name.length, 2 + longest.length + 2).trim(), "", line);
    match(line.charAt(2 + longest.length + 2), /\S/, line);
  }
  const profiles = (await cli("list", "profiles")).out.split("\n").slice(1);
  const ghz = profiles.map((line) => line.indexOf(" GHz"));
  ok(ghz.every((at) => at === ghz[0]), profiles.join("\n"));
});

Deno.test("suite's rows line up with a long scenario name", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "cvmsim-layout-" });
  try {
    const scenarios = join(dir, "scenarios");
    Deno.mkdirSync(scenarios);
    const long = "a-scenario-name-much-longer-than-the-twenty-eight-columns";
    for (const name of ["s", long]) {
      Deno.writeTextFileSync(
        join(scenarios, `${name}.json`),
        JSON.stringify(scenario({ name, designs: ["vmx.io-in-kernel", "vsm.userspace-minimal"] })),
      );
    }
    const { code, out, err } = await cli(
      "suite",
      "--scenarios",
      scenarios,
      "--out",
      dir,
      "--timeline-spans",
      "0",
      "--quiet",
    );
    strictEqual(code, 0, err);
    strictEqual(err, "", "--quiet: nothing on stderr");
    const lines = out.split("\n");
    const header = lines.findIndex((line) => line.startsWith("scenario "));
    const rows = lines.slice(header + 2, header + 6);
    strictEqual(rows.length, 4);
    // The design column starts at the same place on every row, and the numbers end together.
    const designAt = lines[header].indexOf("design");
    for (const row of rows) {
      match(row.slice(designAt), /^(vmx\.io-in-kernel|vsm\.userspace-minimal) /, row);
      strictEqual(row.length, lines[header].length, row);
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test({
  name: "start's progress rows line up with a long design name; problems go to their own sink",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = Deno.makeTempDirSync({ prefix: "cvmsim-layout-" });
    try {
      const files = [["short", "vmx.io-in-kernel"], [
        "a-scenario-with-a-long-name",
        "vsm.userspace-kernel-intercepts",
      ]].map(([name, design]) => {
        const file = join(dir, `${name}.json`);
        Deno.writeTextFileSync(file, JSON.stringify(scenario({ name, designs: [design] })));
        return file;
      });
      Deno.writeTextFileSync(join(dir, "bad.json"), JSON.stringify({ name: "bad" }));
      const log: string[] = [];
      const problems: string[] = [];
      // Not a literal: it suits the producer with or without a span limit option.
      const options = {
        files: [...files, join(dir, "bad.json")],
        reportsDir: join(dir, "reports"),
        jobs: 2,
        timelineSpans: 0,
        log: (line: string) => log.push(line),
        problem: (line: string) => problems.push(line),
      };
      const producer = new ReportProducer(options);
      await producer.start(ROOT);
      await producer.finished;
      strictEqual(problems.length, 1, problems.join("\n"));
      match(problems[0], /bad\.json/);
      const [header, rule, ...rows] = log.join("\n").split("\n");
      match(header, /^report +scenario +design +wall$/);
      strictEqual(rows.length, 2, log.join("\n"));
      const designAt = header.indexOf("design");
      const wallEnd = header.length;
      strictEqual(rule.length, wallEnd);
      for (const row of rows) {
        match(row.slice(designAt), /^(vmx\.io-in-kernel|vsm\.userspace-kernel-intercepts) /, row);
        match(row, /\d+\.\d s$/);
        strictEqual(row.length, wallEnd, row);
      }
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test("a table layout prints rows one at a time as table() prints them at once", () => {
  const rows = [["vmx.io-in-kernel", "1.2 s"], ["vsm.userspace-kernel-intercepts", "12.3 s"]];
  const layout = tableLayout(["design", "wall"], rows);
  strictEqual(
    [layout.header, ...rows.map(layout.row)].join("\n"),
    [
      "design                             wall",
      "-------------------------------  ------",
      "vmx.io-in-kernel                  1.2 s",
      "vsm.userspace-kernel-intercepts  12.3 s",
    ].join("\n"),
  );
});

Deno.test("every command accepts --quiet", () => {
  for (const command of COMMANDS) {
    ok(command.flags.quiet !== undefined, `${command.name} declares --quiet`);
    strictEqual(parse(command.name, ["--quiet"], command.flags).values.quiet, true, command.name);
  }
});

Deno.test("progress goes to stderr, never stdout, and --quiet silences it", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "cvmsim-layout-" });
  try {
    const common = ["scenarios/vmexit-inl.json", "--timeline-spans", "0", "--out", dir];
    // compare: one line per design as it ends; stdout stays JSON with --json.
    const compared = await cli("compare", ...common, "--json");
    strictEqual(compared.code, 0, compared.err);
    JSON.parse(compared.out);
    match(
      compared.err,
      /^compare: 1\/2 designs, [\d.]+ s \(vmexit-inl \/ vmx\.io-in-kernel: 56\.121 ms simulated in [\d.]+ s\)\ncompare: 2\/2 designs, /,
    );
    const quietCompare = await cli("compare", ...common, "--json", "--quiet");
    strictEqual(quietCompare.err, "");
    deepStrictEqual(
      { ...JSON.parse(quietCompare.out), reports: [] },
      { ...JSON.parse(compared.out), reports: [] },
    );
    // run
    const ran = await cli("run", ...common, "--design", "vmx.io-in-vmm");
    strictEqual(ran.code, 0, ran.err);
    match(ran.err, /^run: 1\/1 designs, /);
    ok(!ran.out.includes("designs, "), "no progress on stdout");
    strictEqual((await cli("run", ...common, "--quiet")).err, "");
    // sweep (as before) and calibrate --end-to-end
    const swept = ["scenarios/vmexit-inl.json", "--param", "seed=1,2", "--jobs", "1"];
    match((await cli("sweep", ...swept, "--out", dir)).err, /^sweep: 4\/4 points/m);
    strictEqual((await cli("sweep", ...swept, "--out", dir, "--quiet")).err, "");
    // Errors still print with --quiet.
    const bad = await cli("run", "scenarios/nope.json", "--quiet");
    strictEqual(bad.code, 2);
    match(bad.err, /cannot read scenarios\/nope\.json/);
    // Informational stderr: import's summary when the scenario goes to stdout.
    const stat = ["tests/fixtures/import/vmx-perf-kvm-stat.txt", "--seconds", "1", "--vcpus", "2"];
    const imported = await cli("import", ...stat);
    strictEqual(imported.code, 0, imported.err);
    match(imported.err, /exit reason/);
    const quietImport = await cli("import", ...stat, "--quiet");
    strictEqual(quietImport.err, "", "import --quiet: the scenario only");
    strictEqual(quietImport.out, imported.out);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
