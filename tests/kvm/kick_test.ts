import { strictEqual } from "node:assert/strict";
import { EXIT } from "../../src/host/exit_reasons.ts";
import { P } from "../../src/host/primitives.ts";
import { HostThread } from "../../src/host/thread.ts";
import { kickAndWait } from "../../src/kvm/kick.ts";
import { computingVm, VMX_COSTS as costs } from "./vm_fixture.ts";

const cost = (name: keyof typeof P) => costs[P[name]];

Deno.test("a kick waits for the vCPU in guest mode to exit and acknowledge; a halted one acks at once", () => {
  const { sim, pool, vm } = computingVm(2); // vCPU 1 has nothing to do and sleeps in HLT
  const kicker = new HostThread(sim, costs, pool, "kicker", "kernel");
  const kickAt = 100_000;
  let acknowledgedAt = -1;
  kicker.start(function* () {
    yield* kicker.takeCpu();
    yield* kicker.spend(P.IDLE, kickAt - kicker.cursorCycles);
    yield* kickAndWait(vm.vcpus, kicker);
    acknowledgedAt = kicker.cursorCycles;
  }());
  sim.run({ untilCycles: 5_000_000 });
  const [running, halted] = vm.vcpus;
  strictEqual(running.exitCounts[EXIT.EXTERNAL_INTERRUPT], 1);
  strictEqual(halted.exitCounts[EXIT.EXTERNAL_INTERRUPT], 0);
  // The IPI lands when the kicker's ICR write is done; the target exits and acknowledges
  // in its IRQ handler.
  strictEqual(
    acknowledgedAt,
    kickAt + cost("KICK_SEND") + cost("VMEXIT") + cost("KVM_EXIT_DISPATCH") + cost("KVM_IRQ_ACK"),
  );
  strictEqual(kicker.primCounts[P.KICK_SEND], 1); // only the vCPU in guest mode needed an IPI
  strictEqual(
    kicker.primCycles[P.WAIT_ACK],
    cost("VMEXIT") + cost("KVM_EXIT_DISPATCH") + cost("KVM_IRQ_ACK"),
  );
});
