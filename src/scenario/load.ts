/**
 * Reading, validating and resolving scenario files. Every problem is collected with its
 * JSON path (structure first, then cross-field rules), so a user fixes a file in one pass.
 *
 * @module
 */

import { dirname, resolve as resolvePath } from "node:path";
import {
  missingCosts,
  ProfileError,
  type ProfileSpec,
  type ResolvedProfile,
  resolveProfile,
} from "../host/profile.ts";
import type { PrimitiveName } from "../host/primitives.ts";
import type { DesignSpec } from "../kvm/platform.ts";
import {
  TRACE_HALT,
  workloadIsFinite,
  workloadOperations,
  type WorkloadSpec,
} from "../workloads/workloads.ts";
import {
  DESIGN_NAMES,
  findDesign,
  findPlatform,
  guestDesign,
  SHIPPED_PROFILES,
  shippedProfile,
} from "./catalog.ts";
import { readJsonFile } from "./json_file.ts";
import { checkProfileFile } from "./profile_file.ts";
import { SCENARIO_SCHEMA, type ScenarioSpec } from "./scenario_schema.ts";
import { didYouMean, type Issue, show } from "./schema.ts";

/** A guest with its defaults filled in. */
export interface ResolvedGuest {
  name: string;
  /** Pinned platform, if any (else the design's). */
  platform?: string;
  vcpus: number;
  memoryMiB: number;
  hostPageSize: "4K" | "2M";
  timerHz: number;
  network: { peerLatencyUs: number };
  faults: { kind: "dma-to-private" | "convert-during-dma"; atMs: number; vcpu: number }[];
  workloads: WorkloadSpec[];
}

/** A scenario with every default filled in: what a run under one design actually used. */
export interface ResolvedScenario {
  name: string;
  description: string;
  seed: number;
  host: ScenarioSpec["host"] & { pcpus: number; clockGHz: number };
  /** The profile reference used (as written, or the design's platform default). */
  profile: string;
  guests: ResolvedGuest[];
  designs: string[];
  stop: ScenarioSpec["stop"];
  /** Design choices overridden for every design run. */
  choices: Record<string, string>;
  /** The stretch the timeline records by default, if the scenario names one. */
  timeline?: { fromMs: number; toMs: number };
  /** The design `compare` measures against when none is given (one of `designs`). */
  baseline?: string;
}

/** A loaded scenario, ready to run under any of its designs. */
export interface LoadedScenario {
  /** The file it came from ("" when built in memory). */
  file: string;
  /** Resolved except for what depends on the design (profile, and the clock from it). */
  scenario: Omit<ResolvedScenario, "profile" | "host"> & {
    profile: string | undefined;
    host: ScenarioSpec["host"] & { pcpus: number };
  };
  /** Every profile a design of the scenario uses, by reference. */
  profiles: Record<string, ResolvedProfile>;
}

/** The scenario and profile a run under `designName` uses. */
export function designSetup(
  loaded: LoadedScenario,
  designName: string,
): { scenario: ResolvedScenario; profile: ResolvedProfile } {
  const design = findDesign(designName);
  if (design === undefined) throw new Error(`Unknown design ${designName}`);
  const ref = profileRef(loaded.scenario.profile, design);
  const profile = loaded.profiles[ref];
  if (profile === undefined) throw new Error(`Design ${designName} was not validated`);
  const host = {
    ...loaded.scenario.host,
    clockGHz: loaded.scenario.host.clockGHz ?? profile.clockGHz,
  };
  return { scenario: { ...loaded.scenario, profile: ref, host }, profile };
}

/** The profile a design runs with: the scenario's, or its platform's default. */
function profileRef(written: string | undefined, design: DesignSpec): string {
  return written ?? findPlatform(design.platform)!.defaultProfile;
}

/** A scenario that failed validation: every problem, each with its JSON path. */
export class ScenarioError extends Error {
  override name = "ScenarioError";
  readonly file: string;
  readonly issues: Issue[];

