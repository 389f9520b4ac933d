import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { main } from "../../src/cli/main.ts";
import { resolveExit } from "../../src/import/exit_map.ts";
import { parsePerfKvmStat } from "../../src/import/perf_kvm_stat.ts";
import {
  ImportError,
  type ImportOptions,
  statToScenario,
  traceToScenario,
} from "../../src/import/to_scenario.ts";
import { parseTraceText } from "../../src/import/trace_text.ts";
import { decodeTimeline, encodeTimeline } from "../../src/report/timeline_file.ts";
import { traceCmdText } from "../../src/report/trace_cmd.ts";
import { DEFAULT_TIMELINE } from "../../src/report/timeline.ts";
import { simulate } from "../../src/scenario/run.ts";
import { createProgram } from "../../src/workloads/workloads.ts";
import { type GuestOperation, OP, OP_DONE, OP_IDLE, OP_NONE } from "../../src/host/operations.ts";
import { RngStreams } from "../../src/engine/mod.ts";
import { load, run } from "../helpers.ts";

const fixture = (name: string) =>
  Deno.readTextFileSync(new URL(`../fixtures/import/${name}`, import.meta.url));
const OPTIONS: ImportOptions = { name: "t", source: "t", replay: true, seed: 1 };

/** Exits per reason of the stat fixture (it and the traces come from the same records). */
function statCounts(name: string): Record<string, number> {
  return Object.fromEntries(parsePerfKvmStat(fixture(name)).rows.map((r) => [r.reason, r.samples]));
}

function traceCounts(text: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const vcpu of parseTraceText(text).vcpus) {
    for (const exit of vcpu.exits) counts[exit.reason] = (counts[exit.reason] ?? 0) + 1;
  }
  return counts;
}

Deno.test("perf kvm stat report: rows, totals and the vCPU scope are read", () => {
  const report = parsePerfKvmStat(fixture("vmx-perf-kvm-stat.txt"));
  strictEqual(report.vcpu, "all");
  deepStrictEqual(report.problems, []);
  strictEqual(report.rows.length, 11);
  strictEqual(report.rows.reduce((sum, r) => sum + r.samples, 0), report.totalSamples);
  const hlt = report.rows.find((r) => r.reason === "HLT")!;
  ok(hlt.avgUs > 100 && hlt.timePercent > 50, "HLT dominates the handled time");
  const svm = parsePerfKvmStat(fixture("svm-perf-kvm-stat.txt"));
  ok(svm.rows.some((r) => r.reason === "npf") && svm.rows.some((r) => r.reason === "msr"));
});

Deno.test("perf kvm stat report: a bad line is reported with its number, and other events are refused", () => {
  const text = [
    "Analyze events for pid(s) 4242, VCPU 3:",
    "",
    "             VM-EXIT    Samples  Samples%     Time%    Min Time    Max Time         Avg time",
    "",
    "               CPUID        100    50.00%    10.00%      0.50us      2.00us      0.70us ( +-   1.00% )",
    "                 HLT   one hundred",
    "                 HLT        100    50.00%    90.00%      1.00us    900.00us    100.00us ( +-   5.00% )",
  ].join("\n");
  const report = parsePerfKvmStat(text);
  strictEqual(report.vcpu, 3);
  strictEqual(report.rows.length, 2);
  deepStrictEqual(report.problems.map((p) => p.line), [6]);
  const mmio = parsePerfKvmStat(text.replace("VM-EXIT", "MMIO Access"));
  match(mmio.problems[0].why, /MMIO Access events; import reads the VM-EXIT report/);
});

