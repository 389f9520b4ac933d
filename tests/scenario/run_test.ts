import { deepStrictEqual, notStrictEqual, ok, strictEqual } from "node:assert/strict";
import { DOMAINS } from "../../src/host/primitives.ts";
import { INTEL_VMX } from "../../src/profiles/intel_vmx.ts";
import type { Summary } from "../../src/report/summary.ts";
import { loadScenario } from "../../src/scenario/load.ts";
import { simulate } from "../../src/scenario/run.ts";
import { run, scenario } from "../helpers.ts";

const cost = (name: keyof typeof INTEL_VMX.costs) => INTEL_VMX.costs[name]!.cycles;

/** Every vCPU's domain times add up to the simulated span. */
function assertConserved(summary: Summary): void {
  for (const vcpu of summary.vcpus) {
    const total = DOMAINS.reduce((sum, d) => sum + vcpu.byDomain[d], 0);
    strictEqual(total, summary.run.simulatedCycles, `${vcpu.name} accounts for ${total}`);
  }
}

const mix = {
  kind: "mix",
  operations: [
    { operation: "cpuid", ratePerSec: 50000 },
    { operation: "pio-read", ratePerSec: 80000 },
  ],
};

Deno.test("same scenario and seed give a byte-identical summary; another seed differs", () => {
  const json = scenario({
    guests: [{ vcpus: 4, workloads: [{ ...mix, durationMs: 2 }] }],
    designs: ["vmx.io-in-vmm"],
  });
  const first = JSON.stringify(run(json).summary);
  const second = JSON.stringify(run(json).summary);
  strictEqual(first, second);
  const other = JSON.stringify(run({ ...json, seed: 8 }).summary);
  notStrictEqual(first, other);
});

Deno.test("shipped scenarios are deterministic end to end", () => {
  const loaded = loadScenario("scenarios/baseline.json");
  for (const design of loaded.scenario.designs) {
    const a = JSON.stringify(simulate(loaded, design).summary);
    const b = JSON.stringify(simulate(loaded, design).summary);
    strictEqual(a, b, design);
  }
});

Deno.test("conservation: each vCPU's time adds up to the simulated span", async (t) => {
  const cases: [string, Record<string, unknown>][] = [
    [
      "workloads complete at different times",
      scenario({
        guests: [{
          vcpus: 3,
          workloads: [
            { kind: "loop", operation: "pio-read", iterations: 500, vcpus: [0] },
            { kind: "loop", operation: "cpuid", iterations: 2000, vcpus: [1] },
          ],
        }],
        designs: ["vmx.io-in-vmm"],
      }),
    ],
    [
      "stopped by time in the middle of guest compute and lock waits",
      scenario({
        guests: [{ vcpus: 6, workloads: [mix] }],
        designs: ["vmx.io-in-vmm"],
        stop: { when: "time", simulatedMs: 0.7 },
      }),
    ],
    [
      "overcommitted host: more vCPUs than pCPUs",
      scenario({
        host: { pcpus: 2 },
        guests: [{ vcpus: 5, workloads: [{ ...mix, count: 200 }] }],
      }),
    ],
    [
      "several guests, phases and idle vCPUs",
      scenario({
        guests: [
          {
            vcpus: 2,
            workloads: [
              { kind: "compute", durationMs: 0.1 },
              { ...mix, durationMs: 0.3, spacing: "fixed" },
            ],
          },
          {
            name: "quiet",
            vcpus: 3,
            workloads: [{ kind: "loop", operation: "hypercall", iterations: 10, vcpus: [2] }],
          },
        ],
        designs: ["vmx.io-in-vmm"],
      }),
    ],
  ];
  for (const [name, json] of cases) {
    await t.step(name, () => assertConserved(run(json).summary));
  }
});

Deno.test("an in-kernel exit charges one exit, one dispatch, the handler and one entry", () => {
  const { summary } = run(scenario({
    guests: [{ vcpus: 1, workloads: [{ kind: "loop", operation: "cpuid", iterations: 1000 }] }],
  }));
  const p = summary.totals.byPrimitive;
  strictEqual(p.VMEXIT.count, 1000);
  strictEqual(p.KVM_EXIT_DISPATCH.count, 1000);
  strictEqual(p.KVM_CPUID.count, 1000);
  strictEqual(p.VMENTRY.count, 1000 + 1); // plus the first entry of KVM_RUN
  strictEqual(p.IOCTL_RET, undefined);
  strictEqual(p.IOCTL_ENTER, undefined);
  deepStrictEqual(summary.totals.exitsByReason, { CPUID: 1000 });
  strictEqual(
    summary.operations.cpuid.meanCycles,
    cost("VMEXIT") + cost("KVM_EXIT_DISPATCH") + cost("KVM_CPUID") + cost("VMENTRY"),
  );
});

Deno.test("a userspace exit adds exactly one IOCTL_RET and one IOCTL_ENTER", () => {
  const json = scenario({
    guests: [{ vcpus: 1, workloads: [{ kind: "loop", operation: "pio-write", iterations: 700 }] }],
  });
  const kernel = run(json, "vmx.io-in-kernel").summary.totals.byPrimitive;
  const user = run(json, "vmx.io-in-vmm").summary.totals.byPrimitive;
  strictEqual(kernel.KVM_PIO.count, 700);
  strictEqual(kernel.IOCTL_RET, undefined);
  for (const prim of ["VMEXIT", "VMENTRY", "KVM_EXIT_DISPATCH"]) {
    strictEqual(user[prim].count, kernel[prim].count, prim);
  }
  strictEqual(user.IOCTL_RET.count, 700);
  strictEqual(user.IOCTL_ENTER.count, 700);
  strictEqual(user.VMM_PIO.count, 700);
  strictEqual(user.KVM_PIO, undefined);
});