  constructor(file: string, issues: Issue[]) {
    super(
      `${file === "" ? "scenario" : file} is invalid:\n` +
        issues.map((issue) => `  ${issue.path || "(top level)"}: ${issue.message}`).join("\n"),
    );
    this.file = file;
    this.issues = issues;
  }
}

/** Options of {@linkcode loadScenario} and {@linkcode checkScenario}. */
export interface LoadOptions {
  /** Run these designs instead of the scenario's own list (validated the same way). */
  designs?: string[];
  /** Use this seed instead of the scenario's. */
  seed?: number;
  /** Run every design with this profile instead of resolving the scenario's reference. */
  profile?: ResolvedProfile;
}

/** Reads and validates a scenario file. @throws ScenarioError listing every problem. */
export function loadScenario(file: string, options: LoadOptions = {}): LoadedScenario {
  const read = readJsonFile(file);
  if (!read.ok) throw new ScenarioError(file, [{ path: "", message: read.problem }]);
  return checkScenario(read.value, file, options);
}

/**
 * Validates parsed scenario JSON. `file` locates relative profile paths ("" means the
 * current directory). @throws ScenarioError listing every problem.
 */
export function checkScenario(
  json: unknown,
  file: string,
  options: LoadOptions = {},
): LoadedScenario {
  const issues: Issue[] = [];
  const spec = SCENARIO_SCHEMA.check(json, "", issues) as ScenarioSpec | undefined;
  if (spec === undefined) throw new ScenarioError(file, issues);
  const designs = options.designs ?? spec.designs;
  for (const name of options.designs ?? []) {
    if (findDesign(name) === undefined) {
      issues.push({
        path: "--design",
        message: `expected one of ${DESIGN_NAMES.map((n) => JSON.stringify(n)).join(", ")}, ` +
          `got ${show(name)}${didYouMean(name, DESIGN_NAMES)}`,
      });
    }
  }
  const guests = resolveGuests(spec, issues);
  checkStop(spec, issues);
  if (spec.baseline !== undefined && !spec.designs.includes(spec.baseline)) {
    issues.push({
      path: "baseline",
      message: `expected one of the scenario's designs (${spec.designs.join(", ")}), got ` +
        show(spec.baseline),
    });
  }
  const designSpecs = designs.map(findDesign).filter((d): d is DesignSpec => d !== undefined);
  const profiles: Record<string, ResolvedProfile> = Object.create(null);
  for (const design of designSpecs) {
    const ref = options.profile?.name ?? profileRef(spec.profile, design);
    if (!Object.hasOwn(profiles, ref)) {
      const profile = options.profile ??
        loadProfile(ref, file === "" ? "." : dirname(file), issues);
      if (profile !== undefined) profiles[ref] = profile;
    }
    checkDesign(design, spec, profiles[ref], issues);
  }
  if (issues.length > 0) throw new ScenarioError(file, issues);
  // Enough pCPUs for every vCPU and every other thread a design may start (at most one
  // backend per queue, i.e. per vCPU, of a guest that uses virtio; a VMM thread per vCPU
  // for VTL1 of a VSM guest), so by default nothing waits for a pCPU under any design.
  const vsm = (guest: ResolvedGuest) =>
    (guest.platform ?? "") === "vsm" ||
    (guest.platform === undefined && designs.some((d) => findDesign(d)?.platform === "vsm"));
  const hostThreads = guests.reduce(
    (sum, guest) => sum + guest.vcpus * (1 + (usesVirtio(guest) ? 1 : 0) + (vsm(guest) ? 1 : 0)),
    0,
  );
  return {
    file,
    profiles,
    scenario: {
      name: spec.name,
      description: spec.description,
      seed: options.seed ?? spec.seed,
      host: { ...spec.host, pcpus: spec.host.pcpus ?? hostThreads },
      profile: options.profile?.name ?? spec.profile,
      guests,
      designs: [...designs],
      stop: spec.stop,
      choices: spec.choices,
      ...(spec.timeline === undefined ? {} : { timeline: spec.timeline }),
      ...(spec.baseline === undefined ? {} : { baseline: spec.baseline }),
    },
  };
}