Deno.test("trace-cmd and perf script text: exits per reason and per vCPU, problems by line", () => {
  const vmx = parseTraceText(fixture("vmx-trace-cmd.txt"));
  strictEqual(vmx.format, "trace-cmd");
  deepStrictEqual(vmx.vcpus.map((v) => v.id), [0, 1, 2, 3]);
  const counts = traceCounts(fixture("vmx-trace-cmd.txt"));
  // The trace holds what the report counts, but one CPUID is of a reason nobody knows.
  const report = statCounts("vmx-perf-kvm-stat.txt");
  deepStrictEqual(counts, { ...report, CPUID: report.CPUID - 1, SEAMCALL_FUTURE: 1 });
  deepStrictEqual(vmx.problems.map((p) => [p.line, p.why]), [[201, "not an event line"]]);
  deepStrictEqual(vmx.otherEvents, { sched_switch: 1 });
  ok(vmx.vcpus.every((v) => v.exits.every((e, i) => i === 0 || e.guestNs >= 0)));
  const svm = parseTraceText(fixture("svm-perf-script.txt"));
  strictEqual(svm.format, "perf-script");
  strictEqual(svm.vcpus.length, 2);
  deepStrictEqual(traceCounts(fixture("svm-perf-script.txt")), statCounts("svm-perf-kvm-stat.txt"));
  strictEqual(svm.problems.length, 1);
  match(svm.problems[0].text, /garbage/);
  // Details attach to their exit: every userspace exit is a port or MMIO exit.
  for (const exit of svm.vcpus.flatMap((v) => v.exits)) {
    if (exit.userspace !== undefined) ok(exit.reason === "io" || exit.reason === "npf");
  }
});

Deno.test("older kernels' kvm_exit without a vCPU id: the thread names the vCPU", () => {
  const text = [
    " qemu-system-x86-3001  [001]  100.000010: kvm_entry:            vcpu 5",
    " qemu-system-x86-3001  [001]  100.000020: kvm_exit:             reason CPUID rip 0xffffffff8100 info 0 0",
    " qemu-system-x86-3001  [001]  100.000021: kvm_entry:            vcpu 5",
  ].join("\n");
  const trace = parseTraceText(text);
  deepStrictEqual(trace.vcpus.map((v) => [v.id, v.idIsThread, v.exits.length]), [[5, false, 1]]);
  strictEqual(trace.vcpus[0].exits[0].guestNs, 10_000);
  strictEqual(trace.vcpus[0].exits[0].entryNs - trace.vcpus[0].exits[0].exitNs, 1_000);
});

Deno.test("mapping: VMX and SVM exits to guest operations", () => {
  const step = (isa: "vmx" | "svm", reason: string, detail = {}) =>
    resolveExit(isa, reason, detail);
  strictEqual(step("vmx", "CPUID").step, "cpuid");
  strictEqual(step("vmx", "MSR_READ").step, "msr-read");
  strictEqual(step("vmx", "MSR_WRITE").step, "msr-write");
  strictEqual(step("vmx", "MSR_WRITE", { event: "msr", write: true, msr: 0x830 }).step, "ipi");
  deepStrictEqual(step("vmx", "MSR_WRITE", { event: "msr", write: true, msr: 0x80b }), {
    step: undefined,
    guessed: false,
    unknown: false,
    skipped: "EOI",
  });
  strictEqual(step("vmx", "HLT").step, "halt");
  strictEqual(step("vmx", "VMCALL").step, "hypercall");
  // MMIO: kvm_mmio tells the direction; without it a write is assumed, and said.
  strictEqual(step("vmx", "EPT_MISCONFIG", { event: "mmio", write: false }).step, "mmio-read");
  deepStrictEqual(step("vmx", "EPT_MISCONFIG"), {
    step: "mmio-write",
    guessed: true,
    unknown: false,
  });
  strictEqual(step("vmx", "EPT_VIOLATION").step, "touch");
  strictEqual(step("vmx", "EPT_VIOLATION", { event: "mmio", write: true }).step, "mmio-write");
  // Port I/O: exit qualification bit 3 (VMX) or EXITINFO1 bit 0 (SVM) is 1 for IN.
  strictEqual(step("vmx", "IO_INSTRUCTION", { info1: 0x8n }).step, "pio-read");
  strictEqual(step("vmx", "IO_INSTRUCTION", { info1: 0x0n }).step, "pio-write");
  strictEqual(
    step("vmx", "IO_INSTRUCTION", { event: "pio", write: false, info1: 0n }).step,
    "pio-read",
  );
  strictEqual(step("svm", "io", { info1: 0xc0500219n }).step, "pio-read");
  strictEqual(step("svm", "msr", { info1: 1n }).step, "msr-write");
  strictEqual(step("svm", "msr", { info1: 0n }).step, "msr-read");
  strictEqual(step("svm", "npf").step, "touch");
  // Host-caused and unknown reasons are not imported, and kept apart.
  deepStrictEqual(step("vmx", "EXTERNAL_INTERRUPT"), {
    step: undefined,
    guessed: false,
    unknown: false,
  });
  deepStrictEqual(step("vmx", "SEAMCALL_FUTURE"), {
    step: undefined,
    guessed: false,
    unknown: true,
  });
  deepStrictEqual(step("vmx", "constructor"), { step: undefined, guessed: false, unknown: true });
});

