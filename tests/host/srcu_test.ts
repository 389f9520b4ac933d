import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import { Simulator } from "../../src/engine/mod.ts";
import { Srcu } from "../../src/host/srcu.ts";

Deno.test("an SRCU grace period waits for readers that were inside, not for later ones", () => {
  const sim = new Simulator();
  const srcu = new Srcu(sim, "kvm->srcu");
  const log: string[] = [];
  sim.process(
    "early reader",
    function* () {
      const token = srcu.readLock();
      yield 100;
      srcu.readUnlock(token);
    }(),
  );
  sim.process(
    "syncer",
    function* () {
      yield 10;
      yield srcu.gracePeriod();
      log.push(`grace period over at ${sim.now}`);
    }(),
  );
  sim.process(
    "late reader",
    function* () {
      yield 20; // starts after the grace period began
      const token = srcu.readLock();
      yield 1000;
      srcu.readUnlock(token);
    }(),
  );
  sim.run();
  deepStrictEqual(log, ["grace period over at 100"]);
  strictEqual(srcu.readers, 0);
  throws(() => srcu.readUnlock(99), /reader 99 is not inside/);
});
