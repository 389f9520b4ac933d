/**
 * Intel TDX flows (flows.md C.1-C.7): primitive counts per flow, the S-EPT lock's
 * contention, and what each split changes.
 */
import { ok, strictEqual } from "node:assert/strict";
import { resolveProfile } from "../../src/host/profile.ts";
import { shippedProfile } from "../../src/profiles/mod.ts";
import type { Summary } from "../../src/report/summary.ts";
import { assertConserved, run } from "../helpers.ts";

const TDX = resolveProfile(shippedProfile("intel-tdx")!, shippedProfile);
const cost = (name: string) => TDX.costs[name as keyof typeof TDX.costs]!.cycles;
const count = (summary: Summary, name: string) => summary.totals.byPrimitive[name]?.count ?? 0;

/** One TD whose vCPU 0 runs `workloads`; vCPUs 1.. compute in the guest meanwhile. */
function td(design: string, workloads: unknown[], vcpus = 1, memoryMiB = 64): Summary {
  const others = vcpus > 1
    ? [{ kind: "compute", durationMs: 2, vcpus: [...Array(vcpus - 1).keys()].map((i) => i + 1) }]
    : [];
  return run({
    name: "tdx-test",
    seed: 1,
    guests: [{ vcpus, memoryMiB, platform: "tdx", workloads: [...workloads, ...others] }],
    designs: [design],
  }).summary;
}

const acceptPages = (pages: number, design = "tdx.upstream") =>
  td(design, [{ kind: "loop", operation: "accept-page", iterations: pages, vcpus: [0] }]);

Deno.test("a newly accepted 4 KiB page costs one ACCEPT, TD exit, AUG and VP.ENTER, and 0-3 SEPT.ADD", () => {
  const small = acceptPages(512);
  const large = acceptPages(1024);
  assertConserved(large);
  // The extra 512 pages cost exactly one of each per page (the rest is boot and halt).
  for (
    const name of ["TDCALL(TDG.MEM.PAGE.ACCEPT)", "SEAMCALL(TDH.MEM.PAGE.AUG)", "TDX_PAGE_ZERO"]
  ) {
    strictEqual(count(large, name) - count(small, name), 512, name);
  }
  strictEqual(
    large.vcpus[0].exitsByReason.EPT_VIOLATION - small.vcpus[0].exitsByReason.EPT_VIOLATION,
    512,
  );
  strictEqual(count(large, "TD_EXIT") - count(small, "TD_EXIT"), 512);
  strictEqual(count(large, "SEAMCALL(TDH.VP.ENTER)") - count(small, "SEAMCALL(TDH.VP.ENTER)"), 512);
  // Pages 0-511: the walk adds all three levels once; page 512 starts a new page table.
  strictEqual(count(small, "SEAMCALL(TDH.MEM.SEPT.ADD)"), 3);
  strictEqual(count(large, "SEAMCALL(TDH.MEM.SEPT.ADD)"), 4);
  // A mirror walk of four levels per fault, no SEAMCALL reads.
  strictEqual(count(large, "KVM_MIRROR_READ"), 4 * 1024);
  strictEqual(count(large, "SEAMCALL(TDH.MEM.SEPT.RD)"), 0);
  strictEqual(count(large, "SEAMCALL_BUSY"), 0, "one vCPU never finds the S-EPT lock held");
});

Deno.test("accepting an already accepted page is one ACCEPT and no exit", () => {
  // A 2 MiB TD has 512 pages and vCPU 0 accepts them in order, wrapping around: the last
  // 16 of 528 acceptances find pages 0-15 already accepted.
  const summary = td(
    "tdx.upstream",
    [
      { kind: "loop", operation: "accept-page", iterations: 512 + 16, vcpus: [0] },
    ],
    1,
    2,
  );
  strictEqual(count(summary, "TDCALL(TDG.MEM.PAGE.ACCEPT)"), 512 + 16);
  strictEqual(count(summary, "SEAMCALL(TDH.MEM.PAGE.AUG)"), 512);
  strictEqual(summary.vcpus[0].exitsByReason.EPT_VIOLATION, 512);
});

Deno.test("S10: SEAMCALL reads cost reads x (TDH.MEM.SEPT.RD - mirror read) more than the mirror", () => {
  const mirror = acceptPages(1000);
  const seamcall = acceptPages(1000, "tdx.seamcall-reads");
  const reads = count(seamcall, "SEAMCALL(TDH.MEM.SEPT.RD)");
  strictEqual(reads, 4 * 1000);
  strictEqual(count(mirror, "KVM_MIRROR_READ"), reads);
  strictEqual(
    seamcall.run.simulatedCycles - mirror.run.simulatedCycles,
    reads * (cost("SEAMCALL(TDH.MEM.SEPT.RD)") - cost("KVM_MIRROR_READ")),
  );
  // The SEAMCALL reads are TDX-module time on the vCPU.
  ok(seamcall.vcpus[0].byDomain["tdx-module"] > mirror.vcpus[0].byDomain["tdx-module"]);
});

