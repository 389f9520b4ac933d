/**
 * Cost profiles: the cycles each primitive costs on some hardware, each with where the
 * number comes from. A profile may name a `base` and override only what differs, so a
 * user's measurements replace exactly the numbers they measured.
 *
 * @module
 */

import { FIXED_COST_PRIMITIVES, P, PRIMITIVE_COUNT, type PrimitiveName } from "./primitives.ts";
import type { PageSize, TranslationParams } from "./translation.ts";

/** How a number was obtained. */
export type CostKind = "measured" | "derived" | "estimate";

/** One primitive's cost with its provenance. */
export interface CostSpec {
  /** Cost in cycles of the profile's clock. */
  cycles: number;
  /**
   * `measured`: a published figure (basis cites it); `derived`: arithmetic on published
   * figures (basis shows it); `estimate`: no figure exists (basis gives the reasoning).
   */
  kind: CostKind;
  /** Citation or one-line derivation. */
  basis: string;
  /**
   * For a cost that varies from one occurrence to the next (a wake-up latency): its 99th
   * percentile; `cycles` is then the median, and flows that sample it draw from a
   * log-normal distribution with these two quantiles.
   */
  p99Cycles?: number;
}

/**
 * One idle state of the host's CPUs (C1, C1E, C6, ...), as the kernel's idle driver
 * declares it: entered when the CPU expects to stay idle at least its target residency.
 */
export interface IdleState {
  name: string;
  /** Time to leave the state when woken. */
  exitCycles: number;
  /** Shortest idle time for which the governor enters it. */
  residencyCycles: number;
  /** The state powers the core's caches down (they are cold after it). */
  flushesCaches: boolean;
  /** A deep state: left out when the host allows only shallow ones. */
  deep: boolean;
  /** Citation or derivation of the figures. */
  basis: string;
}

/** One hardware figure of a profile (not a step's cost): a value with its provenance. */
export interface ParamSpec {
  value: number;
  kind: CostKind;
  /** Citation or one-line derivation. */
  basis: string;
}

/** One TLB array of a translation spec: the page sizes it holds and how many entries. */
export interface TlbArraySpec {
  sizes: PageSize[];
  entries: number;
}

/**
 * The figures the translation model needs (src/host/translation.ts): TLB geometry, the
 * latencies of what a walk and an access reference, and cache capacities.
 */
export interface TranslationSpec {
  l1: TlbArraySpec[];
  stlb: TlbArraySpec[];
  /** Where the TLB geometry comes from. */
  tlbBasis: string;
  stlbHitCycles: ParamSpec;
  pwcHitCycles: ParamSpec;
  l2Bytes: ParamSpec;
  llcBytes: ParamSpec;
  llcCores: ParamSpec;
  l2Cycles: ParamSpec;
  llcCycles: ParamSpec;
  memoryCycles: ParamSpec;
  streamLineCycles: ParamSpec;
  /** Bytes of an RMP entry (AMD only: hosts without an RMP leave it out). */
  rmpEntryBytes?: ParamSpec;
}

/** A published (or measured) microbenchmark result a profile is calibrated on. */
export interface Reference {
  cycles: number;
  /** `measured`: a published or user-measured figure; `derived`: computed from figures. */
  kind: "measured" | "derived";
  /** Citation, measurement or derivation. */
  source: string;
}

/** A profile as declared (shipped, or loaded from a user's file). */
export interface ProfileSpec {
  name: string;
  description: string;
  /** Platform the costs were measured on ("vmx", "svm"); inherited from `base`. */
  platform?: string;
  /** Microbenchmark results the profile reproduces, by kvm-unit-tests test name. */
  references?: Record<string, Reference>;
  /** Clock of the cycle counts, in GHz; inherited from `base` when absent. */
  clockGHz?: number;
  /** Where `clockGHz` comes from. */
  clockBasis?: string;
  /** Name of the profile this one overrides. */
  base?: string;
  /**
   * The host's CPU idle states, shallowest first (inherited from `base` when absent).
   */
  idleStates?: IdleState[];
  /**
   * The host kernel runs with CPU vulnerability mitigations on: KVM issues an IBPB when a
   * pCPU switches to another vCPU (inherited from `base` when absent; default off).
   */
  mitigations?: boolean;
  /** Address-translation figures; each field is inherited from `base` when absent. */
  translation?: Partial<TranslationSpec>;
  costs: Partial<Record<PrimitiveName, CostSpec>>;
}

/** A profile with its base chain applied. */
export interface ResolvedProfile {
  name: string;
  description: string;
  /** Platform the costs were measured on, if any layer says. */
  platform: string | undefined;
  /**
   * Microbenchmark results, later layers overriding earlier ones per test; a layer that
   * changes the platform drops the references of the layers below it.
   */
  references: Record<string, Reference>;
  clockGHz: number;
  clockBasis: string;
  /** Names of the profiles it was built from, this one first. */
  chain: string[];
  costs: Partial<Record<PrimitiveName, CostSpec & { from: string }>>;
  /** Cycles by primitive id (0 for primitives the profile leaves out). */
  cyclesById: Float64Array;
  /** 99th percentiles by primitive id, for costs that vary (0: the cost is fixed). */
  p99ById: Float64Array;
  /** The host's idle states, shallowest first (none: the CPUs only poll). */
  idleStates: IdleState[];
  /** CPU vulnerability mitigations are on. */
  mitigations: boolean;
  /** Address-translation figures, as declared (with provenance), when the chain has them. */
  translationSpec: TranslationSpec | undefined;
  /** The same, as the translation model takes them. */
  translation: TranslationParams | undefined;
}

