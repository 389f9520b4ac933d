import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { GuestMemory } from "../../src/host/memory.ts";
import { P } from "../../src/host/primitives.ts";
import { simulate } from "../../src/scenario/run.ts";
import { assertConserved, load, run, scenario } from "../helpers.ts";

Deno.test("overcommit: compute-bound vCPUs share one pCPU in time slices and wait in the run queue", () => {
  const { summary } = run(scenario({
    host: { pcpus: 1, timesliceUs: 1000 },
    guests: [{ vcpus: 3, workloads: [{ kind: "compute", durationMs: 10 }] }],
  }));
  assertConserved(summary);
  // 30 ms of work on one pCPU: the run takes at least that, and each vCPU waited ~20 ms.
  ok(summary.run.simulatedMs >= 30, `${summary.run.simulatedMs} ms`);
  for (const vcpu of summary.vcpus) {
    const waitMs = vcpu.byDomain.wait / 2.5e6;
    ok(waitMs > 15 && waitMs < 25, `${vcpu.name} waited ${waitMs} ms`);
    // Preempted by the host tick about every slice: exits, not run-to-completion.
    ok((vcpu.exitsByReason.EXTERNAL_INTERRUPT ?? 0) >= 5, JSON.stringify(vcpu.exitsByReason));
  }
  const pcpus = summary.resources.find((r) => r.name === "host/pcpus")!;
  ok(pcpus.utilization > 0.99, `utilization ${pcpus.utilization}`);
  ok(pcpus.maxQueueLength === 2);
});

Deno.test("idle vCPUs at HZ=1000 halt, wake on every tick and re-arm the timer", () => {
  const { summary } = run(scenario({
    guests: [{ vcpus: 4, timerHz: 1000 }],
    stop: { when: "time", simulatedMs: 100 },
  }));
  assertConserved(summary);
  for (const vcpu of summary.vcpus) {
    const hlt = vcpu.exitsByReason.HLT;
    const timerWrites = vcpu.exitsByReason.MSR_WRITE;
    ok(hlt >= 99 && hlt <= 101, `${vcpu.name} HLT exits ${hlt}`);
    ok(timerWrites >= 99 && timerWrites <= 101, `${vcpu.name} TSC-deadline writes ${timerWrites}`);
    ok(vcpu.byDomain.idle > 0.5 * summary.run.simulatedCycles, "mostly idle");
  }
  strictEqual(summary.totals.byPrimitive.GUEST_TICK.count, summary.totals.exitsByReason.HLT);
});

Deno.test("a busy vCPU's ticks are preemption-timer exits that take time from its work", () => {
  const busy = (timerHz: number) =>
    run(scenario({
      guests: [{ vcpus: 1, timerHz, workloads: [{ kind: "compute", durationMs: 10 }] }],
    })).summary;
  const ticking = busy(1000);
  const quiet = busy(0);
  const timerExits = ticking.totals.exitsByReason.PREEMPTION_TIMER;
  ok(timerExits >= 9 && timerExits <= 11, `preemption-timer exits ${timerExits}`);
  strictEqual(quiet.totals.exits, 0);
  ok(ticking.run.simulatedCycles > quiet.run.simulatedCycles);
  assertConserved(ticking);
});

Deno.test("an IPI to a running vCPU is posted without an exit, or kicks it out without APICv", () => {
  const ipis = (postedInterrupts: boolean) =>
    run(scenario({
      host: { postedInterrupts },
      guests: [{
        vcpus: 2,
        workloads: [
          { kind: "loop", operation: "ipi", iterations: 200, vcpus: [0] },
          { kind: "compute", durationMs: 5, vcpus: [1] },
        ],
      }],
    })).summary;
  const posted = ipis(true);
  const injected = ipis(false);
  strictEqual(posted.vcpus[1].exitsByReason.EXTERNAL_INTERRUPT, undefined);
  strictEqual(injected.vcpus[1].exitsByReason.EXTERNAL_INTERRUPT, 200);
  ok(injected.operations.ipi.meanCycles > posted.operations.ipi.meanCycles);
  strictEqual(posted.vcpus[0].exitsByReason.MSR_WRITE, 200);
});