Deno.test("S14: the ops table costs an indirect call more than a branch per callback", () => {
  const branch = acceptPages(200);
  const table = acceptPages(200, "tdx.ops-table");
  const calls = count(table, "KVM_CALL_INDIRECT");
  strictEqual(calls, count(branch, "KVM_CALL_BRANCH"));
  strictEqual(calls, 6 * count(table, "TD_EXIT"), "six callbacks per exit");
  strictEqual(
    table.run.simulatedCycles - branch.run.simulatedCycles,
    calls * (cost("KVM_CALL_INDIRECT") - cost("KVM_CALL_BRANCH")),
  );
});

const acceptMemory = (design: string, vcpus: number, memoryMiB = 64) =>
  run({
    name: "tdx-accept",
    seed: 1,
    host: { pcpus: vcpus },
    guests: [{
      vcpus,
      memoryMiB,
      platform: "tdx",
      workloads: [{ kind: "accept-memory" }],
    }],
    designs: [design],
  }).summary;

Deno.test("the S-EPT lock: acceptance scales with vCPUs only when the lock costs nothing", () => {
  const speedup = (design: string) =>
    acceptMemory(design, 1).run.simulatedCycles / acceptMemory(design, 8).run.simulatedCycles;
  const ideal = speedup("tdx.no-sept-lock");
  const real = speedup("tdx.upstream");
  ok(ideal > 7, `without the lock 8 vCPUs accept ${ideal.toFixed(2)}x faster`);
  ok(real < 2.5, `with the lock 8 vCPUs accept only ${real.toFixed(2)}x faster`);
  // The contention shows as busy SEAMCALLs and a saturated lock, not as a formula.
  const contended = acceptMemory("tdx.upstream", 8);
  assertConserved(contended);
  ok(count(contended, "SEAMCALL_BUSY") > 1000, `${count(contended, "SEAMCALL_BUSY")} busy`);
  strictEqual(count(acceptMemory("tdx.no-sept-lock", 8), "SEAMCALL_BUSY"), 0);
  const lock = contended.resources.find((r) => r.name.endsWith("sept-lock"))!;
  ok(lock.utilization > 0.9, `S-EPT lock utilization ${lock.utilization}`);
  strictEqual(count(contended, "SEAMCALL(TDH.MEM.PAGE.AUG)"), 64 * 256);
});

Deno.test("S11: re-enter-and-refault multiplies VP.ENTER and trips the zero-step mitigation", () => {
  const local = acceptMemory("tdx.upstream", 8);
  const refault = acceptMemory("tdx.refault", 8);
  assertConserved(refault);
  const enters = (s: Summary) => count(s, "SEAMCALL(TDH.VP.ENTER)");
  ok(enters(refault) > 1.5 * enters(local), `${enters(refault)} vs ${enters(local)} entries`);
  strictEqual(count(local, "TDX_ZERO_STEP"), 0);
  ok(count(refault, "TDX_ZERO_STEP") > 0, "zero-step engaged");
  // Every page is still accepted exactly once.
  strictEqual(count(refault, "SEAMCALL(TDH.MEM.PAGE.AUG)"), 64 * 256);
});

Deno.test("S15: 2 MiB private mappings take one fault and AUG per chunk instead of 512", () => {
  const small = acceptMemory("tdx.upstream", 1, 16);
  const huge = acceptMemory("tdx.huge-pages", 1, 16);
  strictEqual(count(huge, "SEAMCALL(TDH.MEM.PAGE.AUG)"), 8);
  strictEqual(count(small, "SEAMCALL(TDH.MEM.PAGE.AUG)"), 8 * 512);
  strictEqual(count(huge, "TDX_PAGE_ZERO"), 8 * 512, "the module still zeroes every 4 KiB");
  ok(small.run.simulatedCycles > 3 * huge.run.simulatedCycles);
});

/** vCPU 0 accepts `pages` pages of chunk 0, then converts chunk 0 to shared. */
const convert = (design: string, pages: number) =>
  td(design, [
    { kind: "loop", operation: "accept-page", iterations: pages, vcpus: [0] },
    { kind: "loop", operation: "convert-shared", iterations: 1, vcpus: [0] },
  ], 4);