/** True when a guest's workloads send virtio requests (it then needs a backend thread). */
export function usesVirtio(guest: { workloads: WorkloadSpec[] }): boolean {
  return guest.workloads.some((w) => workloadOperations(w).includes("virtio-rr"));
}

function resolveGuests(spec: ScenarioSpec, issues: Issue[]): ResolvedGuest[] {
  const seen = new Map<string, number>();
  return spec.guests.map((guest, g) => {
    const name = guest.name ?? `vm${g}`;
    const earlier = seen.get(name);
    if (earlier !== undefined) {
      issues.push({
        path: `guests[${g}].name`,
        message: `duplicate guest name ${show(name)} (also guests[${earlier}])`,
      });
    }
    seen.set(name, g);
    guest.faults.forEach((fault, f) => {
      if (fault.vcpu >= guest.vcpus) {
        issues.push({
          path: `guests[${g}].faults[${f}].vcpu`,
          message: `expected a vCPU index from 0 to ${guest.vcpus - 1}, got ${fault.vcpu}`,
        });
      }
      if (!usesVirtio(guest)) {
        issues.push({
          path: `guests[${g}].faults[${f}]`,
          message: "a fault happens on a virtio request, but no workload of this guest " +
            "sends any (add a virtio-rr operation)",
        });
      }
    });
    guest.workloads.forEach((workload, w) => {
      if (workload.kind === "memory") {
        checkWorkingSets(workload, guest, `guests[${g}].workloads[${w}]`, issues);
      }
      if (workload.kind === "trace") {
        checkTrace(workload, `guests[${g}].workloads[${w}]`, issues);
      }
      if (workload.vcpus === "all") return;
      workload.vcpus.forEach((index, k) => {
        if (index >= guest.vcpus) {
          issues.push({
            path: `guests[${g}].workloads[${w}].vcpus[${k}]`,
            message: `expected a vCPU index from 0 to ${guest.vcpus - 1} (the guest has ` +
              `${guest.vcpus} vCPU${guest.vcpus === 1 ? "" : "s"}), got ${index}`,
          });
        }
      });
    });
    const resolved: ResolvedGuest = {
      name,
      vcpus: guest.vcpus,
      memoryMiB: guest.memoryMiB,
      hostPageSize: guest.hostPageSize,
      timerHz: guest.timerHz,
      network: guest.network,
      faults: guest.faults,
      workloads: guest.workloads,
    };
    if (guest.platform !== undefined) resolved.platform = guest.platform;
    return resolved;
  });
}

/** A memory workload's working sets (one per vCPU, or one shared) must lie in guest memory. */
function checkWorkingSets(
  workload: Extract<WorkloadSpec, { kind: "memory" }>,
  guest: ScenarioSpec["guests"][number],
  path: string,
  issues: Issue[],
): void {
  const vcpus = workload.vcpus === "all" ? guest.vcpus : workload.vcpus.length;
  const sets = workload.shared ? 1 : vcpus;
  const endMiB = workload.offsetMiB + workload.workingSetMiB * sets;
  if (endMiB <= guest.memoryMiB) return;
  issues.push({
    path: `${path}.workingSetMiB`,
    message: `${sets === 1 ? "the working set" : `${sets} working sets (one per vCPU)`} of ` +
      `${workload.workingSetMiB} MiB from offsetMiB ${workload.offsetMiB} end at ` +
      `${endMiB} MiB, beyond the guest's memoryMiB ${guest.memoryMiB}`,
  });
}