Deno.test("an imported VMX trace replays its exits: counts per reason as recorded", () => {
  const imported = traceToScenario(parseTraceText(fixture("vmx-trace-cmd.txt")), OPTIONS);
  const loaded = load(imported.scenario);
  deepStrictEqual(loaded.scenario.designs, [
    "vmx.io-in-vmm", // every port and MMIO exit of the trace went to userspace
    "tdx.upstream",
    "snp.upstream",
    "vsm.in-kernel",
  ]);
  const recorded = traceCounts(fixture("vmx-trace-cmd.txt"));
  const simulated = simulate(loaded, "vmx.io-in-vmm").summary.totals.exitsByReason;
  // Exits no other vCPU can cause or absorb come out exactly as recorded.
  for (
    const reason of [
      "CPUID",
      "VMCALL",
      "IO_INSTRUCTION",
      "MSR_READ",
      "EPT_MISCONFIG",
      "EPT_VIOLATION",
    ]
  ) {
    strictEqual(simulated[reason], recorded[reason], reason);
  }
  // Halts end at the first wake-up; IPIs from vCPUs whose replay runs at another pace wake
  // some halts at other times, so MSR writes (timer) and HLTs may differ a little.
  const imported_ = [
    "CPUID",
    "VMCALL",
    "IO_INSTRUCTION",
    "MSR_READ",
    "MSR_WRITE",
    "EPT_MISCONFIG",
    "EPT_VIOLATION",
    "HLT",
  ];
  const total = (counts: Record<string, number>) =>
    imported_.reduce((s, r) => s + (counts[r] ?? 0), 0);
  const off = total(simulated) / total(recorded) - 1;
  ok(Math.abs(off) < 0.02, `imported exits total ${total(simulated)} vs ${total(recorded)}`);
  match(imported.notes.join("\n"), /SEAMCALL_FUTURE 1 \(unknown\)/);
  match(imported.notes.join("\n"), /EXTERNAL_INTERRUPT 146/);
});

Deno.test("an imported trace keeps its guest time: resampled steps per guest second as recorded", () => {
  const imported = traceToScenario(parseTraceText(fixture("svm-perf-script.txt")), {
    ...OPTIONS,
    replay: false,
  });
  const loaded = load(imported.scenario);
  for (const workload of loaded.scenario.guests[0].workloads) {
    if (workload.kind !== "trace") throw new Error("expected trace workloads");
    const recordedNs = workload.gapNs.reduce((s, n) => s + n, 0);
    const perOp = new Map<number, number>();
    for (const i of workload.sequence) perOp.set(i, (perOp.get(i) ?? 0) + 1);
    // Draw 1,000 times the recorded steps (counting noise under 1%) and compare the rates per second of guest time.
    const program = createProgram({
      ...workload,
      durationMs: undefined,
      count: workload.sequence.length * 1000,
    }, {
      rng: new RngStreams(5).stream("w"),
      cyclesPerMs: 1e6, // 1 cycle = 1 ns
      rank: 0,
      ranks: 1,
      guestMemoryMiB: 1024,
    });
    const drawn = new Map<number, number>();
    let guestNs = 0;
    for (let now = 0;;) {
      const op = program.next(now);
      if (op === OP_DONE) break;
      if (op !== OP_IDLE) guestNs += program.gapCycles;
      now += program.gapCycles;
      const key = op === OP_NONE || op === OP_IDLE ? OP_IDLE : op;
      if (op !== OP_NONE) drawn.set(key, (drawn.get(key) ?? 0) + 1);
    }
    for (const [index, count] of perOp) {
      const name = workload.operations[index];
      const key = name === "halt" ? OP_IDLE : OP[name as GuestOperation];
      const recordedRate = count / recordedNs;
      const drawnRate = drawn.get(key)! / guestNs;
      ok(Math.abs(drawnRate / recordedRate - 1) < 0.02, `${name}: ${drawnRate} vs ${recordedRate}`);
    }
  }
});

