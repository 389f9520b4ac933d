import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { OPERATION_NAMES } from "../../src/host/operations.ts";
import { DESIGN_NAMES, SHIPPED_PROFILES } from "../../src/scenario/catalog.ts";
import { designSetup, loadScenario, ScenarioError } from "../../src/scenario/load.ts";
import { load, scenario } from "../helpers.ts";

/** The issues `attempt` raises, as "path: message" lines ([] when it succeeds). */
function issuesOf(attempt: () => unknown): string[] {
  try {
    attempt();
  } catch (error) {
    if (error instanceof ScenarioError) return error.issues.map((i) => `${i.path}: ${i.message}`);
    throw error;
  }
  return [];
}

/** The quoted, comma-separated list a message shows for a catalogue. */
const quoted = (names: readonly string[]) => names.map((n) => JSON.stringify(n)).join(", ");
const GUEST_FIELDS =
  "name, platform, vcpus, memoryMiB, hostPageSize, timerHz, network, faults, workloads";

/** The issues a scenario raises. */
function problems(json: unknown, designs?: string[]): string[] {
  return issuesOf(() => load(json, designs));
}

const guest = (patch: Record<string, unknown>) =>
  scenario({
    guests: [{
      vcpus: 2,
      workloads: [{ kind: "loop", operation: "cpuid", iterations: 5 }],
      ...patch,
    }],
  });

const workload = (patch: Record<string, unknown>) =>
  scenario({
    guests: [{
      vcpus: 2,
      workloads: [{ kind: "loop", operation: "cpuid", iterations: 5, ...patch }],
    }],
  });