/** A trace workload's sequence, gaps and halts must line up. */
function checkTrace(
  workload: Extract<WorkloadSpec, { kind: "trace" }>,
  path: string,
  issues: Issue[],
): void {
  const { operations, sequence, gapNs, haltNs } = workload;
  const bad = sequence.findIndex((index) => index >= operations.length);
  if (bad >= 0) {
    issues.push({
      path: `${path}.sequence[${bad}]`,
      message: `expected an index into operations (0 to ${operations.length - 1}), got ` +
        `${sequence[bad]}`,
    });
  }
  if (gapNs.length !== sequence.length) {
    issues.push({
      path: `${path}.gapNs`,
      message: `expected one gap per step of sequence (${sequence.length}), got ${gapNs.length}`,
    });
  }
  const halts = sequence.filter((index) => operations[index] === TRACE_HALT).length;
  if (haltNs.length !== halts) {
    issues.push({
      path: `${path}.haltNs`,
      message: `expected one halt time per "halt" step of sequence (${halts}), got ` +
        `${haltNs.length}`,
    });
  }
}

function checkStop(spec: ScenarioSpec, issues: Issue[]): void {
  if (spec.timeline !== undefined && spec.timeline.toMs <= spec.timeline.fromMs) {
    issues.push({
      path: "timeline.toMs",
      message: `expected a time after timeline.fromMs (${spec.timeline.fromMs} ms), got ` +
        `${spec.timeline.toMs}`,
    });
  }
  if (spec.stop.when !== "workloads-complete") return;
  let any = false;
  spec.guests.forEach((guest, g) => {
    guest.workloads.forEach((workload, w) => {
      any = true;
      if (!workloadIsFinite(workload)) {
        issues.push({
          path: `guests[${g}].workloads[${w}]`,
          message: 'never ends, but stop.when is "workloads-complete": give it durationMs or ' +
            'count, or set stop.when to "time"',
        });
      }
    });
  });
  if (!any) {
    issues.push({
      path: "stop.when",
      message: 'is "workloads-complete" but no guest has a workload; add one or use "time"',
    });
  }
}

function checkDesign(
  design: DesignSpec,
  spec: ScenarioSpec,
  profile: ResolvedProfile | undefined,
  issues: Issue[],
): void {
  const needed = new Set<PrimitiveName>();
  const designPlatform = findPlatform(design.platform)!;
  for (const [id, option] of Object.entries(spec.choices)) {
    const choice = designPlatform.choices.find((c) => c.id === id);
    if (choice === undefined) {
      issues.push({
        path: `choices.${id}`,
        message: `design ${design.name} (platform ${designPlatform.name}) has no choice ` +
          `${show(id)}; its choices: ${designPlatform.choices.map((c) => c.id).join(", ")}`,
      });
    } else if (!Object.hasOwn(choice.options, option)) {
      const options = Object.keys(choice.options);
      const message = `expected one of ${options.map((o) => show(o)).join(", ")}, got ` +
        `${show(option)}${didYouMean(option, options)}`;
      // Every design of the platform would report it: say it once.
      if (!issues.some((i) => i.path === `choices.${id}` && i.message === message)) {
        issues.push({ path: `choices.${id}`, message });
      }
    }
  }
  spec.guests.forEach((guest, g) => {
    const effective = guestDesign(design, guest.platform);
    const platform = findPlatform(effective.platform);
    if (platform === undefined) throw new Error(`design ${effective.name} names unknown platform`);
    for (const name of platform.primitives) needed.add(name);
    const runs = effective === design
      ? `design ${design.name} (platform ${platform.name})`
      : `platform ${platform.name} (design ${effective.name}, pinned by the guest)`;
    guest.workloads.forEach((workload, w) => {
      if (workload.kind === "memory" && workload.vtl !== 0 && platform.name !== "vsm") {
        issues.push({
          path: `guests[${g}].workloads[${w}].vtl`,
          message: `${runs} has no VTLs: vtl ${workload.vtl} needs a Hyper-V VSM guest (use 0)`,
        });
      }
      for (const operation of workloadOperations(workload)) {
        if (!platform.operations.includes(operation)) {
          issues.push({
            path: `guests[${g}].workloads[${w}]`,
            message: `${runs} cannot perform ${show(operation)}; it supports ` +
              platform.operations.join(", "),
          });
        }
      }
    });
  });
  if (profile === undefined) return;
  if (
    profile.translation === undefined &&
    spec.guests.some((guest) => guest.workloads.some((w) => w.kind === "memory"))
  ) {
    issues.push({
      path: "profile",
      message: `profile ${profile.name} has no translation figures (TLB geometry, cache and ` +
        "memory latencies), which memory workloads need: base it on a shipped profile or add " +
        "`translation`",
    });
  }
  const missing = missingCosts(profile, [...needed]);
  if (missing.length > 0) {
    issues.push({
      path: "profile",
      message: `profile ${profile.name} has no cost for ${missing.join(", ")}, which design ` +
        `${design.name} needs`,
    });
  }
}