Deno.test("with IPI virtualization the sender does not exit", () => {
  const { summary } = run(scenario({
    host: { ipiVirtualization: true },
    guests: [{
      vcpus: 2,
      workloads: [
        { kind: "loop", operation: "ipi", iterations: 100, vcpus: [0] },
        { kind: "compute", durationMs: 5, vcpus: [1] },
      ],
    }],
  }));
  strictEqual(summary.vcpus[0].exitsByReason.MSR_WRITE, undefined);
  strictEqual(summary.totals.byPrimitive.IPIV_SEND.count, 100);
  strictEqual(summary.vcpus[1].exits, 0); // posted to the running target
});

Deno.test("first touch faults pages in: 4 KiB each, or 2 MiB at a time with huge host pages", () => {
  const touch = (hostPageSize: string) =>
    run(scenario({
      guests: [{
        vcpus: 1,
        memoryMiB: 4,
        hostPageSize,
        workloads: [{ kind: "loop", operation: "touch", iterations: 2048 }], // twice over 4 MiB
      }],
    })).summary;
  const small = touch("4K");
  strictEqual(small.totals.exitsByReason.EPT_VIOLATION, 1024);
  strictEqual(small.totals.byPrimitive.PAGE_CLEAR.count, 1024);
  const huge = touch("2M");
  strictEqual(huge.totals.exitsByReason.EPT_VIOLATION, 2);
  strictEqual(huge.totals.byPrimitive.PAGE_CLEAR.count, 1024);
  ok(huge.run.simulatedCycles < small.run.simulatedCycles);
  const lock = small.resources.find((r) => r.name === "vm0/mmu_lock")!;
  strictEqual(lock.acquisitions, 1024);
});

Deno.test("a 256 GiB guest's page state is far below 256 MiB", () => {
  const before = Deno.memoryUsage();
  const memory = new GuestMemory(256 * 1024);
  const after = Deno.memoryUsage();
  strictEqual(memory.pages, 64 * 1024 * 1024);
  ok(memory.stateBytes < 256 * 1024 * 1024, `${memory.stateBytes} bytes`);
  const grown = after.external + after.heapUsed - before.external - before.heapUsed;
  ok(grown < 256 * 1024 * 1024, `process memory grew ${grown} bytes`);
  memory.map2m(12345);
  strictEqual(memory.mappedPages, 512);
});

Deno.test("virtio request-response: where requests are processed depends on the design", () => {
  const json = scenario({
    guests: [{ vcpus: 2, workloads: [{ kind: "loop", operation: "virtio-rr", iterations: 50 }] }],
  });
  const vhost = run(json, "vmx.io-in-kernel").summary;
  const vmm = run(json, "vmx.io-in-vmm").summary;
  const onVcpu = run(json, "vmx.io-in-vmm-vcpu").summary;
  for (const summary of [vhost, vmm, onVcpu]) {
    assertConserved(summary);
    strictEqual(summary.operations["virtio-rr"].count, 100);
    strictEqual(summary.totals.byPrimitive.GUEST_IO_IRQ.count, 100);
  }
  // Multiqueue vhost-net: a worker per queue (per vCPU).
  deepStrictEqual(vhost.threads.map((t) => [t.name, t.kind]), [
    ["vm0/vhost0", "kernel"],
    ["vm0/vhost1", "kernel"],
  ]);
  strictEqual(vhost.threads[0].byPrimitive.VHOST_TX.count, 50);
  deepStrictEqual(vmm.threads.map((t) => [t.name, t.kind]), [["vm0/iothread", "vmm"]]);
  strictEqual(vmm.threads[0].byPrimitive.VMM_VIRTIO_TX.count, 100);
  strictEqual(vmm.totals.byPrimitive.IOCTL_RET, undefined); // ioeventfd: no return to userspace
  // Without ioeventfd the vCPU thread returns to userspace and sends the request itself.
  strictEqual(onVcpu.totals.byPrimitive.IOCTL_RET.count, 100);
  strictEqual(onVcpu.threads[0].byPrimitive.VMM_VIRTIO_TX, undefined);
  strictEqual(onVcpu.threads[0].byPrimitive.VMM_VIRTIO_RX.count, 100);
  // The response arrives after the peer latency (20 us = 50,000 cycles by default).
  ok(vhost.operations["virtio-rr"].minCycles > 50_000);
});

