/**
 * AMD SEV-SNP flows (flows.md B.1-B.5): primitive counts per flow, the host's single PSP,
 * the RMPUPDATE of a running VMSA, and what each split changes.
 */
import { ok, strictEqual } from "node:assert/strict";
import { resolveProfile } from "../../src/host/profile.ts";
import { shippedProfile } from "../../src/profiles/mod.ts";
import type { Summary } from "../../src/report/summary.ts";
import { LAUNCH_IMAGE_PAGES } from "../../src/snp/platform.ts";
import { assertConserved, run } from "../helpers.ts";

const SNP = resolveProfile(shippedProfile("amd-snp")!, shippedProfile);
const cost = (name: string) => SNP.costs[name as keyof typeof SNP.costs]!.cycles;
/** Occurrences of a primitive on vCPU `index` (the launch runs on the VMM thread). */
const onVcpu = (summary: Summary, name: string, index = 0) =>
  summary.vcpus[index].byPrimitive[name]?.count ?? 0;
const exits = (summary: Summary, reason: string, index = 0) =>
  summary.vcpus[index].exitsByReason[reason] ?? 0;

/** One SNP guest whose vCPU 0 runs `workloads`; vCPUs 1.. compute in the guest meanwhile. */
function snp(design: string, workloads: unknown[], vcpus = 1, memoryMiB = 64): Summary {
  const others = vcpus > 1
    ? [{ kind: "compute", durationMs: 4, vcpus: [...Array(vcpus - 1).keys()].map((i) => i + 1) }]
    : [];
  return run({
    name: "snp-test",
    seed: 1,
    guests: [{ vcpus, memoryMiB, platform: "snp", workloads: [...workloads, ...others] }],
    designs: [design],
  }).summary;
}

const acceptPages = (pages: number, design: string) =>
  snp(design, [{ kind: "loop", operation: "accept-page", iterations: pages, vcpus: [0] }]);

/** vCPU 0 accepts `chunks` 2 MiB chunks from the start of memory. */
const acceptChunks = (chunks: number, design: string) =>
  snp(design, [{ kind: "accept-memory", memoryMiB: 2 * chunks, vcpus: [0] }]);

Deno.test("B.1 MSR protocol: one VMGEXIT and one RMPUPDATE (at the next fault) per 4 KiB page", () => {
  const small = acceptPages(256, "snp.msr-protocol");
  const large = acceptPages(512, "snp.msr-protocol");
  assertConserved(large);
  const delta = (f: (s: Summary) => number) => f(large) - f(small);
  strictEqual(delta((s) => exits(s, "VMGEXIT")), 256);
  strictEqual(delta((s) => onVcpu(s, "GHCB_MSR_PROTOCOL")), 256);
  strictEqual(delta((s) => onVcpu(s, "RMPUPDATE")), 256);
  strictEqual(delta((s) => onVcpu(s, "PVALIDATE")), 256);
  // Upstream: each request is a map-GPA round trip through the VMM, and the RMPUPDATE
  // waits for the guest's PVALIDATE to fault the page in.
  strictEqual(delta((s) => onVcpu(s, "IOCTL_RET")), 256);
  strictEqual(delta((s) => exits(s, "NPF")), 256);
  strictEqual(onVcpu(large, "GHCB_MSR_PROTOCOL"), 512);
  strictEqual(onVcpu(large, "KVM_GHCB_SYNC"), 0, "no GHCB page");
  // A 2 MiB chunk by the MSR protocol is 512 requests.
  strictEqual(exits(acceptChunks(1, "snp.msr-protocol"), "VMGEXIT"), 512);
});

