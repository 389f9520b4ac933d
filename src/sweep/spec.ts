/**
 * What a sweep varies and the points it runs: parameters by JSON path with value lists or
 * ranges, the designs, and repetitions with derived seeds.
 *
 * ```text
 * guests[0].vcpus=1,2,4,8        a list (JSON scalars; bare words are strings)
 * stop.simulatedMs=10..50+10     an arithmetic range: 10, 20, 30, 40, 50
 * guests[0].vcpus=1..64*2        a geometric range: 1, 2, 4, ..., 64
 * ```
 *
 * @module
 */

/** One swept parameter. */
export interface SweepParam {
  /** As written, e.g. `guests[0].vcpus`. */
  path: string;
  /** The path's keys and indices. */
  segments: (string | number)[];
  values: (number | string | boolean)[];
}

/** A sweep: a base scenario and what to vary. */
export interface SweepSpec {
  /** The scenario as read from its file (JSON, not yet validated). */
  scenario: Record<string, unknown>;
  /** The scenario file, for relative profile paths and for the record. */
  scenarioFile: string;
  params: SweepParam[];
  designs: string[];
  /** Runs per (values, design), with seeds derived from the scenario's. */
  repetitions: number;
  /** Where each design's overhead against a baseline crosses thresholds (optional). */
  crossover?: CrossoverSpec;
}

/** A crossover study: a metric's overhead against a baseline design, along the first parameter. */
export interface CrossoverSpec {
  /** A point metric, e.g. guestShare or latency.vtl-call.mean. */
  metric: string;
  baseline: string;
  /** True when more of the metric is better (throughput, guestShare). */
  higherIsBetter: boolean;
  thresholdsPercent: number[];
}

/** One run of a sweep. */
export interface SweepPoint {
  /** Position in the full sweep (shards keep it). */
  index: number;
  /** Parameter values by path. */
  values: Record<string, number | string | boolean>;
  design: string;
  repetition: number;
  seed: number;
}

/** A malformed parameter or sweep (a usage error: the message says what is allowed). */
export class SweepError extends Error {
  override name = "SweepError";
}

/** At most this many points per sweep (a typo in a range should not start a week of runs). */
export const MAX_POINTS = 100_000;
const MAX_VALUES = 10_000;

/** Parses `path=values`. @throws SweepError */
export function parseParam(text: string): SweepParam {
  const eq = text.indexOf("=");
  if (eq <= 0) {
    throw new SweepError(
      `--param ${JSON.stringify(text)}: expected <json.path>=<values>, e.g. guests[0].vcpus=1,2,4`,
    );
  }
  const path = text.slice(0, eq).trim();
  const segments = parsePath(path);
  const values = parseValues(path, text.slice(eq + 1).trim());
  return { path, segments, values };
}

/** Names that would reach an object's prototype rather than a scenario field. */
const RESERVED_KEYS = ["__proto__", "constructor", "prototype"];

