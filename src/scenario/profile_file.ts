/**
 * The JSON format of a user's cost profile file: it names a base profile and overrides
 * only the primitives it lists.
 *
 * @module
 */

import type { ProfileSpec } from "../host/profile.ts";
import { FIXED_COST_PRIMITIVES } from "../host/primitives.ts";
import { MICROBENCHMARK_NAMES } from "./microbenchmark_names.ts";
import {
  array,
  boolean,
  choice,
  type Infer,
  integer,
  type Issue,
  number,
  object,
  optional,
  record,
  string,
} from "./schema.ts";

/** One hardware figure of the translation model, with its provenance. */
function param(unit: string, doc: string, max = 1e12) {
  return optional(object({
    value: number({ min: 0, max, unit, doc }),
    kind: choice(["measured", "derived", "estimate"], { doc: "How the figure was obtained." }),
    basis: string({ maxLength: 1000, doc: "Citation, measurement or derivation." }),
  }, { doc }));
}

const tlbArrays = (doc: string) =>
  optional(array(
    object({
      sizes: array(choice(["4K", "2M", "1G"], { doc: "A page size." }), {
        minItems: 1,
        maxItems: 3,
        doc: "Page sizes the array holds translations of.",
      }),
      entries: integer({ min: 1, max: 1e6, doc: "Translations it holds." }),
    }, { doc: "One TLB array." }),
    { minItems: 1, maxItems: 8, doc },
  ));

/** Schema of a profile file's `translation` (every field defaults to the base's). */
const TRANSLATION_SCHEMA = object({
  l1: tlbArrays("The L1 data TLB's arrays."),
  stlb: tlbArrays("The second-level TLB's arrays."),
  tlbBasis: optional(string({ maxLength: 1000, doc: "Where the TLB geometry comes from." })),
  stlbHitCycles: param("cycles", "An L1 dTLB miss that hits the STLB."),
  pwcHitCycles: param("cycles", "A walk reference the paging-structure caches serve."),
  l2Bytes: param("bytes", "A core's L2 cache."),
  llcBytes: param("bytes", "The last-level cache the cores share."),
  llcCores: param("cores", "Cores sharing the last-level cache.", 4096),
  l2Cycles: param("cycles", "Load-to-use latency of an L2 hit."),
  llcCycles: param("cycles", "Load-to-use latency of an LLC hit."),
  memoryCycles: param("cycles", "Load-to-use latency of DRAM."),
  streamLineCycles: param("cycles", "One 64-byte line of a prefetched stream."),
  rmpEntryBytes: param("bytes", "One RMP entry (AMD SEV-SNP).", 4096),
}, { doc: "Address-translation figures (src/host/translation.ts)." });

