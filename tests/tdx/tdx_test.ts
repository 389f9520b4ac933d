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

const resource = (summary: Summary, suffix: string) =>
  summary.resources.find((r) => r.name.endsWith(suffix))!;

Deno.test("module 1.5: AUGs share the S-EPT tree, so acceptance scales; module 1.0 serializes it", () => {
  const speedup = (design: string) =>
    acceptMemory(design, 1).run.simulatedCycles / acceptMemory(design, 8).run.simulatedCycles;
  const shared = speedup("tdx.upstream");
  const exclusive = speedup("tdx.module-1.0");
  ok(speedup("tdx.no-module-locks") > 7.9);
  ok(shared > 7.5, `with module 1.5 locking 8 vCPUs accept ${shared.toFixed(2)}x faster`);
  ok(
    exclusive < 2.5,
    `with module 1.0 locking 8 vCPUs accept only ${exclusive.toFixed(2)}x faster`,
  );
  // The contention shows as busy returns naming the S-EPT tree, not as a formula.
  const upstream = acceptMemory("tdx.upstream", 8);
  const v10 = acceptMemory("tdx.module-1.0", 8);
  assertConserved(v10);
  strictEqual(resource(upstream, "/tdx/SEPT_TREE").contended, 0);
  ok(resource(upstream, "/tdx/SEPT_TREE").acquisitions >= 64 * 256, "every AUG took the tree");
  ok(resource(v10, "/tdx/SEPT_TREE").contended > 1000, "1.0: AUGs meet each other's holds");
  ok(resource(v10, "/tdx/SEPT_TREE").utilization > 0.9);
  ok(count(v10, "SEAMCALL_RETRY") > 1000, "KVM retries the busy AUGs locally");
  strictEqual(count(acceptMemory("tdx.no-module-locks", 8), "SEAMCALL_BUSY"), 0);
  strictEqual(count(v10, "SEAMCALL(TDH.MEM.PAGE.AUG)"), 64 * 256);
});

Deno.test("S11: on module 1.0, re-enter-and-refault multiplies VP.ENTER and trips the zero-step filter", () => {
  const on10 = (design: string) =>
    run({
      name: "tdx-accept",
      seed: 1,
      host: { pcpus: 8 },
      choices: { "module-locks": "1.0" },
      guests: [{
        vcpus: 8,
        memoryMiB: 64,
        platform: "tdx",
        workloads: [{ kind: "accept-memory" }],
      }],
      designs: [design],
    }).summary;
  const local = on10("tdx.upstream");
  const refault = on10("tdx.refault");
  assertConserved(refault);
  const enters = (s: Summary) => count(s, "SEAMCALL(TDH.VP.ENTER)");
  ok(enters(refault) > 1.5 * enters(local), `${enters(refault)} vs ${enters(local)} entries`);
  strictEqual(count(local, "TDX_ZERO_STEP"), 0);
  ok(count(refault, "TDX_ZERO_STEP") > 0, "zero-step engaged");
  // Stepping entries take the tree exclusive, and the AUGs they meet fail busy.
  ok(resource(refault, "/tdx/SEPT_TREE").contended > resource(local, "/tdx/SEPT_TREE").contended);
  strictEqual(count(refault, "SEAMCALL(TDH.MEM.PAGE.AUG)"), 64 * 256, "each page once");
  // On module 1.5 AUGs rarely meet a busy tree, so refaulting costs next to nothing.
  const v15 = acceptMemory("tdx.refault", 8);
  strictEqual(count(v15, "TDX_ZERO_STEP"), 0);
  ok(enters(v15) < 1.01 * enters(acceptMemory("tdx.upstream", 8)));
});

/**
 * vCPU 0 accepts 4 MiB and converts its first 2 MiB chunk back to shared (512 private
 * leaves removed one by one) while vCPU 1 accepts 3000 pages of its own; `others` more
 * vCPUs idle at HZ=1000, compute in the guest, or exit at 20,000 hypercalls per second.
 */