Deno.test("a private 4 KiB zap is one BLOCK, TRACK, REMOVE and WBINVD and one IPI round", () => {
  const summary = convert("tdx.upstream", 1);
  assertConserved(summary);
  for (
    const name of [
      "SEAMCALL(TDH.MEM.RANGE.BLOCK)",
      "SEAMCALL(TDH.MEM.TRACK)",
      "SEAMCALL(TDH.MEM.PAGE.REMOVE)",
      "SEAMCALL(TDH.PHYMEM.PAGE.WBINVD)",
    ]
  ) strictEqual(count(summary, name), 1, name);
  // The IPI round kicks the three vCPUs computing in the guest, and each exits once for it.
  strictEqual(summary.vcpus[0].byPrimitive.KICK_SEND.count, 3);
  for (const vcpu of summary.vcpus.slice(1)) {
    strictEqual(vcpu.exitsByReason.EXTERNAL_INTERRUPT, 1, vcpu.name);
  }
  strictEqual(count(summary, "KVM_SET_ATTRIBUTES"), 1);
  strictEqual(count(summary, "XA_OP"), 512, "one attribute update per 4 KiB of the chunk");
});

Deno.test("S13: a batched zap takes one TRACK and IPI round per range", () => {
  const perLeaf = convert("tdx.upstream", 8);
  const batched = convert("tdx.batched-zap", 8);
  strictEqual(count(perLeaf, "SEAMCALL(TDH.MEM.TRACK)"), 8);
  strictEqual(count(batched, "SEAMCALL(TDH.MEM.TRACK)"), 1);
  for (const summary of [perLeaf, batched]) {
    strictEqual(count(summary, "SEAMCALL(TDH.MEM.RANGE.BLOCK)"), 8);
    strictEqual(count(summary, "SEAMCALL(TDH.MEM.PAGE.REMOVE)"), 8);
  }
  strictEqual(batched.vcpus[0].byPrimitive.KICK_SEND.count, 3);
  ok(perLeaf.vcpus[0].byPrimitive.KICK_SEND.count > 3);
  const latency = (s: Summary) => s.operations["convert-shared"].meanCycles;
  ok(latency(batched) < latency(perLeaf), `${latency(batched)} vs ${latency(perLeaf)}`);
});

Deno.test("S12: MapGPA in KVM saves the return to userspace per 2 MiB chunk", () => {
  const chunks = { kind: "loop", operation: "convert-shared", iterations: 8, vcpus: [0] };
  const userspace = td("tdx.upstream", [chunks]);
  const kernel = td("tdx.mapgpa-in-kernel", [chunks]);
  strictEqual(count(userspace, "VMM_MAPGPA"), 8);
  strictEqual(count(userspace, "IOCTL_RET"), 8);
  strictEqual(count(kernel, "VMM_MAPGPA"), 0);
  strictEqual(count(kernel, "KVM_SET_ATTRIBUTES"), 8);
  ok(
    kernel.operations["convert-shared"].meanCycles <
      userspace.operations["convert-shared"].meanCycles,
  );
});

Deno.test("a TDVMCALL: #VE, TDCALL, TD exit, handler, TDH.VP.ENTER; port I/O to the VMM goes through userspace", () => {
  const cpuid = td("tdx.upstream", [{ kind: "loop", operation: "cpuid", iterations: 100 }]);
  for (const name of ["GUEST_VE", "TDCALL(TDG.VP.VMCALL)", "KVM_CPUID"]) {
    strictEqual(count(cpuid, name), 100, name);
  }
  const pio = td("tdx.upstream", [{ kind: "loop", operation: "pio-read", iterations: 100 }]);
  const vmm = td("tdx.io-in-vmm", [{ kind: "loop", operation: "pio-read", iterations: 100 }]);
  strictEqual(count(pio, "KVM_PIO"), 100);
  strictEqual(count(vmm, "VMM_PIO"), 100);
  strictEqual(count(vmm, "IOCTL_RET"), 100);
  ok(vmm.operations["pio-read"].meanCycles > pio.operations["pio-read"].meanCycles);
  // The first MMIO access exits once more, for KVM to install the #VE mapping.
  const mmio = td("tdx.upstream", [{ kind: "loop", operation: "mmio-read", iterations: 100 }]);
  strictEqual(mmio.vcpus[0].exitsByReason.EPT_VIOLATION, 1);
  strictEqual(count(mmio, "GUEST_VE"), 100);
});

Deno.test("a vCPU that moves to another pCPU is flushed from the old one first", () => {
  const moving = run({
    name: "tdx-overcommit",
    seed: 1,
    host: { pcpus: 2, timesliceUs: 500 },
    guests: [{ vcpus: 3, platform: "tdx", workloads: [{ kind: "compute", durationMs: 5 }] }],
    designs: ["tdx.upstream"],
  }).summary;
  assertConserved(moving);
  const flushes = count(moving, "SEAMCALL(TDH.VP.FLUSH)");
  ok(flushes > 0, "migrations flush");
  ok(flushes < count(moving, "SEAMCALL(TDH.VP.ENTER)"));
  const pinned = td("tdx.upstream", [{ kind: "compute", durationMs: 1 }]);
  strictEqual(count(pinned, "SEAMCALL(TDH.VP.FLUSH)"), 0);
});