Deno.test("the vmexit pair reproduces the profile's calibration targets", () => {
  const loaded = loadScenario("scenarios/vmexit-inl.json");
  const kernel = simulate(loaded, "vmx.io-in-kernel").summary.operations["pio-read"].meanCycles;
  const user = simulate(loaded, "vmx.io-in-vmm").summary.operations["pio-read"].meanCycles;
  // The profile sizes the userspace path so the ratio equals the nested pair's
  // (Bonzini 2019: 44826 / 13518); rounding of integer cycles allows 0.1 %.
  const published = 44826 / 13518;
  ok(Math.abs(user / kernel - published) / published < 0.001, `ratio ${user / kernel}`);
});

Deno.test("userspace exits on several vCPUs queue for the VMM lock", () => {
  const json = scenario({
    guests: [{ vcpus: 8, workloads: [{ kind: "loop", operation: "pio-read", iterations: 300 }] }],
  });
  const user = run(json, "vmx.io-in-vmm").summary;
  const lock = user.resources.find((r) => r.name === "vm0/vmm-lock")!;
  strictEqual(lock.acquisitions, 8 * 300);
  ok(lock.contended > 0, "some acquisitions waited");
  ok(user.totals.byDomain.wait > 0);
  const alone = run(
    scenario({
      guests: [{ vcpus: 1, workloads: [{ kind: "loop", operation: "pio-read", iterations: 300 }] }],
    }),
    "vmx.io-in-vmm",
  ).summary;
  strictEqual(alone.resources.find((r) => r.name === "vm0/vmm-lock")!.contended, 0);
  strictEqual(alone.totals.byDomain.wait, 0);
  // Eight vCPUs want the lock for 8 × 1222 of every ~4652 cycles: it saturates, and the
  // waits show up in each read's latency.
  ok(user.operations["pio-read"].meanCycles > 1.5 * alone.operations["pio-read"].meanCycles);
  ok(lock.utilization > 0.95, `lock utilization ${lock.utilization}`);
});

Deno.test("an overcommitted host makes vCPUs wait for pCPUs", () => {
  const json = scenario({
    host: { pcpus: 2 },
    guests: [{ vcpus: 4, workloads: [{ kind: "loop", operation: "cpuid", iterations: 100 }] }],
  });
  const { summary } = run(json);
  const pcpus = summary.resources.find((r) => r.name === "host/pcpus")!;
  strictEqual(pcpus.capacity, 2);
  strictEqual(pcpus.contended, 2);
  strictEqual(summary.totals.byPrimitive.WAIT_PCPU.count, 2);
  // The work (41 us a vCPU) fits in one time slice: two vCPUs run, go idle (no halt
  // polling while others wait), and the other two run. The run takes twice one vCPU's work
  // plus the switches and the first pair's HLT on the way out.
  const oneVcpuCycles = 100 * summary.operations.cpuid.meanCycles;
  const switches = 2 * (cost("CONTEXT_SWITCH") + cost("VMENTRY")) + cost("VMEXIT") +
    cost("KVM_EXIT_DISPATCH") + cost("KVM_HLT") + cost("VCPU_PUT");
  strictEqual(summary.run.simulatedCycles, 2 * oneVcpuCycles + switches);
  strictEqual(summary.totals.byPrimitive.HALT_POLL, undefined);
});

Deno.test("mix workloads hit their rates and stop at their duration", () => {
  const { summary } = run(scenario({
    guests: [{
      vcpus: 2,
      workloads: [{
        kind: "mix",
        operations: [{ operation: "cpuid", ratePerSec: 100000 }, {
          operation: "hypercall",
          ratePerSec: 50000,
        }],
        durationMs: 20,
      }],
    }],
  }));
  // 20 ms at 150k/s of guest time on 2 vCPUs, minus the share of time spent in exits.
  const ops = summary.workloads[0].operations;
  ok(ops > 5400 && ops < 6000, `ops ${ops}`);
  const share = summary.operations.cpuid.count / ops;
  ok(Math.abs(share - 2 / 3) < 0.03, `cpuid share ${share}`);
  // The workload starts after the thread is switched in and first enters the guest.
  strictEqual(
    summary.run.simulatedCycles,
    cost("CONTEXT_SWITCH") + cost("VMENTRY") + 20 * 2.5e6,
  );
  strictEqual(summary.workloads[0].finishedVcpus, 2);
});

Deno.test("a time-stopped run reports the stop and leaves workloads unfinished", () => {
  const { summary } = run(scenario({
    guests: [{ vcpus: 1, workloads: [mix] }],
    stop: { when: "time", simulatedMs: 1 },
  }));
  strictEqual(summary.run.stop, "time");
  strictEqual(summary.run.simulatedCycles, 2.5e6);
  strictEqual(summary.workloads[0].finishedVcpus, 0);
  const limited = run(scenario({
    guests: [{ vcpus: 1, workloads: [{ kind: "loop", operation: "cpuid", iterations: 1e6 }] }],
    stop: { simulatedMs: 1 },
  })).summary;
  strictEqual(limited.run.stop, "time-limit");
});