function parsePath(path: string): (string | number)[] {
  const segments: (string | number)[] = [];
  const pattern = /([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|(\.)/y;
  let expectKey = true;
  for (pattern.lastIndex = 0; pattern.lastIndex < path.length;) {
    const start = pattern.lastIndex;
    const match = pattern.exec(path);
    if (match === null) {
      throw new SweepError(
        `--param ${path}: cannot read the path at ${JSON.stringify(path.slice(start))}; ` +
          "write it like guests[0].workloads[1].ratePerSec",
      );
    }
    if (match[1] !== undefined) {
      if (!expectKey) {
        throw new SweepError(`--param ${path}: expected "." or "[" before ${match[1]}`);
      }
      if (RESERVED_KEYS.includes(match[1])) {
        throw new SweepError(`--param ${path}: ${match[1]} is not a scenario field`);
      }
      segments.push(match[1]);
      expectKey = false;
    } else if (match[2] !== undefined) {
      if (expectKey) throw new SweepError(`--param ${path}: an index needs a field before it`);
      segments.push(Number(match[2]));
    } else {
      if (expectKey) throw new SweepError(`--param ${path}: unexpected "."`);
      expectKey = true;
    }
  }
  if (segments.length === 0 || expectKey) {
    throw new SweepError(`--param ${path}: the path is empty or ends with "."`);
  }
  return segments;
}

function parseValues(path: string, text: string): (number | string | boolean)[] {
  const range = /^(-?\d+(?:\.\d+)?)\.\.(-?\d+(?:\.\d+)?)(?:([+*])(\d+(?:\.\d+)?))?$/.exec(text);
  if (range !== null) return expandRange(path, range);
  if (text === "") throw new SweepError(`--param ${path}: no values after "="`);
  return text.split(",").map((item) => {
    const word = item.trim();
    if (word === "") {
      throw new SweepError(`--param ${path}: an empty value in ${JSON.stringify(text)}`);
    }
    if (word === "true" || word === "false") return word === "true";
    if (/^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(word)) return Number(word);
    if (word.startsWith('"') && word.endsWith('"') && word.length >= 2) return word.slice(1, -1);
    return word;
  });
}

function expandRange(path: string, match: RegExpExecArray): number[] {
  const from = Number(match[1]);
  const to = Number(match[2]);
  const op = match[3] ?? "+";
  const step = match[4] === undefined ? 1 : Number(match[4]);
  if (to < from) throw new SweepError(`--param ${path}: a range must go up (${from}..${to})`);
  if (op === "+" && step <= 0) throw new SweepError(`--param ${path}: the step must be > 0`);
  if (op === "*" && (step <= 1 || from <= 0)) {
    throw new SweepError(`--param ${path}: a geometric range needs a start > 0 and a factor > 1`);
  }
  const values: number[] = [];
  for (let k = 0; values.length <= MAX_VALUES; k++) {
    // Computed from the start each time so steps like 0.1 do not accumulate error.
    const value = op === "+" ? from + k * step : from * step ** k;
    const rounded = Math.round(value * 1e9) / 1e9;
    if (rounded > to) return values;
    values.push(rounded);
  }
  throw new SweepError(`--param ${path}: the range has more than ${MAX_VALUES} values`);
}

/** The seed of repetition `k` (0 keeps the scenario's own seed). */
export function repetitionSeed(seed: number, k: number): number {
  if (k === 0) return seed;
  // splitmix-style mixing of (seed, k) into 32 bits: independent, reproducible seeds.
  let x = (seed ^ Math.imul(k, 0x9e3779b9)) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/** Every point of the sweep, in a fixed order: values (first parameter slowest), design, repetition. */
export function sweepPoints(spec: SweepSpec): SweepPoint[] {
  const seed = typeof spec.scenario.seed === "number" ? spec.scenario.seed : 1;
  let combos: Record<string, number | string | boolean>[] = [{}];
  for (const param of spec.params) {
    combos = combos.flatMap((combo) =>
      param.values.map((value) => ({ ...combo, [param.path]: value }))
    );
  }
  const total = combos.length * spec.designs.length * spec.repetitions;
  if (total > MAX_POINTS) {
    throw new SweepError(`the sweep has ${total} points; at most ${MAX_POINTS} are allowed`);
  }
  const points: SweepPoint[] = [];
  for (const values of combos) {
    for (const design of spec.designs) {
      for (let repetition = 0; repetition < spec.repetitions; repetition++) {
        points.push({
          index: points.length,
          values,
          design,
          repetition,
          seed: repetitionSeed(seed, repetition),
        });
      }
    }
  }
  return points;
}

/**
 * The scenario JSON of one point: the base with each parameter set and the point's seed
 * and design. @throws SweepError when a path does not lead into the scenario
 */
export function pointScenario(spec: SweepSpec, point: SweepPoint): Record<string, unknown> {
  const json = structuredClone(spec.scenario);
  for (const param of spec.params) setPath(json, param, point.values[param.path]);
  json.seed = point.seed;
  json.designs = [point.design];
  return json;
}

/** Checks every parameter path against the scenario before anything runs. @throws SweepError */
export function checkPaths(spec: SweepSpec): void {
  for (const param of spec.params) setPath(structuredClone(spec.scenario), param, param.values[0]);
}

function setPath(root: Record<string, unknown>, param: SweepParam, value: unknown): void {
  let node: unknown = root;
  const { segments } = param;
  for (let i = 0; i < segments.length - 1; i++) {
    const key = segments[i];
    const next = Object.hasOwn(node as object, key)
      ? (node as Record<string | number, unknown>)[key]
      : undefined;
    const here = segments.slice(0, i + 1);
    if (typeof key === "number" && (!Array.isArray(node) || key >= node.length)) {
      const length = Array.isArray(node) ? node.length : 0;
      throw new SweepError(
        `--param ${param.path}: the scenario has no ${showPath(here)} (it has ${length} ` +
          `item${length === 1 ? "" : "s"} there)`,
      );
    }
    if (next === undefined) {
      // An absent optional object (e.g. host) is created; the schema checks the result.
      if (typeof segments[i + 1] === "number") {
        throw new SweepError(`--param ${param.path}: the scenario has no ${showPath(here)}`);
      }
      (node as Record<string, unknown>)[key as string] = {};
    } else if (next === null || typeof next !== "object") {
      throw new SweepError(
        `--param ${param.path}: ${showPath(here)} is ${JSON.stringify(next)}, not an object ` +
          "or a list",
      );
    }
    node = (node as Record<string | number, unknown>)[key];
  }
  const last = segments[segments.length - 1];
  if (typeof last === "number" && (!Array.isArray(node) || last > node.length)) {
    throw new SweepError(`--param ${param.path}: the scenario has no ${showPath(segments)}`);
  }
  (node as Record<string | number, unknown>)[last] = value;
}

function showPath(segments: (string | number)[]): string {
  return segments.map((s, i) => typeof s === "number" ? `[${s}]` : i === 0 ? s : `.${s}`).join(
    "",
  );
}