/** Applies the `base` chain of `spec`; `lookup` finds a profile by name. */
export function resolveProfile(
  spec: ProfileSpec,
  lookup: (name: string) => ProfileSpec | undefined,
): ResolvedProfile {
  const chain: ProfileSpec[] = [spec];
  for (let current = spec; current.base !== undefined;) {
    const base = lookup(current.base);
    if (base === undefined) {
      throw new ProfileError(
        `profile ${current.name} names base ${current.base}, which does not exist`,
      );
    }
    if (chain.includes(base)) {
      throw new ProfileError(`profile ${spec.name} has a cycle in its base chain at ${base.name}`);
    }
    chain.push(base);
    current = base;
  }
  const costs: ResolvedProfile["costs"] = {};
  const references: Record<string, Reference> = {};
  let platform: string | undefined;
  let clockGHz: number | undefined;
  let clockBasis = "";
  let idleStates: IdleState[] = [];
  let mitigations = false;
  let translation: Partial<TranslationSpec> = {};
  // Apply from the root base up, so later (more specific) profiles win.
  for (const layer of [...chain].reverse()) {
    for (const [name, cost] of Object.entries(layer.costs) as [PrimitiveName, CostSpec][]) {
      costs[name] = { ...cost, from: layer.name };
    }
    if (layer.platform !== undefined && layer.platform !== platform) {
      // Figures measured on the base's platform say nothing about this one's.
      for (const test of Object.keys(references)) delete references[test];
      platform = layer.platform;
    }
    if (layer.idleStates !== undefined) idleStates = layer.idleStates;
    if (layer.translation !== undefined) translation = { ...translation, ...layer.translation };
    if (layer.mitigations !== undefined && layer.mitigations !== mitigations) {
      // Figures measured with mitigations off say nothing about a host with them on.
      for (const test of Object.keys(references)) delete references[test];
      mitigations = layer.mitigations;
    }
    Object.assign(references, layer.references ?? {});
    if (layer.clockGHz !== undefined) {
      clockGHz = layer.clockGHz;
      clockBasis = layer.clockBasis ?? `set by profile ${layer.name}`;
    }
  }
  if (clockGHz === undefined) {
    throw new ProfileError(`profile ${spec.name} sets no clockGHz and has no base that does`);
  }
  const cyclesById = new Float64Array(PRIMITIVE_COUNT);
  const p99ById = new Float64Array(PRIMITIVE_COUNT);
  for (const [name, cost] of Object.entries(costs) as [PrimitiveName, CostSpec][]) {
    cyclesById[P[name]] = cost.cycles;
    p99ById[P[name]] = cost.p99Cycles ?? 0;
  }
  return {
    name: spec.name,
    description: spec.description,
    platform,
    references,
    clockGHz,
    clockBasis,
    chain: chain.map((c) => c.name),
    costs,
    cyclesById,
    p99ById,
    idleStates,
    mitigations,
    ...resolveTranslation(spec.name, translation),
  };
}

const TRANSLATION_FIELDS = [
  "stlbHitCycles",
  "pwcHitCycles",
  "l2Bytes",
  "llcBytes",
  "llcCores",
  "l2Cycles",
  "llcCycles",
  "memoryCycles",
  "streamLineCycles",
] as const;

function resolveTranslation(
  name: string,
  spec: Partial<TranslationSpec>,
): { translationSpec: TranslationSpec | undefined; translation: TranslationParams | undefined } {
  const missing = [
    ...(["l1", "stlb", "tlbBasis"] as const).filter((f) => spec[f] === undefined),
    ...TRANSLATION_FIELDS.filter((f) => spec[f] === undefined),
  ];
  if (missing.length === 3 + TRANSLATION_FIELDS.length) {
    return { translationSpec: undefined, translation: undefined };
  }
  if (missing.length > 0) {
    throw new ProfileError(
      `profile ${name}'s translation figures lack ${
        missing.join(", ")
      } (set them or a base that has them)`,
    );
  }
  const full = spec as TranslationSpec;
  const values = Object.fromEntries(TRANSLATION_FIELDS.map((f) => [f, full[f].value])) as Record<
    typeof TRANSLATION_FIELDS[number],
    number
  >;
  return {
    translationSpec: full,
    translation: {
      l1: full.l1,
      stlb: full.stlb,
      ...values,
      rmpEntryBytes: full.rmpEntryBytes?.value ?? 0,
    },
  };
}

/** Fixed-cost primitives among `needed` that `profile` has no value for. */
export function missingCosts(
  profile: ResolvedProfile,
  needed: readonly PrimitiveName[],
): PrimitiveName[] {
  return needed.filter((name) =>
    FIXED_COST_PRIMITIVES.includes(name) && profile.costs[name] === undefined
  );
}

/** A profile that cannot be resolved. */
export class ProfileError extends Error {
  override name = "ProfileError";
}