/**
 * Resolves a profile reference (a shipped name or a .json file, relative to `baseDir`).
 * @throws ScenarioError listing the problems.
 */
export function resolveProfileRef(ref: string, baseDir = "."): ResolvedProfile {
  const issues: Issue[] = [];
  const profile = loadProfile(ref, baseDir, issues);
  if (profile === undefined) throw new ScenarioError(ref, issues);
  return profile;
}

/** Resolves a profile reference: a shipped name, or a .json file relative to `baseDir`. */
function loadProfile(ref: string, baseDir: string, issues: Issue[]): ResolvedProfile | undefined {
  const fromFiles = new Map<string, ProfileSpec>();
  const root = lookupProfileRef(ref, baseDir, "profile", fromFiles, issues, 0);
  if (root === undefined) return undefined;
  try {
    return resolveProfile(root, (name) => fromFiles.get(name) ?? shippedProfile(name));
  } catch (error) {
    if (!(error instanceof ProfileError)) throw error;
    issues.push({ path: "profile", message: error.message });
    return undefined;
  }
}

function lookupProfileRef(
  ref: string,
  baseDir: string,
  path: string,
  fromFiles: Map<string, ProfileSpec>,
  issues: Issue[],
  depth: number,
): ProfileSpec | undefined {
  const shipped = shippedProfile(ref);
  if (shipped !== undefined) return shipped;
  if (!ref.endsWith(".json")) {
    const names = SHIPPED_PROFILES.map((p) => p.name);
    issues.push({
      path,
      message: `expected a shipped profile (${names.map((n) => JSON.stringify(n)).join(", ")}) ` +
        `or a path to a .json profile file, got ${show(ref)}${didYouMean(ref, names)}`,
    });
    return undefined;
  }
  if (depth > 8) {
    issues.push({ path, message: `profile base chain is deeper than 8 files at ${show(ref)}` });
    return undefined;
  }
  const file = resolvePath(baseDir, ref);
  const read = readJsonFile(file);
  if (!read.ok) {
    const problem = read.problem.replace(/^cannot read the file: /, "");
    issues.push({ path, message: `cannot load profile file ${ref}: ${problem}` });
    return undefined;
  }
  const fileIssues: Issue[] = [];
  const spec = checkProfileFile(read.value, "", fileIssues);
  // Paths inside the profile file are shown as file#path.
  for (const issue of fileIssues) issues.push({ ...issue, path: `${ref}#${issue.path}` });
  if (spec === undefined) return undefined;
  fromFiles.set(ref, spec);
  if (spec.base !== undefined && !fromFiles.has(spec.base)) {
    const base = lookupProfileRef(
      spec.base,
      dirname(file),
      `${ref}#base`,
      fromFiles,
      issues,
      depth + 1,
    );
    if (base === undefined) return undefined;
    if (base !== shippedProfile(spec.base)) fromFiles.set(spec.base, base);
  }
  return spec;
}