Deno.test("a host-wide daemon serves every VM from one thread", () => {
  const guest = (name: string) => ({
    name,
    vcpus: 2,
    workloads: [{ kind: "loop", operation: "virtio-rr", iterations: 20 }],
  });
  const { summary } = run(scenario({ guests: [guest("a"), guest("b")] }), "vmx.io-daemon");
  deepStrictEqual(summary.threads.map((t) => t.name), ["host/net-daemon"]);
  strictEqual(summary.threads[0].byPrimitive.VMM_VIRTIO_TX.count, 80);
  assertConserved(summary);
});

Deno.test("SVM designs report SVM exit reasons and use the AMD profile by default", () => {
  const { summary } = run(
    scenario({
      guests: [{
        vcpus: 1,
        workloads: [{
          kind: "mix",
          operations: [
            { operation: "pio-read", ratePerSec: 1000 },
            { operation: "hypercall", ratePerSec: 1000 },
            { operation: "msr-read", ratePerSec: 1000 },
          ],
          count: 300,
        }],
      }],
    }),
    "svm.io-in-kernel",
  );
  deepStrictEqual(Object.keys(summary.totals.exitsByReason).sort(), ["IOIO", "MSR", "VMMCALL"]);
  strictEqual(summary.profile.name, "amd-svm");
  strictEqual(summary.scenario.host.clockGHz, 2.7);
});

Deno.test("vhost: the worker wakes when the notify is done, the vCPU when the signal is", () => {
  // The vCPU notifies and the worker completes at their own local times, ahead of the
  // simulator's: the timeline shows each effect exactly at its cause's time.
  const json = scenario({
    guests: [{ vcpus: 2, workloads: [{ kind: "loop", operation: "virtio-rr", iterations: 40 }] }],
  });
  const loaded = load(json, ["vmx.io-in-kernel"]);
  const { summary, timeline } = simulate(loaded, "vmx.io-in-kernel", {
    timeline: { startCycles: 0, endCycles: Infinity, maxSpans: 1e6 },
  });
  strictEqual(summary.operations["virtio-rr"].count, 80);
  const steps = timeline!.steps;
  const [lanes, prims, , starts, durations] = [0, 1, 2, 3, 4].map((i) => steps.column(i));
  const laneOf = (name: string) => timeline!.lanes.findIndex((l) => l.name === name);
  const spans = (lane: number, prim: number) => {
    const out: [number, number][] = [];
    for (let i = 0; i < steps.count; i++) {
      if (lanes[i] === lane && prims[i] === prim) out.push([starts[i], starts[i] + durations[i]]);
    }
    return out;
  };
  for (const q of [0, 1]) {
    const vcpu = laneOf(`vm0/vcpu${q}`), vhost = laneOf(`vm0/vhost${q}`);
    const notified = spans(vcpu, P.KVM_IOEVENTFD).map(([, end]) => end);
    // The worker's wake-ups alternate: for the request (TX), then for the response (RX).
    const woken = spans(vhost, P.SCHED_WAKEUP).map(([start]) => start);
    const signalled = spans(vhost, P.IRQFD_SIGNAL).map(([, end]) => end);
    const pollsEnd = spans(vcpu, P.HALT_POLL).map(([, end]) => end);
    strictEqual(notified.length, 40);
    strictEqual(woken.length, 80);
    for (let r = 0; r < 40; r++) {
      strictEqual(woken[2 * r], notified[r], `request ${r}: the worker wakes at the notify`);
      ok(woken[2 * r + 1] >= woken[2 * r] + 50_000, `request ${r}: the peer answers 20 us later`);
      strictEqual(pollsEnd[r], signalled[r], `request ${r}: the signal ends the vCPU's poll`);
    }
  }
});
