/**
 * The memory workload on every platform: mapping sizes as state that the platforms'
 * flows change (faults, accepts, conversions, protections), and what the reports say.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import type { Summary } from "../../src/report/summary.ts";
import { ScenarioError } from "../../src/scenario/load.ts";
import { assertConserved, load, run } from "../helpers.ts";

/** A memory workload over `setMiB` from page 0, after `before` workloads, and again. */
function scenario(
  before: Record<string, unknown>[],
  patch: Record<string, unknown> = {},
  guest: Record<string, unknown> = {},
) {
  const memory = {
    kind: "memory",
    workingSetMiB: 8,
    pattern: "random",
    guestPageSize: "2M",
    count: 8192,
    ...patch,
  };
  return {
    name: "memory",
    seed: 2,
    guests: [{ vcpus: 1, memoryMiB: 64, workloads: [...before, memory], ...guest }],
    stop: { when: "workloads-complete", simulatedMs: 10_000 },
  };
}

const memoryOf = (summary: Summary) => summary.workloads.at(-1)!.memory!;

Deno.test("host THP maps the working set with 2 MiB leaves; 4 KiB backing does not", () => {
  const thp = run(scenario([]), "vmx.thp").summary;
  const small = run(scenario([]), "vmx.io-in-kernel").summary;
  strictEqual(memoryOf(thp).hugeShare, 1);
  strictEqual(memoryOf(small).hugeShare, 0);
  // 8 MiB of 2 MiB guest pages over 2 MiB leaves is 4 translations: no walks.
  strictEqual(memoryOf(thp).walkCyclesPerAccess, 0);
  // Over 4 KiB leaves the TLBs hold 4 KiB translations: 2048 of them, the STLB's size.
  ok(memoryOf(small).l1MissRate > 0.9);
  // The warm-up faulted the set in: 4 faults with THP, 2048 without.
  strictEqual(thp.totals.exitsByReason.EPT_VIOLATION, 4);
  strictEqual(small.totals.exitsByReason.EPT_VIOLATION, 2048);
  assertConserved(thp);
  assertConserved(small);
});

Deno.test("an SNP conversion of one 4 KiB page splits exactly its 2 MiB region", () => {
  const convert = { kind: "loop", operation: "convert-page-shared", iterations: 1 };
  const warm = { kind: "memory", workingSetMiB: 8, guestPageSize: "2M", count: 4096 };
  const untouched = run(scenario([warm]), "snp.rmp-2m").summary;
  strictEqual(memoryOf(untouched).hugeShare, 1);
  // The converted page is the vCPU's first (page 0): region 0 of the set's four.
  const converted = run(scenario([warm, convert]), "snp.rmp-2m").summary;
  strictEqual(memoryOf(converted).hugeShare, 0.75);
  ok(converted.totals.byPrimitive.PSMASH.count >= 1, "the 2 MiB RMP entry was smashed");
  // Back to private, the region stays 4 KiB: nothing coalesces it again.
  const back = { kind: "loop", operation: "convert-page-private", iterations: 1 };
  const returned = run(scenario([warm, convert, back]), "snp.rmp-2m").summary;
  strictEqual(memoryOf(returned).hugeShare, 0.75);
  assertConserved(returned);
});

Deno.test("a TD's 4 KiB ACCEPT keeps its region from ever being one 2 MiB leaf", () => {
  const accept4k = { kind: "loop", operation: "accept-page", iterations: 1 };
  const huge = run(scenario([]), "tdx.huge-pages").summary;
  strictEqual(memoryOf(huge).hugeShare, 1);
  const mixed = run(scenario([accept4k]), "tdx.huge-pages").summary;
  strictEqual(memoryOf(mixed).hugeShare, 0.75);
  strictEqual(memoryOf(run(scenario([]), "tdx.upstream").summary).hugeShare, 0);
});

Deno.test("a TD's 4 KiB conversion demotes its 2 MiB leaf: exactly that region goes 4 KiB", () => {
  const warm = { kind: "memory", workingSetMiB: 8, guestPageSize: "2M", count: 4096 };
  const convert = { kind: "loop", operation: "convert-page-shared", iterations: 1 };
  const back = { kind: "loop", operation: "convert-page-private", iterations: 1 };
  const summary = run(scenario([warm, convert, back]), "tdx.huge-pages").summary;
  strictEqual(memoryOf(summary).hugeShare, 0.75);
  const count = (name: string) => summary.totals.byPrimitive[name]?.count ?? 0;
  strictEqual(count("SEAMCALL(TDH.MEM.PAGE.DEMOTE)"), 1);
  // BLOCK and TRACK once for the 2 MiB leaf, once for the 4 KiB page it removes.
  strictEqual(count("SEAMCALL(TDH.MEM.RANGE.BLOCK)"), 2);
  strictEqual(count("SEAMCALL(TDH.MEM.PAGE.REMOVE)"), 1);
  assertConserved(summary);
});