Deno.test("B.2 GHCB: one 2 MiB entry per aligned chunk, 4 KiB entries 64 per VMGEXIT", () => {
  const chunks = 4;
  const batched = acceptChunks(chunks, "snp.rmp-4k");
  assertConserved(batched);
  strictEqual(onVcpu(batched, "GUEST_PSC_ENTRY"), chunks * 512);
  strictEqual(exits(batched, "VMGEXIT"), chunks * 512 / 64);
  strictEqual(onVcpu(batched, "IOCTL_RET"), chunks * 512 / 64, "one VMM round trip per request");
  strictEqual(onVcpu(batched, "PVALIDATE"), chunks * 512);
  // Upstream: the guest sends one 2 MiB entry, but guest_memfd maps 4 KiB: the 2 MiB
  // PVALIDATE fails with a size mismatch and the guest validates 512 pages, each faulting.
  const upstream = acceptChunks(chunks, "snp.upstream");
  strictEqual(exits(upstream, "VMGEXIT"), chunks);
  strictEqual(onVcpu(upstream, "GUEST_PSC_ENTRY"), chunks);
  strictEqual(onVcpu(upstream, "PVALIDATE"), chunks * (1 + 512));
  strictEqual(exits(upstream, "NPF"), chunks * 512);
  strictEqual(onVcpu(upstream, "RMPUPDATE"), chunks * 512);
  // 2 MiB end to end: one fault, one 2 MiB RMPUPDATE and one PVALIDATE per chunk; the host
  // still clears every 4 KiB.
  const huge = acceptChunks(chunks, "snp.rmp-2m");
  strictEqual(exits(huge, "VMGEXIT"), chunks);
  strictEqual(exits(huge, "NPF"), chunks);
  strictEqual(onVcpu(huge, "RMPUPDATE"), chunks);
  strictEqual(onVcpu(huge, "PVALIDATE"), chunks);
  strictEqual(onVcpu(huge, "PAGE_CLEAR"), chunks * 512);
  ok(huge.run.simulatedCycles < upstream.run.simulatedCycles);
});

Deno.test("S6: in KVM, a PSC entry costs an SRCU grace period, RMPUPDATEs and direct-map updates, and no VMM round trip", () => {
  const chunks = 2;
  const kernel = acceptChunks(chunks, "snp.psc-in-kernel");
  const upstream = acceptChunks(chunks, "snp.upstream");
  assertConserved(kernel);
  strictEqual(onVcpu(kernel, "SRCU_SYNC"), chunks, "one grace period per (2 MiB) entry");
  strictEqual(onVcpu(upstream, "SRCU_SYNC"), 0);
  strictEqual(onVcpu(kernel, "IOCTL_RET"), 0);
  strictEqual(onVcpu(upstream, "IOCTL_RET"), chunks);
  // RMPUPDATE at PSC time, at 4 KiB (the NPT leaves are 4 KiB): the PVALIDATEs never fault.
  strictEqual(onVcpu(kernel, "RMPUPDATE"), chunks * 512);
  strictEqual(exits(kernel, "NPF"), 0);
  strictEqual(onVcpu(kernel, "DIRECT_MAP_UPDATE"), chunks * 512);
  strictEqual(onVcpu(kernel, "DIRECT_MAP_SPLIT"), chunks);
  // The 4 KiB MSR protocol in KVM would pay a grace period per page: 512 per chunk.
  strictEqual(onVcpu(acceptPages(100, "snp.psc-in-kernel"), "SRCU_SYNC"), 100);
  // The 2021 series on 2 MiB pages: one RMPUPDATE and one direct-map split per chunk.
  const v5 = acceptChunks(chunks, "snp.2021-v5");
  strictEqual(onVcpu(v5, "RMPUPDATE"), chunks);
  strictEqual(onVcpu(v5, "PVALIDATE"), chunks);
});

Deno.test("converting to shared punches the pages out of guest_memfd; back to private defers RMPUPDATE", () => {
  const convert = (design: string) =>
    snp(design, [
      { kind: "accept-memory", memoryMiB: 2, vcpus: [0] },
      { kind: "loop", operation: "convert-shared", iterations: 1, vcpus: [0] },
      { kind: "loop", operation: "convert-private", iterations: 1, vcpus: [0] },
    ]);
  const upstream = convert("snp.upstream");
  assertConserved(upstream);
  // Accept 512 (RMPUPDATE at faults), rescind and return 512, accept again (512 faults).
  strictEqual(onVcpu(upstream, "RMPUPDATE"), 3 * 512);
  strictEqual(onVcpu(upstream, "CACHE_FLUSH"), 512);
  strictEqual(onVcpu(upstream, "GMEM_PUNCH_HOLE"), 1);
  strictEqual(onVcpu(upstream, "KVM_ZAP"), 512, "the private 4 KiB leaves go");
  strictEqual(exits(upstream, "NPF"), 2 * 512);
  // With 2 MiB entries: one 2 MiB leaf, one RMPUPDATE, one PVALIDATE each way.
  const huge = convert("snp.rmp-2m");
  strictEqual(onVcpu(huge, "RMPUPDATE"), 3);
  strictEqual(onVcpu(huge, "PVALIDATE"), 3);
  strictEqual(onVcpu(huge, "KVM_ZAP"), 1);
  strictEqual(onVcpu(huge, "CACHE_FLUSH"), 512);
  strictEqual(onVcpu(huge, "PSMASH"), 0);
});