Deno.test("an imported perf kvm stat report runs at its recorded rates", () => {
  const report = parsePerfKvmStat(fixture("vmx-perf-kvm-stat.txt"));
  const recordedSeconds = report.durationSeconds!; // from perf's header lines
  const imported = statToScenario(report, { ...OPTIONS, vcpus: 4 });
  const spec = structuredClone(imported.scenario) as {
    guests: { workloads: { durationMs: number }[] }[];
    stop: { simulatedMs: number };
  };
  // 100 times the recorded span, so that counting noise stays under 1%.
  spec.guests[0].workloads[0].durationMs = 3000;
  spec.stop.simulatedMs = 3000;
  const exits = run(spec, "vmx.io-in-vmm").summary.totals.exitsByReason;
  const recorded = statCounts("vmx-perf-kvm-stat.txt");
  for (const reason of ["CPUID", "MSR_READ", "IO_INSTRUCTION", "EPT_MISCONFIG", "HLT", "VMCALL"]) {
    const rate = exits[reason] / 3;
    const recordedRate = recorded[reason] / recordedSeconds;
    // cvmsim handles port and MMIO exits faster than the recorded host did, so the guest
    // gets back to work sooner and its exits come a little more often per wall second.
    ok(Math.abs(rate / recordedRate - 1) < 0.04, `${reason}: ${rate}/s vs ${recordedRate}/s`);
  }
  match(imported.notes.join("\n"), /direction not recorded, taken as writes: IO_INSTRUCTION 138/);
});