const TABLE: [string, unknown, string[]][] = [
  ["zero vCPUs", guest({ vcpus: 0 }), [
    "guests[0].vcpus: expected an integer from 1 to 1024, got 0",
  ]],
  ["vCPUs as a string", guest({ vcpus: "4" }), [
    'guests[0].vcpus: expected an integer from 1 to 1024, got "4"',
  ]],
  ["fractional vCPUs", guest({ vcpus: 1.5 }), [
    "guests[0].vcpus: expected an integer from 1 to 1024, got 1.5",
  ]],
  ["misspelled field", guest({ vcpu: 2 }), [
    `guests[0].vcpu: unknown field; allowed: ${GUEST_FIELDS} (did you mean "vcpus"?)`,
  ]],
  ["missing name", { guests: [{ vcpus: 1 }], stop: { when: "time" } }, [
    "name: required field is missing (expected a name of lowercase letters, digits, '.', '_' and '-', starting with a letter or digit of at most 64 characters)",
  ]],
  ["bad name characters", scenario({ name: "My Scenario" }), [
    `name: expected a name of lowercase letters, digits, '.', '_' and '-', starting with a letter or digit of at most 64 characters, got "My Scenario"`,
  ]],
  ["no guests", scenario({ guests: [] }), [
    "guests: expected a list of 1 to 256 items, got 0 items",
  ]],
  ["guests not a list", scenario({ guests: { vcpus: 1 } }), [
    'guests: expected a list of 1 to 256 items, got {"vcpus":1}',
  ]],
  ["unknown workload kind", workload({ kind: "lop" }), [
    'guests[0].workloads[0].kind: expected one of "loop", "mix", "compute", "idle", "accept-memory", "memory", "trace", got "lop" (did you mean "loop"?)',
  ]],
  ["unknown operation", workload({ operation: "cpu-id" }), [
    `guests[0].workloads[0].operation: expected one of ${
      quoted(OPERATION_NAMES.filter((name) => name !== "memory"))
    }, got "cpu-id" (did you mean "cpuid"?)`,
  ]],
  ["field of another workload kind", workload({ ratePerSec: 5 }), [
    "guests[0].workloads[0].ratePerSec: unknown field; allowed: kind, operation, iterations, pages, guestCyclesBetween, vcpus",
  ]],
  ["vCPU index out of range", workload({ vcpus: [0, 2] }), [
    "guests[0].workloads[0].vcpus[1]: expected a vCPU index from 0 to 1 (the guest has 2 vCPUs), got 2",
  ]],
  ["vCPU selector wrong word", workload({ vcpus: "every" }), [
    'guests[0].workloads[0].vcpus: expected one of "all", or a list of at least 1 item, got "every"',
  ]],
  [
    "zero rate",
    scenario({
      guests: [{
        vcpus: 1,
        workloads: [{ kind: "mix", operations: [{ operation: "cpuid", ratePerSec: 0 }], count: 3 }],
      }],
    }),
    ["guests[0].workloads[0].operations[0].ratePerSec: expected a number > 0 and ≤ 1000000000, got 0"],
  ],
  [
    "endless workload with workloads-complete",
    scenario({
      guests: [{
        vcpus: 1,
        workloads: [{ kind: "mix", operations: [{ operation: "cpuid", ratePerSec: 10 }] }],
      }],
    }),
    [
      'guests[0].workloads[0]: never ends, but stop.when is "workloads-complete": give it durationMs or count, or set stop.when to "time"',
    ],
  ],
  ["nothing to wait for", scenario({ guests: [{ vcpus: 1 }] }), [
    'stop.when: is "workloads-complete" but no guest has a workload; add one or use "time"',
  ]],
  ["unknown design", scenario({ designs: ["vmx.io-in-kernal"] }), [
    `designs[0]: expected one of ${
      quoted(DESIGN_NAMES)
    }, got "vmx.io-in-kernal" (did you mean "vmx.io-in-kernel"?)`,
  ]],
  [
    "duplicate guest names",
    scenario({
      guests: [{ name: "a", vcpus: 1, workloads: [{ kind: "compute", durationMs: 1 }] }, {
        name: "a",
        vcpus: 1,
      }],
    }),
    ['guests[1].name: duplicate guest name "a" (also guests[0])'],
  ],
  ["unknown profile", scenario({ profile: "intel-vmz" }), [
    `profile: expected a shipped profile (${
      quoted(SHIPPED_PROFILES.map((p) => p.name))
    }) or a path to a .json profile file, got "intel-vmz" (did you mean "intel-vmx"?)`,
  ]],
  ["missing profile file", scenario({ profile: "does-not-exist.json" }), [
    "profile: cannot load profile file does-not-exist.json: no such file",
  ]],
  ["stop time zero", scenario({ stop: { when: "time", simulatedMs: 0 } }), [
    "stop.simulatedMs: expected a number > 0 and ≤ 3600000, got 0",
  ]],
  ["seed negative", scenario({ seed: -1 }), [
    "seed: expected an integer from 0 to 4294967295, got -1",
  ]],
  [
    "fault on a missing vCPU and without virtio",
    scenario({
      guests: [{
        vcpus: 2,
        workloads: [{ kind: "loop", operation: "cpuid", iterations: 1 }],
        faults: [{ kind: "dma-to-private", atMs: 1, vcpu: 2 }],
      }],
    }),
    [
      "guests[0].faults[0].vcpu: expected a vCPU index from 0 to 1, got 2",
      "guests[0].faults[0]: a fault happens on a virtio request, but no workload of this " +
      "guest sends any (add a virtio-rr operation)",
    ],
  ],
  [
    "design choices a design does not have, or with an unknown option",
    scenario({
      designs: ["vmx.io-in-kernel", "vmx.io-in-vmm"],
      choices: { virtio: "deamon", "sept-reads": "mirror" },
    }),
    [
      'choices.virtio: expected one of "vhost", "vmm", "vmm-vcpu", "daemon", got "deamon" ' +
      '(did you mean "daemon"?)',
      'choices.sept-reads: design vmx.io-in-kernel (platform vmx) has no choice "sept-reads"; ' +
      "its choices: host-pages, devices, virtio",
      'choices.sept-reads: design vmx.io-in-vmm (platform vmx) has no choice "sept-reads"; ' +
      "its choices: host-pages, devices, virtio",
    ],
  ],
  ["top level not an object", [1, 2], [": expected an object, got [1,2]"]],
  // Names from input are looked up as own properties only (issue 14's fuzzing found these).
  ...["constructor", "__proto__", "toString", "hasOwnProperty"].map((name): [
    string,
    unknown,
    string[],
  ] => [
    `profile named ${name}`,
    scenario({ profile: name }),
    [
      `profile: expected a shipped profile (${
        quoted(SHIPPED_PROFILES.map((p) => p.name))
      }) or a path to a .json profile file, got "${name}"`,
    ],
  ]),
  ["a field named constructor", guest({ constructor: 2 }), [
    `guests[0].constructor: unknown field; allowed: ${GUEST_FIELDS}`,
  ]],
  [
    "a trace whose steps, gaps and halts do not line up",
    scenario({
      guests: [{
        vcpus: 1,
        workloads: [{
          kind: "trace",
          operations: ["cpuid", "halt"],
          sequence: [0, 1, 2],
          gapNs: [10, 20],
          haltNs: [],
        }],
      }],
    }),
    [
      "guests[0].workloads[0].sequence[2]: expected an index into operations (0 to 1), got 2",
      "guests[0].workloads[0].gapNs: expected one gap per step of sequence (3), got 2",
      'guests[0].workloads[0].haltNs: expected one halt time per "halt" step of sequence (1), ' +
      "got 0",
    ],
  ],
  [
    "a trace operation that is not one",
    scenario({
      guests: [{
        vcpus: 1,
        workloads: [{ kind: "trace", operations: ["hlt"], sequence: [0], gapNs: [1] }],
      }],
    }),
    [
      `guests[0].workloads[0].operations[0]: expected one of ${
        quoted([...OPERATION_NAMES.filter((name) => name !== "memory"), "halt"])
      }, got "hlt" (did you mean "halt"?)`,
    ],
  ],
  [
    "a baseline that is not one of the designs",
    scenario({
      designs: ["vmx.io-in-kernel", "vmx.io-in-vmm"],
      baseline: "tdx.upstream",
    }),
    [
      'baseline: expected one of the scenario\'s designs (vmx.io-in-kernel, vmx.io-in-vmm), got "tdx.upstream"',
    ],
  ],
  ["a workload kind named toString", workload({ kind: "toString" }), [
    'guests[0].workloads[0].kind: expected one of "loop", "mix", "compute", "idle", ' +
    '"accept-memory", "memory", "trace", got "toString"',
  ]],
  ["a design named constructor", scenario({ designs: ["constructor"] }), [
    `designs[0]: expected one of ${quoted(DESIGN_NAMES)}, got "constructor"`,
  ]],
  ["16 TiB of guest memory", guest({ memoryMiB: 16 * 1024 * 1024 }), [
    "guests[0].memoryMiB: expected an integer from 1 to 4194304, got 16777216 (the limit " +
    "is 4 TiB because the simulator keeps a byte per 4 KiB page, 1 GiB of state at that size)",
  ]],
];

