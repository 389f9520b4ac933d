/**
 * The shared conformance suite: every design of every platform goes through the same
 * checks (Hono-style: one suite, every implementation). A new design gets these for free.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { DOMAINS, FIXED_COST_PRIMITIVES, type PrimitiveName } from "../../src/host/primitives.ts";
import { DESIGNS, findPlatform } from "../../src/scenario/catalog.ts";
import { run } from "../helpers.ts";

for (const design of DESIGNS) {
  const platform = findPlatform(design.platform)!;
  // Every operation the platform supports, on several vCPUs, with contention and a time stop.
  const json = {
    name: "conformance",
    seed: 3,
    host: { pcpus: 3 },
    guests: [{
      vcpus: 4,
      memoryMiB: 64,
      workloads: [
        // A memory workload first (its batches are the `memory` operation; its sets at the top,
        // away from what `touch` touches), then the rest.
        { kind: "memory", workingSetMiB: 1, offsetMiB: 60, pattern: "random", count: 8192 },
        {
          kind: "mix",
          operations: platform.operations.filter((operation) => operation !== "memory").map((
            operation,
          ) => ({ operation, ratePerSec: 200000 })),
        },
      ],
    }],
    designs: [design.name],
    // Long enough for every operation to come up and the slowest to finish: a TD accepting
    // 2 MiB in 4 KiB pieces takes 512 acceptances of ~8 us each; an SNP guest converting
    // 2 MiB by the MSR protocol makes 512 round trips through the VMM (~3 ms), after a
    // launch of ~3 ms.
    stop: { when: "time", simulatedMs: platform.operations.includes("accept-2m") ? 30 : 3 },
  };

  Deno.test(`design ${design.name} conforms`, async (t) => {
    await t.step("its choices name every platform choice with a declared option", () => {
      deepStrictEqual(
        Object.keys(design.choices).sort(),
        platform.choices.map((c) => c.id).sort(),
      );
      for (const choice of platform.choices) {
        ok(Object.hasOwn(choice.options, design.choices[choice.id]), choice.id);
      }
    });
    const first = run(json).summary;
    await t.step("it is deterministic", () => {
      strictEqual(JSON.stringify(run(json).summary), JSON.stringify(first));
    });
    await t.step("each vCPU's time adds up to the run", () => {
      for (const vcpu of first.vcpus) {
        strictEqual(DOMAINS.reduce((s, d) => s + vcpu.byDomain[d], 0), first.run.simulatedCycles);
      }
    });
    await t.step(
      "it charges only primitives its platform declares (so profiles are checked)",
      () => {
        for (const name of Object.keys(first.totals.byPrimitive) as PrimitiveName[]) {
          if (!FIXED_COST_PRIMITIVES.includes(name)) continue;
          ok(platform.primitives.includes(name), `${name} is charged but not declared`);
        }
      },
    );
    await t.step("it performs every supported operation and records its latency", () => {
      for (const operation of platform.operations) {
        const latency = first.operations[operation];
        ok(latency !== undefined && latency.count > 0, operation);
        // Only conversions may be free (a plain guest has no private memory to convert).
        if (!operation.startsWith("convert-")) {
          ok(latency.maxCycles > 0, `${operation} costs nothing`);
        }
      }
      const performed = Object.values(first.operations).reduce((s, o) => s + o.count, 0);
      strictEqual(performed, first.workloads.reduce((s, w) => s + w.operations, 0));
    });
  });
}