Deno.test("an RMPUPDATE of a running vCPU's VMSA fails, kicks every vCPU out and succeeds on retry", () => {
  // A 2 MiB guest: the APs' VMSAs (vCPUs 1-3) are its last pages. vCPU 0 converts the
  // chunk holding them to shared while vCPUs 1-3 compute in the guest.
  const convertVmsas = (others: "compute" | "idle") =>
    run({
      name: "snp-vmsa",
      seed: 1,
      guests: [{
        vcpus: 4,
        memoryMiB: 2,
        platform: "snp",
        workloads: [
          { kind: "loop", operation: "convert-shared", iterations: 1, vcpus: [0] },
          { kind: others, durationMs: 2, vcpus: [1, 2, 3] },
        ],
      }],
      designs: ["snp.upstream"],
    }).summary;
  const busy = convertVmsas("compute");
  assertConserved(busy);
  strictEqual(onVcpu(busy, "RMPUPDATE_FAIL"), 3);
  strictEqual(onVcpu(busy, "RMPUPDATE"), 3, "each retry succeeds");
  // A kick round for the zap of the VMSA pages' leaves, then one per failed RMPUPDATE.
  strictEqual(onVcpu(busy, "KICK_SEND"), 3 * (1 + 3));
  for (const index of [1, 2, 3]) strictEqual(exits(busy, "INTR", index), 1 + 3);
  // Halted vCPUs are not in guest mode: their VMSAs are not in use.
  const idle = convertVmsas("idle");
  strictEqual(onVcpu(idle, "RMPUPDATE_FAIL"), 0);
  strictEqual(onVcpu(idle, "RMPUPDATE"), 3);
});

/** `count` SNP guests of 2 vCPUs, each running one CPUID after its launch. */
const launches = (count: number) =>
  run({
    name: "snp-launch",
    seed: 1,
    guests: Array.from({ length: count }, () => ({
      vcpus: 2,
      memoryMiB: 64,
      workloads: [{ kind: "loop", operation: "cpuid", iterations: 1, vcpus: [0] }],
    })),
    designs: ["snp.upstream"],
  }).summary;

Deno.test("B.5 launch: one SNP_LAUNCH_UPDATE per image page and per VMSA, through one PSP for the host", () => {
  const one = launches(1);
  const two = launches(2);
  assertConserved(two);
  const vmm = one.threads.find((t) => t.name === "vm0/vmm")!;
  strictEqual(vmm.byPrimitive["PSP_CMD(SNP_LAUNCH_UPDATE)"].count, LAUNCH_IMAGE_PAGES + 2);
  strictEqual(vmm.byPrimitive["PSP_CMD(SNP_LAUNCH_START)"].count, 1);
  strictEqual(vmm.byPrimitive["PSP_CMD(SNP_LAUNCH_FINISH)"].count, 1);
  strictEqual(vmm.byPrimitive.RMPUPDATE.count, LAUNCH_IMAGE_PAGES + 2);
  // The vCPUs sleep until the launch is done: before it, nothing runs on them.
  const pspCycles = vmm.byDomain.firmware;
  ok(one.vcpus[0].byDomain.idle >= pspCycles);
  // Two launches at once share the PSP: together they take the sum of their PSP time
  // (each one's host-side work per page overlaps the other's commands), not the max.
  const both = two.run.simulatedCycles;
  ok(
    both >= 2 * pspCycles,
    `two launches end at ${both}; twice one's PSP time is ${2 * pspCycles}`,
  );
  ok(both < 2 * pspCycles + 0.05 * pspCycles, `two launches end at ${both}`);
  ok(both > 1.5 * one.run.simulatedCycles, `one launch ends at ${one.run.simulatedCycles}`);
  for (const thread of two.threads.filter((t) => t.name.endsWith("/vmm"))) {
    strictEqual(thread.byDomain.firmware, pspCycles, "each command costs the same");
    ok(thread.byPrimitive.WAIT_PSP.cycles > 0.4 * pspCycles, `${thread.name} queued`);
  }
  const psp = two.resources.find((r) => r.name === "host/psp")!;
  strictEqual(psp.acquisitions, 2 * (LAUNCH_IMAGE_PAGES + 2 + 2));
  ok(psp.contended > LAUNCH_IMAGE_PAGES, `${psp.contended} commands queued`);
  // A plain guest has no launch and no PSP.
  const plain = run({
    name: "svm",
    seed: 1,
    guests: [{ vcpus: 1, workloads: [{ kind: "loop", operation: "cpuid", iterations: 1 }] }],
    designs: ["svm.io-in-kernel"],
  }).summary;
  strictEqual(plain.resources.find((r) => r.name === "host/psp"), undefined);
  strictEqual(plain.threads.length, 0);
});

