/**
 * The scenario file format, declared field by field. docs/scenarios.md's field reference and
 * docs/scenario.schema.json (the JSON Schema editors use) are generated from this declaration
 * (`deno task docs`), so neither can drift from the validator.
 *
 * @module
 */

import { MAX_MEMORY_MIB, MAX_MEMORY_REASON } from "../host/memory.ts";
import { WORKLOAD_SCHEMA } from "../workloads/workloads.ts";
import { CHOICE_IDS, DEFAULT_DESIGN, DESIGN_NAMES, PLATFORM_NAMES } from "./catalog.ts";
import {
  array,
  boolean,
  choice,
  type Infer,
  integer,
  number,
  object,
  optional,
  record,
  string,
} from "./schema.ts";

const SLUG = /^[a-z0-9][a-z0-9._-]*$/;
const SLUG_DOC = "lowercase letters, digits, '.', '_' and '-', starting with a letter or digit";

export { MAX_MEMORY_MIB } from "../host/memory.ts";

/** The scenario schema. */
export const SCENARIO_SCHEMA = object({
  $schema: optional(string({
    maxLength: 2000,
    doc: "The JSON Schema editors check the file against, e.g. " +
      '"../docs/scenario.schema.json" from scenarios/ (generated from this declaration); ' +
      "the simulator ignores it.",
  })),
  name: string({
    pattern: SLUG,
    patternDoc: `a name of ${SLUG_DOC}`,
    maxLength: 64,
    doc: "Scenario name; also names its reports.",
  }),
  description: string({
    default: "",
    maxLength: 2000,
    doc: "What question the scenario answers and where its numbers come from.",
  }),
  seed: integer({
    min: 0,
    max: 4294967295,
    default: 1,
    doc: "Seed of every random stream; same seed, same scenario → byte-identical summary.",
  }),
  host: object({
    pcpus: optional(integer({
      min: 1,
      max: 4096,
      doc: "Physical CPUs. Default: one per host thread any design may start (every vCPU, " +
        "plus one backend thread per vCPU of guests that use virtio and one VTL1 thread per " +
        "vCPU of VSM guests), so nothing waits for a pCPU.",
    })),
    clockGHz: optional(number({
      min: 0.1,
      max: 10,
      unit: "GHz",
      doc: "Clock that converts cycles to time. Default: the profile's clock.",
    })),
    postedInterrupts: boolean({
      default: true,
      doc: "Interrupts reach a running guest without an exit (APICv/AVIC); off: every " +
        "interrupt to a running vCPU kicks it out and is injected at entry.",
    }),
    ipiVirtualization: boolean({
      default: false,
      doc: "The CPU virtualizes ICR writes (Intel IPIv, AVIC): sending an IPI needs no exit.",
    }),
    haltPollUs: number({
      min: 0,
      max: 100000,
      default: 200,
      unit: "µs",
      doc: "How long a halted vCPU polls before sleeping (KVM's halt_poll_ns; x86 default 200 µs).",
    }),
    cpuIdle: choice(["poll", "shallow", "deep"], {
      default: "shallow",
      doc: "What an idle pCPU does, which a thread woken onto it pays for: `poll` (idle=poll: " +
        "it spins, nothing to leave), `shallow` (C1/C1E only, as hosts tuned for latency " +
        "run), `deep` (every idle state the profile lists, e.g. C6). The governor enters the " +
        "deepest allowed state whose target residency the idle time reaches.",
    }),
    timesliceUs: number({
      min: 1,
      max: 1000000,
      default: 3000,
      unit: "µs",
      doc: "Time slice of the host scheduler when threads wait for pCPUs (estimate: CFS's " +
        "3 ms minimum granularity on large hosts).",
    }),
  }, { default: {}, doc: "The emulated host." }),
  profile: optional(string({
    maxLength: 500,
    doc: "Cost profile: a shipped profile's name (`list` shows them) or a path to a JSON " +
      "profile file, relative to the scenario file. Default: each design's platform's own " +
      "profile (intel-vmx for VMX, amd-svm for SVM).",
  })),
  guests: array(
    object({
      name: optional(string({
        pattern: SLUG,
        patternDoc: `a name of ${SLUG_DOC}`,
        maxLength: 32,
        doc: "Guest name. Default: vm0, vm1, ... by position.",
      })),
      platform: optional(choice(PLATFORM_NAMES, {
        doc: "Pin this guest to a platform. Default: the platform of the design being run. " +
          "A pinned guest on a host run under another platform's design runs its own " +
          "platform's default design (a mixed host).",
      })),
      vcpus: integer({ min: 1, max: 1024, doc: "Number of vCPUs." }),
      memoryMiB: integer({
        min: 1,
        max: MAX_MEMORY_MIB,
        maxReason: MAX_MEMORY_REASON,
        default: 1024,
        unit: "MiB",
        doc: "Guest memory.",
      }),
      hostPageSize: choice(["4K", "2M"], {
        default: "4K",
        doc: "Host pages backing guest memory: with 2M (THP, hugetlbfs) one fault maps 2 MiB.",
      }),
      timerHz: integer({
        min: 0,
        max: 10000,
        default: 0,
        unit: "Hz",
        doc: "The guest kernel's periodic tick (e.g. 1000 for HZ=1000), busy or idle; 0: none.",
      }),
      network: object({
        peerLatencyUs: number({
          min: 0,
          max: 1e6,
          default: 20,
          unit: "µs",
          doc: "Time from a request leaving the host to its response arriving (the network " +
            "and the peer, outside the simulated host).",
        }),
      }, { default: {}, doc: "The guest's virtio-net device (used by virtio-rr)." }),
      faults: array(
        object({
          kind: choice(["dma-to-private", "convert-during-dma"], {
            doc: "`dma-to-private`: a buggy driver gives the device a receive buffer in " +
              "private memory it never converted to shared; `convert-during-dma`: a " +
              "malicious guest converts a shared receive buffer back to private while the " +
              "device is about to write it. Either way a host thread writes a private page.",
          }),
          atMs: number({
            min: 0,
            max: 3.6e6,
            unit: "ms",
            doc: "When it happens: the vCPU's first virtio request from this time on.",
          }),
          vcpu: integer({ min: 0, max: 1023, default: 0, doc: "The misbehaving vCPU." }),
        }, { doc: "One injected guest misbehaviour." }),
        {
          default: [],
          maxItems: 64,
          doc: "Guest misbehaviour to inject (fault injection for the host-access policies; " +
            "needs a virtio-rr workload on the vCPU).",
        },
      ),
      workloads: array(WORKLOAD_SCHEMA, {
        default: [],
        maxItems: 64,
        doc: "What the vCPUs do, in order: a vCPU runs the workloads that select it one " +
          "after another. vCPUs with nothing to do stay idle.",
      }),
    }, { doc: "A guest VM." }),
    { minItems: 1, maxItems: 256, doc: "The guest VMs on the host." },
  ),
  designs: array(choice(DESIGN_NAMES, { doc: "A design name (`list` shows them)." }), {
    default: [DEFAULT_DESIGN],
    minItems: 1,
    maxItems: 32,
    doc: "Designs to run the scenario under; `compare` puts them side by side. The design " +
      "sets the platform of every guest that does not pin one.",
  }),
  baseline: optional(choice(DESIGN_NAMES, {
    doc: "The design `compare` measures the others against (default: the first of " +
      "`designs`); one of `designs`, differing from the others only in the choice the " +
      "scenario's question is about.",
  })),
  stop: object({
    when: choice(["workloads-complete", "time"], {
      default: "workloads-complete",
      doc: "End when every workload has finished, or after `simulatedMs`.",
    }),
    simulatedMs: number({
      min: 0,
      exclusiveMin: true,
      max: 3.6e6,
      default: 1000,
      unit: "ms",
      doc: "Run length for `time`; a safety limit for `workloads-complete`.",
    }),
  }, { default: {}, doc: "When the run ends." }),
  choices: record(
    CHOICE_IDS,
    "choice id",
    string({ maxLength: 64, doc: "An option of that choice." }),
    {
      default: {},
      doc: "Design choices to override in every design the scenario runs, e.g. " +
        '{"virtio": "daemon"} to put every design\'s virtio behind one host-wide daemon. ' +
        "Each must be an option of a choice the design's platform has (`list` shows them).",
    },
  ),
  timeline: optional(object({
    fromMs: number({ min: 0, max: 3.6e6, unit: "ms", doc: "Start of the recorded stretch." }),
    toMs: number({
      min: 0,
      exclusiveMin: true,
      max: 3.6e6,
      unit: "ms",
      doc: "End of the recorded stretch.",
    }),
  }, {
    doc: "The stretch of simulated time a report's timeline records unless " +
      "--timeline-window says otherwise (e.g. around an injected fault); default: from the " +
      "start until the span limit.",
  })),
  sweep: optional(object({
    params: array(
      string({
        pattern: /^[A-Za-z_].*=.+$/,
        patternDoc: "<json.path>=<values>, e.g. guests[0].vcpus=1..64*2",
        maxLength: 4096,
        doc: "A parameter and its values, as for `sweep --param`.",
      }),
      { minItems: 1, maxItems: 8, doc: "The parameters the study varies." },
    ),
    repetitions: integer({
      min: 1,
      max: 1000,
      default: 1,
      doc: "Runs per point, with seeds derived from the scenario's.",
    }),
    crossover: optional(object({
      metric: string({
        maxLength: 200,
        doc: "A sweep metric (see docs/sweeps.md), e.g. guestShare or latency.vtl-call.mean.",
      }),
      baseline: choice(DESIGN_NAMES, { doc: "The design overheads are measured against." }),
      higherIsBetter: boolean({
        default: true,
        doc: "More of the metric is better (a share or a throughput); false for latencies.",
      }),
      thresholdsPercent: array(
        number({ min: 0, exclusiveMin: true, max: 1e6, unit: "%", doc: "An overhead threshold." }),
        {
          default: [1, 5, 20],
          minItems: 1,
          maxItems: 8,
          doc: "Overheads whose crossing point the report gives for each design.",
        },
      ),
    }, {
      doc: "Report where each design's overhead against `baseline`, in `metric`, crosses each " +
        "threshold along the first parameter (interpolated between points).",
    })),
  }, {
    doc: "A growth study over this scenario: `sweep` runs it when given no --param, and " +
      "`suite`/`start` run it after the scenario's designs. `run` and `compare` ignore it.",
  })),
}, { doc: "A scenario file." });

/** A scenario as validated (defaults filled in, optional fields possibly absent). */
export type ScenarioSpec = NonNullable<Infer<typeof SCENARIO_SCHEMA>>;
