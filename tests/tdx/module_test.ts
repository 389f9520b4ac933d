/**
 * The TDX module's locks (src/tdx/module_locks.ts, src/tdx/module.ts): what each leaf
 * takes, shared/shared and shared/exclusive pairs, the operand a BUSY names, host priority.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { LEAF, TdxModule } from "../../src/tdx/module.ts";
import { LEAVES, MODULE_LOCKS, MODULE_VERSIONS } from "../../src/tdx/module_locks.ts";

const AUG = LEAF["TDH.MEM.PAGE.AUG"];
const BLOCK = LEAF["TDH.MEM.RANGE.BLOCK"];
const TRACK = LEAF["TDH.MEM.TRACK"];
const ENTER = LEAF["TDH.VP.ENTER"];
const ACCEPT = LEAF["TDG.MEM.PAGE.ACCEPT"];

Deno.test("every row of the lock table names its source, for every leaf and module version", () => {
  for (const version of MODULE_VERSIONS) {
    deepStrictEqual(Object.keys(MODULE_LOCKS[version]).sort(), [...LEAVES].sort(), version);
    for (const [leaf, rows] of Object.entries(MODULE_LOCKS[version])) {
      for (const row of rows) {
        ok(/tdx-module@|^estimate: /.test(row.source), `${version} ${leaf} ${row.operand}`);
      }
    }
  }
  // What the 1.5 code takes on the S-EPT tree, as Yan Zhao's table also lists.
  const tree = (leaf: keyof typeof MODULE_LOCKS["1.5"]) =>
    MODULE_LOCKS["1.5"][leaf].find((r) => r.operand === "SEPT_TREE")?.mode;
  strictEqual(tree("TDH.MEM.PAGE.AUG"), "shared");
  strictEqual(tree("TDH.MEM.SEPT.ADD"), "shared");
  strictEqual(tree("TDH.MEM.PAGE.REMOVE"), "shared");
  strictEqual(tree("TDH.MEM.RANGE.BLOCK"), "exclusive");
  strictEqual(
    MODULE_LOCKS["1.0"]["TDH.MEM.PAGE.AUG"].find((r) => r.operand === "SEPT_TREE")?.mode,
    "exclusive",
  );
});

Deno.test("two AUGs on different pages share the S-EPT tree on 1.5 and meet on 1.0", () => {
  const v15 = new TdxModule("td", 2, "1.5");
  ok(v15.tryCall(AUG, 0, 10, 0, 0, 1000, 0));
  ok(v15.tryCall(AUG, 1, 20, 0, 500, 1500, 0), "shared/shared proceeds");
  const v10 = new TdxModule("td", 2, "1.0");
  ok(v10.tryCall(AUG, 0, 10, 0, 0, 1000, 0));
  ok(!v10.tryCall(AUG, 1, 20, 0, 500, 1500, 0), "exclusive/exclusive is BUSY");
  strictEqual(v10.busyOperand, "SEPT_TREE");
  strictEqual(v10.busyUntil, 1000);
  ok(v10.tryCall(AUG, 1, 20, 0, 1000, 2000, 0), "granted once the first AUG ended");
});

Deno.test("shared/exclusive: a BLOCK meets an AUG in progress and names the S-EPT tree", () => {
  const module = new TdxModule("td", 2, "1.5");
  ok(module.tryCall(AUG, 0, 10, 0, 0, 1000, 0));
  ok(!module.tryCall(BLOCK, 1, 600, 0, 400, 2400, 0));
  strictEqual(module.busyOperand, "SEPT_TREE");
  strictEqual(module.busyUntil, 1000);
  strictEqual(module.tdLocks.SEPT_TREE.stats.busyReturns, 1);
  ok(module.tryCall(BLOCK, 1, 600, 0, 1000, 3000, 0));
  ok(!module.tryCall(AUG, 0, 11, 0, 1500, 2500, 0), "and an AUG meets the BLOCK");
  strictEqual(module.busyUntil, 3000);
});

Deno.test("TDH.MEM.TRACK meets a TD entry's epoch section only, not its hold for the guest's run", () => {
  const module = new TdxModule("td", 2, "1.5");
  const spans = { epochCycles: 100, steppingCycles: 0 };
  ok(module.tryCall(ENTER, 0, 0, 0, 0, 3000, 0, spans));
  ok(!module.tryCall(TRACK, 1, 0, 0, 50, 1550, 0), "inside the epoch section");
  strictEqual(module.busyOperand, "TD_EPOCH");
  strictEqual(module.busyUntil, 100);
  // The TDR and TDVPR stay held (shared) while vCPU 0 runs; TRACK takes the TDR shared too.
  ok(module.tryCall(TRACK, 1, 0, 0, 100, 1600, 0));
  ok(!module.tryCall(ENTER, 1, 0, 0, 200, 3200, 0, spans), "an entry meets the TRACK");
  strictEqual(module.busyOperand, "TD_EPOCH");
  strictEqual(module.busyUntil, 1600);
  // TDH.VP.FLUSH needs vCPU 0's TDVPR exclusive: busy until its TD exit drops it.
  ok(!module.tryCall(LEAF["TDH.VP.FLUSH"], 0, 0, 0, 4000, 5000, 0));
  strictEqual(module.busyOperand, "TDVPR");
  module.exitGuest(0, 6000);
  ok(module.tryCall(LEAF["TDH.VP.FLUSH"], 0, 0, 0, 6000, 7000, 0));
});

Deno.test("host priority: after KVM meets the TD on an S-EPT entry, the TD's next try fails", () => {
  const module = new TdxModule("td", 1, "1.5");
  ok(module.tryCall(ACCEPT, 0, 42, 0, 0, 1000, 0), "the guest holds page 42's entry");
  ok(!module.tryCall(AUG, 0, 42, 0, 500, 2500, 0));
  strictEqual(module.busyOperand, "SEPT_ENTRY");
  ok(!module.tryCall(ACCEPT, 0, 42, 0, 1000, 2000, 0), "free, but a host attempt is pending");
  ok(module.tryCall(AUG, 0, 42, 0, 1200, 3200, 0), "KVM gets it");
  ok(module.tryCall(ACCEPT, 0, 42, 0, 3200, 4200, 0), "then the guest again");
  // Module 1.0 has no host priority.
  const v10 = new TdxModule("td", 1, "1.0");
  ok(v10.tryCall(ACCEPT, 0, 42, 0, 0, 1000, 0));
  ok(v10.tryCall(AUG, 0, 42, 0, 500, 2500, 0), "1.0's AUG takes no entry lock");
});