Deno.test("an exit: CPUID through #VC and the GHCB matches the published 10397 cycles", () => {
  const cpuid = snp("snp.upstream", [{ kind: "loop", operation: "cpuid", iterations: 100 }]);
  strictEqual(cpuid.operations.cpuid.meanCycles, SNP.references.cpuid.cycles);
  for (const name of ["GUEST_VC", "GUEST_GHCB_CALL", "VMGEXIT", "KVM_GHCB_SYNC", "KVM_CPUID"]) {
    strictEqual(onVcpu(cpuid, name), 100, name);
  }
  strictEqual(exits(cpuid, "VMGEXIT"), 100);
  // No AVIC for SEV guests: an IPI to a running vCPU exits it, and the ICR write exits.
  const ipi = run({
    name: "snp-ipi",
    seed: 1,
    host: { ipiVirtualization: true },
    guests: [{
      vcpus: 2,
      platform: "snp",
      workloads: [
        { kind: "loop", operation: "ipi", iterations: 50, vcpus: [0] },
        { kind: "compute", durationMs: 1, vcpus: [1] },
      ],
    }],
    designs: ["snp.upstream"],
  }).summary;
  strictEqual(onVcpu(ipi, "KVM_IPI_SEND"), 50);
  ok(exits(ipi, "INTR", 1) >= 50, `${exits(ipi, "INTR", 1)} interrupt exits on the target`);
  ok(cost("SNP_VMRUN") > 0);
});

Deno.test("touching a private page the guest never validated takes a #VC and validates it", () => {
  const touched = snp("snp.upstream", [
    { kind: "loop", operation: "touch", iterations: 100, vcpus: [0] },
  ]);
  assertConserved(touched);
  strictEqual(onVcpu(touched, "GUEST_VC"), 100);
  strictEqual(onVcpu(touched, "PVALIDATE"), 100);
  strictEqual(exits(touched, "NPF"), 100);
  // Touching them again costs nothing more: a 1 MiB guest has 256 pages, touched twice.
  const twice = snp("snp.upstream", [{ kind: "loop", operation: "touch", iterations: 512 }], 1, 1);
  strictEqual(onVcpu(twice, "GUEST_VC"), 256);
  strictEqual(exits(twice, "NPF"), 256);
});

Deno.test("a device write to guest-private memory under guest_memfd hurts nobody", () => {
  const summary = run({
    name: "snp-dma",
    seed: 1,
    guests: [{
      vcpus: 1,
      platform: "snp",
      workloads: [{ kind: "loop", operation: "virtio-rr", iterations: 20 }],
      faults: [{ kind: "dma-to-private", atMs: 0 }, { kind: "convert-during-dma", atMs: 0 }],
    }],
    designs: ["snp.upstream", "snp.io-in-vmm"],
  }).summary;
  assertConserved(summary);
  strictEqual(summary.outcomes.events.length, 0);
  strictEqual(summary.operations["virtio-rr"].count, 20);
  strictEqual(summary.vcpus[0].byPrimitive.GUEST_BOUNCE_COPY.count, 2 * 20);
});

Deno.test("B.1/B.3 a 4 KiB conversion inside a 2 MiB RMP entry: PSMASH, the 2 MiB leaf zapped, 4 KiB faults after", () => {
  const convert = (design: string) =>
    snp(design, [
      { kind: "accept-memory", memoryMiB: 4, vcpus: [0] }, // two 2 MiB chunks
      { kind: "loop", operation: "convert-page-shared", iterations: 1, vcpus: [0] }, // page 0
      { kind: "loop", operation: "touch", iterations: 3, vcpus: [0] }, // pages 1-3, private
      { kind: "loop", operation: "convert-page-private", iterations: 1, vcpus: [0] }, // page 0
    ]);
  const huge = convert("snp.rmp-2m");
  assertConserved(huge);
  strictEqual(onVcpu(huge, "PSMASH"), 1, "only page 0 leaves the 2 MiB entry");
  strictEqual(onVcpu(huge, "KVM_ZAP"), 1, "the 2 MiB leaf over it goes");
  // The three touches refault at 4 KiB over the smashed entries (no PSMASH or RMPUPDATE:
  // the pages stay assigned and validated); two accept faults and page 0's return fault.
  strictEqual(exits(huge, "NPF"), 2 + 3 + 1);
  strictEqual(huge.operations.touch.count, 3);
  // With 4 KiB RMP entries there is nothing to smash.
  const small = convert("snp.upstream");
  strictEqual(onVcpu(small, "PSMASH"), 0);
  ok(huge.operations["convert-page-shared"].meanCycles > 0);
});
