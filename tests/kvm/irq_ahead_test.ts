/**
 * Interrupts raised at a sender's local time, ahead of the simulator's (Vcpu.raiseIrqAhead,
 * which a vhost worker uses for its completions): the vCPU takes them at that time, even
 * when something else cuts its guest stretch short first.
 */
import { ok, strictEqual } from "node:assert/strict";
import { P } from "../../src/host/primitives.ts";
import { HostThread } from "../../src/host/thread.ts";
import { computingVm, VMX_COSTS } from "./vm_fixture.ts";

/** One vCPU computing for 1 ms, an interrupt source that logs when the guest handles it. */
function computingVcpu() {
  const { sim, pool, vm } = computingVm(1);
  const vcpu = vm.vcpus[0];
  const handledAt: number[] = [];
  const id = vcpu.addIrqSource({
    name: "test",
    guestHandler: (v) => void handledAt.push(v.cursorCycles),
  });
  const sender = new HostThread(sim, VMX_COSTS, pool, "sender", "kernel");
  return { sim, vcpu, id, handledAt, sender };
}

Deno.test("an interrupt raised ahead is taken at the sender's time", () => {
  const { sim, vcpu, id, handledAt, sender } = computingVcpu();
  sim.call(100_000, () => {
    sender.cursorCycles = 600_000; // the sender's own time is ahead
    ok(vcpu.takesIrqAhead(sender.cursorCycles));
    vcpu.raiseIrqAhead(id, sender);
    ok(!vcpu.takesIrqAhead(700_000), "one ahead interrupt at a time");
  });
  sim.run({ untilCycles: 5_000_000 });
  strictEqual(handledAt.length, 1);
  ok(handledAt[0] >= 600_000 && handledAt[0] < 610_000, `handled at ${handledAt[0]}`);
});

Deno.test("an interrupt raised ahead waits for its time when an earlier event cuts in first", () => {
  const { sim, vcpu, id, handledAt, sender } = computingVcpu();
  sim.call(100_000, () => {
    sender.cursorCycles = 600_000;
    vcpu.raiseIrqAhead(id, sender);
  });
  // At 200,000 the scheduler wants the pCPU: the guest exits then, not at 600,000, and the
  // ahead interrupt still arrives at 600,000.
  sim.call(200_000, () => vcpu.requestResched());
  sim.run({ untilCycles: 5_000_000 });
  strictEqual(handledAt.length, 1);
  ok(handledAt[0] >= 600_000 && handledAt[0] < 610_000, `handled at ${handledAt[0]}`);
  ok(vcpu.primCounts[P.VCPU_PUT] >= 1, "the resched cut the stretch at 200,000");
});