Deno.test("VSM: a protection mixes its region in VTL0, and in VTL1 only with shared memslots", () => {
  const protect = { kind: "loop", operation: "protect", iterations: 1, pages: 32 };
  const guest = { hostPageSize: "2M" };
  const share = (design: string, vtl: number) =>
    memoryOf(run(scenario([protect], { vtl }, guest), design).summary).hugeShare;
  for (const design of ["vsm.in-kernel", "vsm.in-kernel-attributes", "vsm.userspace"]) {
    strictEqual(share(design, 0), 0.75, `${design} VTL0`);
  }
  strictEqual(share("vsm.in-kernel-attributes", 1), 0.75); // one set of memslots
  strictEqual(share("vsm.in-kernel-attributes-per-vtl", 1), 1);
  strictEqual(share("vsm.in-kernel", 1), 1); // memslot protections are VTL0's own slots
  strictEqual(share("vsm.planes", 1), 0.75); // planes share memslots
});

Deno.test("a VTL1 batch is a VTL call: VTL0's call and VTL1's return exit once each", () => {
  const summary = run(scenario([], { vtl: 1, count: 4 * 4096 }), "vsm.in-kernel").summary;
  strictEqual(summary.totals.exitsByReason.VMCALL, 2 * 4);
  strictEqual(memoryOf(summary).accesses, 4 * 4096);
});

Deno.test("a memory workload reports its accesses, and its vCPU's time adds up", () => {
  const summary = run(scenario([], { workingSetMiB: 1, guestPageSize: "4K" }), "vmx.thp").summary;
  const memory = memoryOf(summary);
  strictEqual(memory.accesses, 8192);
  strictEqual(summary.operations.memory.count, 8192);
  strictEqual(summary.workloads[0].operations, 8192);
  // 256 pages against a 64-entry L1 dTLB: three quarters miss it, none miss the STLB.
  strictEqual(memory.l1MissRate, 0.75);
  strictEqual(memory.stlbMissRate, 0);
  strictEqual(summary.totals.byPrimitive.TLB_WALK, undefined);
  const clockGHz = summary.scenario.host.clockGHz;
  ok(Math.abs(memory.meanAccessNs - memory.meanAccessCycles / clockGHz) < 0.01);
  assertConserved(summary);
});

Deno.test("memory workload errors name the field and the limit", () => {
  const issues = (json: unknown, designs?: string[]) => {
    try {
      load(json, designs);
    } catch (error) {
      if (error instanceof ScenarioError) return error.issues.map((i) => `${i.path}: ${i.message}`);
      throw error;
    }
    return [];
  };
  deepStrictEqual(issues(scenario([], { workingSetMiB: 40, offsetMiB: 32 })), [
    "guests[0].workloads[0].workingSetMiB: the working set of 40 MiB from offsetMiB 32 end " +
    "at 72 MiB, beyond the guest's memoryMiB 64",
  ]);
  deepStrictEqual(issues(scenario([], { vtl: 1 }), ["vmx.io-in-kernel"]), [
    "guests[0].workloads[0].vtl: design vmx.io-in-kernel (platform vmx) has no VTLs: vtl 1 " +
    "needs a Hyper-V VSM guest (use 0)",
  ]);
  const mix = { kind: "mix", operations: [{ operation: "memory", ratePerSec: 5 }], count: 1 };
  ok(issues(scenario([mix]))[0].startsWith("guests[0].workloads[0].operations[0].operation: "));
});

Deno.test("a profile file overrides translation figures field by field", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const file = `${dir}/slow-dram.json`;
    Deno.writeTextFileSync(
      file,
      JSON.stringify({
        name: "slow-dram",
        base: "intel-vmx",
        translation: {
          memoryCycles: { value: 1000, kind: "estimate", basis: "a test's slow memory" },
        },
      }),
    );
    const json = scenario([], { workingSetMiB: 512, count: 4096 }, { memoryMiB: 1024 });
    const base = memoryOf(run({ ...json, profile: "intel-vmx" }, "vmx.thp").summary);
    const slow = memoryOf(run({ ...json, profile: file }, "vmx.thp").summary);
    ok(slow.meanAccessCycles > base.meanAccessCycles + 500, "DRAM reads cost more");
    strictEqual(slow.stlbMissRate, base.stlbMissRate); // the TLB figures are the base's
    Deno.writeTextFileSync(
      file,
      JSON.stringify({ name: "bad", base: "intel-vmx", translation: { l1Entries: 5 } }),
    );
    let message = "";
    try {
      load({ ...json, profile: file });
    } catch (error) {
      if (!(error instanceof ScenarioError)) throw error;
      message = error.issues.map((i) => `${i.path}: ${i.message}`).join("\n");
    }
    ok(message.includes("#translation.l1Entries: unknown field"), message);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
