import { strictEqual } from "node:assert/strict";
import { Simulator } from "../../src/engine/mod.ts";
import { CpuPool } from "../../src/host/cpu_pool.ts";
import { P, PRIMITIVE_COUNT } from "../../src/host/primitives.ts";
import { STATE_SYNC_IOCTLS, stateSyncGet, stateSyncPut } from "../../src/kvm/userspace.ts";
import { Vcpu } from "../../src/kvm/vcpu.ts";

Deno.test("a full state sync is counted as the ioctls it takes", () => {
  const sim = new Simulator();
  const costs = new Float64Array(PRIMITIVE_COUNT);
  costs[P.STATE_SYNC_GET] = 1200;
  costs[P.STATE_SYNC_PUT] = 1300;
  const config = { postedInterrupts: true, ipiVirtualization: false, haltPollCycles: 0 };
  const vcpu = new Vcpu(sim, costs, new CpuPool(sim, 1, 1), config, "vm", 0);
  stateSyncGet(vcpu);
  stateSyncPut(vcpu, 12);
  strictEqual(vcpu.primCounts[P.STATE_SYNC_GET], STATE_SYNC_IOCTLS);
  strictEqual(vcpu.primCounts[P.STATE_SYNC_PUT], 12);
  strictEqual(vcpu.cursorCycles, STATE_SYNC_IOCTLS * 1200 + 12 * 1300);
});