Deno.test("a perf kvm stat report needs its duration and vCPU count, and says so", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const file = `${dir}/stat.txt`;
    // Without perf's header lines the report does not say how long it recorded.
    Deno.writeTextFileSync(file, fixture("vmx-perf-kvm-stat.txt").replace(/^#.*$/gm, ""));
    const err: string[] = [];
    const io = { out: () => {}, err: (t: string) => err.push(t) };
    strictEqual(await main(["import", file], io), 1);
    match(err.join("\n"), /does not say how long it recorded: give --seconds/);
    err.length = 0;
    strictEqual(await main(["import", file, "--seconds", "0.03"], io), 1);
    match(err.join("\n"), /give --vcpus/);
    Deno.writeTextFileSync(file, "hello\n");
    err.length = 0;
    strictEqual(await main(["import", file], io), 1);
    match(err.join("\n"), /neither a perf kvm stat report nor trace-cmd/);
    err.length = 0;
    strictEqual(await main(["import", file, "--seconds", "-1"], io), 2);
    const out: string[] = [];
    const written = `${dir}/my.json`;
    const code = await main(
      [
        "import",
        new URL("../fixtures/import/vmx-perf-kvm-stat.txt", import.meta.url).pathname,
        "--vcpus",
        "4",
        "--out",
        written,
      ],
      { out: (t) => out.push(t), err: (t) => err.push(t) },
    );
    strictEqual(code, 0);
    match(out.join("\n"), /wrote .*my\.json/);
    strictEqual(await main(["validate", written], { out: () => {}, err: () => {} }), 0);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("round trip: a run exported as trace-cmd text, imported and rerun, has the same exits", () => {
  const spec = {
    name: "rt",
    seed: 3,
    guests: [{
      vcpus: 2,
      workloads: [{
        kind: "mix",
        durationMs: 10,
        operations: [
          { operation: "cpuid", ratePerSec: 20000 },
          { operation: "msr-read", ratePerSec: 5000 },
          { operation: "msr-write", ratePerSec: 5000 },
          { operation: "pio-read", ratePerSec: 4000 },
          { operation: "pio-write", ratePerSec: 4000 },
          { operation: "mmio-write", ratePerSec: 3000 },
          { operation: "hypercall", ratePerSec: 3000 },
        ],
      }],
    }],
    stop: { when: "workloads-complete" },
  };
  for (const [design, isa] of [["vmx.io-in-vmm", "vmx"], ["svm.io-in-kernel", "svm"]] as const) {
    const loaded = load(spec, [design]);
    const first = simulate(loaded, design, { timeline: { ...DEFAULT_TIMELINE, maxSpans: 1e6 } });
    const bytes = encodeTimeline(
      first.timeline!,
      first.summary.scenario.host.clockGHz,
      first.summary.run.simulatedCycles,
    );
    const text = traceCmdText(decodeTimeline(bytes), isa);
    const trace = parseTraceText(text);
    deepStrictEqual(trace.problems, []);
    const imported = traceToScenario(trace, OPTIONS);
    // The recorded host's I/O went to userspace or not: the import says which design it was.
    strictEqual((imported.scenario.designs as string[])[0], design);
    const again = run(imported.scenario, design).summary;
    const before = first.summary.totals.exitsByReason;
    for (const reason of Object.keys(before)) {
      strictEqual(again.totals.exitsByReason[reason], before[reason], `${design} ${reason}`);
    }
    const span = again.run.simulatedCycles / first.summary.run.simulatedCycles - 1;
    ok(Math.abs(span) < 0.01, `${design}: simulated time ${span * 100}% off`);
    // What a TD makes of the same exits: #VE and TDG.VP.VMCALL for all but hypercalls.
    if (isa === "vmx") {
      const td = run(imported.scenario, "tdx.upstream").summary;
      const steps = Object.values(before).reduce((s, n) => s + n, 0);
      ok(
        td.totals.exitsByReason.TDVMCALL >= steps && td.totals.exitsByReason.TDVMCALL <= steps + 2,
      );
      strictEqual(td.totals.byPrimitive.GUEST_VE.count, steps - before.VMCALL);
    }
  }
});

Deno.test("the shipped imported scenario is what import makes of the fixture today", async () => {
  const shipped = new URL("../../scenarios/imported-vmx-trace.json", import.meta.url).pathname;
  const dir = Deno.makeTempDirSync();
  try {
    const out = `${dir}/again.json`;
    const fixtureFile = new URL("../fixtures/import/vmx-trace-cmd.txt", import.meta.url).pathname;
    const quiet = { out: () => {}, err: () => {} };
    const code = await main(
      ["import", fixtureFile, "--name", "imported-vmx-trace", "--out", out],
      quiet,
    );
    strictEqual(code, 0);
    strictEqual(
      Deno.readTextFileSync(out),
      Deno.readTextFileSync(shipped),
      "run: deno task sim import tests/fixtures/import/vmx-trace-cmd.txt --name " +
        "imported-vmx-trace --out scenarios/imported-vmx-trace.json",
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("mangled traces and reports end in a clear refusal or a valid scenario, never a crash", () => {
  const rng = new RngStreams(9).stream("mangle");
  const texts = [
    "vmx-trace-cmd.txt",
    "svm-perf-script.txt",
    "vmx-perf-kvm-stat.txt",
    "svm-perf-kvm-stat.txt",
  ].map(fixture);
  const junk = ["", " ", "0x", "-1", "NaN", "99999999999999999999999", "\u0000", ":", "[", "]"];
  for (let c = 0; c < 300; c++) {
    const lines = texts[c % 4].split("\n");
    for (let e = rng.int(1, 20); e > 0; e--) {
      const i = rng.int(0, lines.length - 1);
      const at = rng.int(0, lines[i].length);
      const cut = rng.int(0, 4);
      if (cut === 0) lines[i] = lines[i].slice(0, at);
      else if (cut === 1) {
        lines[i] = lines[i].slice(0, at) + junk[rng.int(0, 9)] + lines[i].slice(at + 2);
      } else if (cut === 2) lines.splice(i, 1);
      else if (cut === 3) lines.splice(i, 0, lines[rng.int(0, lines.length - 1)]);
      else lines[i] = lines[i].replace(/\d+/, junk[rng.int(0, 9)]);
    }
    const text = lines.join("\n");
    const options = { ...OPTIONS, replay: c % 2 === 0, vcpus: 4 };
    let imported;
    try {
      imported = c % 4 < 2
        ? traceToScenario(parseTraceText(text), options)
        : statToScenario(parsePerfKvmStat(text), options);
    } catch (error) {
      ok(error instanceof ImportError, `case ${c}: ${error}`);
      continue;
    }
    load(imported.scenario); // throws on an invalid scenario
  }
});