Deno.test("validation messages for a table of bad scenarios", async (t) => {
  for (const [name, json, expected] of TABLE) {
    await t.step(name, () => deepStrictEqual(problems(json), expected));
  }
});

Deno.test("validation lists every problem at once", () => {
  const found = problems({
    name: "x",
    guests: [{ vcpus: 0, memoryMiB: -1, extra: true }],
    designs: [],
    seed: "one",
  });
  deepStrictEqual(found, [
    'seed: expected an integer from 0 to 4294967295, got "one"',
    `guests[0].extra: unknown field; allowed: ${GUEST_FIELDS}`,
    "guests[0].vcpus: expected an integer from 1 to 1024, got 0",
    "guests[0].memoryMiB: expected an integer from 1 to 4194304, got -1",
    "designs: expected a list of 1 to 32 items, got 0 items",
  ]);
});

Deno.test("a design given on the command line is validated like the scenario's", () => {
  deepStrictEqual(problems(scenario(), ["vmx.kernel"]), [
    `--design: expected one of ${quoted(DESIGN_NAMES)}, got "vmx.kernel"`,
  ]);
});

Deno.test("defaults are filled in and reported in the resolved scenario", () => {
  const loaded = load(scenario());
  const { scenario: resolved, profile } = designSetup(loaded, loaded.scenario.designs[0]);
  strictEqual(resolved.host.pcpus, 2);
  strictEqual(resolved.host.clockGHz, profile.clockGHz);
  strictEqual(resolved.guests[0].name, "vm0");
  strictEqual(resolved.guests[0].memoryMiB, 1024);
  deepStrictEqual(resolved.designs, ["vmx.io-in-kernel"]);
  deepStrictEqual(resolved.stop, { when: "workloads-complete", simulatedMs: 1000 });
  strictEqual(resolved.profile, "intel-vmx");
});

Deno.test("a profile file overrides only what it names", () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(
      `${dir}/mine.json`,
      JSON.stringify({
        name: "my-host",
        base: "intel-vmx",
        costs: { VMEXIT: { cycles: 500, kind: "measured", basis: "perf on my host" } },
      }),
    );
    Deno.writeTextFileSync(`${dir}/s.json`, JSON.stringify(scenario({ profile: "mine.json" })));
    const base = designSetup(load(scenario()), "vmx.io-in-kernel").profile;
    const mine = designSetup(loadScenario(`${dir}/s.json`), "vmx.io-in-kernel").profile;
    strictEqual(mine.name, "my-host");
    strictEqual(mine.costs.VMEXIT!.cycles, 500);
    strictEqual(mine.costs.VMEXIT!.from, "my-host");
    deepStrictEqual(mine.chain, ["my-host", "intel-vmx"]);
    for (const [name, cost] of Object.entries(base.costs)) {
      if (name === "VMEXIT") continue;
      strictEqual(mine.costs[name as keyof typeof mine.costs]!.cycles, cost.cycles, name);
    }
    strictEqual(mine.clockGHz, base.clockGHz);
    Deno.writeTextFileSync(
      `${dir}/bad.json`,
      JSON.stringify({ name: "bad", base: "intel-vmx", costs: { VMEXT: { cycles: -1 } } }),
    );
    Deno.writeTextFileSync(`${dir}/s2.json`, JSON.stringify(scenario({ profile: "bad.json" })));
    deepStrictEqual(issuesOf(() => loadScenario(`${dir}/s2.json`)), [
      `bad.json#costs.VMEXT: unknown key; expected a primitive name (did you mean "VMEXIT"?)`,
    ]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("bad JSON and unreadable files are scenario errors with a clear message", () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(`${dir}/broken.json`, '{ "name": "x", }');
    const [broken] = issuesOf(() => loadScenario(`${dir}/broken.json`));
    ok(broken.startsWith(": not valid JSON: "), broken);
    deepStrictEqual(issuesOf(() => loadScenario(`${dir}/absent.json`)), [
      ": cannot read the file: no such file",
    ]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
