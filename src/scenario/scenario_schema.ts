/**
 * The scenario file format, declared field by field. docs/scenarios.md is generated from
 * this declaration (`deno task docs`), so the reference cannot drift from the validator.
 *
 * @module
 */

import { WORKLOAD_SCHEMA } from "../workloads/workloads.ts";
import { DEFAULT_DESIGN, DEFAULT_PROFILE, DESIGN_NAMES, PLATFORM_NAMES } from "./catalog.ts";
import { array, choice, type Infer, integer, number, object, optional, string } from "./schema.ts";

const SLUG = /^[a-z0-9][a-z0-9._-]*$/;
const SLUG_DOC = "lowercase letters, digits, '.', '_' and '-', starting with a letter or digit";

/** Largest guest memory accepted, in MiB (16 TiB). */
export const MAX_MEMORY_MIB = 16 * 1024 * 1024;

/** The scenario schema. */
export const SCENARIO_SCHEMA = object({
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
      doc: "Physical CPUs. Default: one per vCPU of all guests (no contention).",
    })),
    clockGHz: optional(number({
      min: 0.1,
      max: 10,
      unit: "GHz",
      doc: "Clock that converts cycles to time. Default: the profile's clock.",
    })),
  }, { default: {}, doc: "The emulated host." }),
  profile: string({
    default: DEFAULT_PROFILE,
    maxLength: 500,
    doc: "Cost profile: a shipped profile's name (`list` shows them) or a path to a JSON " +
      "profile file, relative to the scenario file.",
  }),
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
        default: 1024,
        unit: "MiB",
        doc: "Guest memory.",
      }),
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
}, { doc: "A scenario file." });

/** A scenario as validated (defaults filled in, optional fields possibly absent). */
export type ScenarioSpec = NonNullable<Infer<typeof SCENARIO_SCHEMA>>;