const convertDuringAccept = (design: string, others: number, doing: "idle" | "compute" | "exits") =>
  run({
    name: "tdx-convert-accept",
    seed: 1,
    guests: [{
      vcpus: 2 + others,
      memoryMiB: 4096,
      platform: "tdx",
      timerHz: 1000,
      workloads: [
        { kind: "accept-memory", memoryMiB: 4, vcpus: [0] },
        { kind: "loop", operation: "convert-shared", iterations: 1, vcpus: [0] },
        { kind: "loop", operation: "accept-page", iterations: 3000, vcpus: [1] },
        ...(others === 0 || doing === "idle" ? [] : [
          doing === "compute"
            ? {
              kind: "compute",
              durationMs: 40,
              vcpus: [...Array(others).keys()].map((i) => i + 2),
            }
            : {
              kind: "mix",
              operations: [{ operation: "hypercall", ratePerSec: 20000 }],
              durationMs: 40,
              vcpus: [...Array(others).keys()].map((i) => i + 2),
            },
        ]),
      ],
    }],
    designs: [design],
  }).summary;

Deno.test("shared/shared proceeds: idle ticking vCPUs' TD entries never make an AUG busy", () => {
  const accepting = (idle: number) =>
    run({
      name: "tdx-idle",
      seed: 1,
      guests: [{
        vcpus: 1 + idle,
        memoryMiB: 64,
        platform: "tdx",
        timerHz: 1000,
        workloads: [{ kind: "accept-memory", memoryMiB: 32, vcpus: [0] }],
      }],
      designs: ["tdx.upstream"],
    }).summary;
  const alone = accepting(0);
  const idle = accepting(32);
  assertConserved(idle);
  // The ticking vCPUs' entries and the acceptor's AUGs both take the TDR and op_state
  // locks shared: many more acquisitions, and not one busy return.
  ok(resource(idle, "/tdx/TDR").acquisitions > resource(alone, "/tdx/TDR").acquisitions + 3000);
  ok(resource(idle, "/tdx/OP_STATE").acquisitions > resource(alone, "/tdx/OP_STATE").acquisitions);
  for (const operand of ["TDR", "OP_STATE", "SEPT_TREE", "TD_EPOCH", "SEPT_ENTRY"]) {
    strictEqual(resource(idle, `/tdx/${operand}`).contended, 0, operand);
  }
  strictEqual(count(idle, "SEAMCALL_BUSY"), 0);
});

Deno.test("vCPUs in guest mode slow a conversion's IPI rounds and so, through mmu_lock, the faults waiting on it", () => {
  const mmuWait = (s: Summary) => s.vcpus[1].byPrimitive.WAIT_MMU_LOCK.cycles;
  const alone = convertDuringAccept("tdx.upstream", 0, "compute");
  const running = convertDuringAccept("tdx.upstream", 8, "compute");
  assertConserved(running);
  const convert = (s: Summary) => s.operations["convert-shared"].meanCycles;
  ok(convert(running) > 1.15 * convert(alone), `${convert(running)} vs ${convert(alone)}`);
  // Each leaf's TRACK is followed by an IPI round that now waits for 8 TD exits, and the
  // acceptor waits for the leaf in progress each time it needs mmu_lock.
  ok(mmuWait(running) > 1.5 * mmuWait(alone), `${mmuWait(running)} vs ${mmuWait(alone)}`);
  ok(running.vcpus[0].byPrimitive.KICK_SEND.count > 8 * 400);
});

Deno.test("a TRACK that meets TD entries (TD_EPOCH busy): kick-all-then-retry holds vCPUs out; zap-retry spins", () => {
  const kickAll = convertDuringAccept("tdx.upstream", 8, "exits");
  const spin = convertDuringAccept("tdx.zap-retry", 8, "exits");
  for (const s of [kickAll, spin]) {
    assertConserved(s);
    ok(resource(s, "/tdx/TD_EPOCH").contended > 0, "entries and TRACKs met");
    ok(s.vcpus[0].byPrimitive.SEAMCALL_BUSY.count > 0, "busy TRACKs");
  }
  const zapWait = (s: Summary) =>
    s.vcpus.reduce((sum, v) => sum + (v.byPrimitive.WAIT_SEPT_ZAP?.cycles ?? 0), 0);
  ok(zapWait(kickAll) > 0, "vCPUs held out of the TD while KVM retried");
  strictEqual(zapWait(spin), 0);
  ok((spin.vcpus[0].byPrimitive.SEAMCALL_RETRY?.cycles ?? 0) > 0, "the zapper spun instead");
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