/** Schema of a profile file. */
export const PROFILE_FILE_SCHEMA = object({
  $schema: optional(string({
    maxLength: 2000,
    doc: "The JSON Schema editors check the file against (docs/profile.schema.json, " +
      "generated from this declaration); the simulator ignores it.",
  })),
  name: string({
    pattern: /^[a-z0-9][a-z0-9._-]*$/,
    patternDoc: "a name of lowercase letters, digits, '.', '_' and '-'",
    maxLength: 64,
    doc: "Profile name, shown in reports.",
  }),
  description: string({ default: "", maxLength: 2000, doc: "The hardware and setup measured." }),
  base: optional(string({
    maxLength: 500,
    doc: "Shipped profile (or path to another profile file) this one overrides.",
  })),
  clockGHz: optional(number({
    min: 0.1,
    max: 10,
    unit: "GHz",
    doc: "Clock of the cycle counts. Default: the base's clock.",
  })),
  clockBasis: optional(string({ maxLength: 500, doc: "Where the clock figure comes from." })),
  platform: optional(choice(["vmx", "svm"], {
    doc: "Platform the costs were measured on (calibrate runs its microbenchmarks there). " +
      "Default: the base's.",
  })),
  references: record(
    MICROBENCHMARK_NAMES,
    "a kvm-unit-tests vmexit test name",
    object({
      cycles: number({ min: 0, max: 1e12, unit: "cycles", doc: "The test's result." }),
      kind: choice(["measured", "derived"], { doc: "measured, or derived from measurements." }),
      source: string({ maxLength: 1000, doc: "Where the figure comes from." }),
    }, { doc: "One microbenchmark result." }),
    {
      default: {},
      doc: "Microbenchmark results the profile should reproduce (`calibrate` compares).",
    },
  ),
  costs: record(
    FIXED_COST_PRIMITIVES,
    "a primitive name",
    object({
      cycles: integer({ min: 0, max: 1e12, unit: "cycles", doc: "Cost of one occurrence." }),
      kind: choice(["measured", "derived", "estimate"], {
        doc: "measured: a figure you measured or read; derived: arithmetic on figures; " +
          "estimate: reasoning without a figure.",
      }),
      basis: string({ maxLength: 1000, doc: "Citation, measurement or derivation." }),
      p99Cycles: optional(integer({
        min: 0,
        max: 1e12,
        unit: "cycles",
        doc: "For a cost that varies (SCHED_WAKEUP): its 99th percentile; `cycles` is then " +
          "the median of the log-normal distribution flows draw from.",
      })),
    }, { doc: "One primitive's cost." }),
    { default: {}, doc: "Costs that differ from the base." },
  ),
  idleStates: optional(array(
    object({
      name: string({ maxLength: 32, doc: "State name, e.g. C1E." }),
      exitCycles: integer({ min: 0, max: 1e12, unit: "cycles", doc: "Exit latency." }),
      residencyCycles: integer({
        min: 0,
        max: 1e12,
        unit: "cycles",
        doc: "Target residency: the shortest idle time the governor enters it for.",
      }),
      flushesCaches: boolean({ default: false, doc: "It powers the core's caches down." }),
      deep: boolean({
        default: false,
        doc: "A deep state (left out when the scenario's host allows only shallow ones).",
      }),
      basis: string({ maxLength: 1000, doc: "Citation, measurement or derivation." }),
    }, { doc: "One idle state." }),
    {
      maxItems: 16,
      doc: "The host CPUs' idle states, shallowest first. Default: the base's.",
    },
  )),
  mitigations: optional(boolean({
    doc: "The host runs with CPU vulnerability mitigations on (an IBPB when a pCPU " +
      "switches vCPUs). Default: the base's.",
  })),
  translation: optional(TRANSLATION_SCHEMA),
}, { doc: "A cost profile file." });

/** Validates parsed JSON as a profile file, pushing issues under `path`. */
export function checkProfileFile(
  value: unknown,
  path: string,
  issues: Issue[],
): ProfileSpec | undefined {
  const checked = PROFILE_FILE_SCHEMA.check(value, path, issues) as
    | NonNullable<Infer<typeof PROFILE_FILE_SCHEMA>>
    | undefined;
  if (checked === undefined) return undefined;
  const spec: ProfileSpec = {
    name: checked.name,
    description: checked.description,
    costs: checked.costs as ProfileSpec["costs"],
  };
  if (checked.base !== undefined) spec.base = checked.base;
  if (checked.clockGHz !== undefined) spec.clockGHz = checked.clockGHz;
  if (checked.clockBasis !== undefined) spec.clockBasis = checked.clockBasis;
  if (checked.platform !== undefined) spec.platform = checked.platform;
  if (checked.idleStates !== undefined) spec.idleStates = checked.idleStates;
  if (checked.mitigations !== undefined) spec.mitigations = checked.mitigations;
  if (checked.translation !== undefined) {
    // Fields left out are inherited from the base (optional fields come back undefined).
    spec.translation = Object.fromEntries(
      Object.entries(checked.translation).filter(([, value]) => value !== undefined),
    ) as ProfileSpec["translation"];
  }
  if (Object.keys(checked.references).length > 0) {
    spec.references = checked.references as ProfileSpec["references"];
  }
  return spec;
}
