import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { Recorder } from "../../src/report/recorder.ts";
import { summarizeOutcomes } from "../../src/report/summary.ts";

Deno.test("outcomes: service loss adds up per VM until restored or the run's end", () => {
  const recorder = new Recorder();
  // Recorded out of order on purpose: the summary sorts by time.
  recorder.recordOutcome(3000, "service-lost", "vm2", "daemon killed");
  recorder.recordOutcome(1000, "sigbus", "host/net-daemon", "wrote a private page");
  recorder.recordOutcome(1000, "service-lost", "vm1", "daemon killed");
  recorder.recordOutcome(5000, "service-restored", "vm1", "daemon restarted");
  recorder.recordOutcome(7000, "service-lost", "vm1", "daemon killed again");
  recorder.recordOutcome(2000, "guest-vc", "vm0", "touched a page it did not validate");
  const o = summarizeOutcomes(recorder, 10000, 1000);
  strictEqual(o.hostPanicked, false);
  deepStrictEqual(o.killedProcesses, ["host/net-daemon"]);
  deepStrictEqual(o.guestsWithVc, ["vm0"]);
  deepStrictEqual(o.terminatedGuests, []);
  // vm1: down 1-5 ms and 7-10 ms; vm2: 3-10 ms.
  deepStrictEqual(o.serviceLoss, [
    { vm: "vm1", lostAtMs: 1, downMs: 7 },
    { vm: "vm2", lostAtMs: 3, downMs: 7 },
  ]);
  deepStrictEqual(o.events.map((e) => e.atMs), [1, 1, 2, 3, 5, 7]);
});
