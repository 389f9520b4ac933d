/**
 * Mutations of a scenario file for the fuzzer: on its JSON (delete a field, a value of the
 * wrong type, negative, zero, fractional and huge numbers, prototype-like keys and names,
 * unicode, deep nesting, duplicated list items) and on its text (duplicate keys, truncated
 * JSON, binary junk). Every choice comes from a seeded stream, so a case reproduces from
 * its seed and index.
 *
 * @module
 */

import type { Rng } from "../engine/mod.ts";

/** Names that reach an object's prototype when looked up carelessly. */
export const PROTOTYPE_NAMES = [
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "valueOf",
  "__defineGetter__",
];

const NUMBERS = [
  0,
  -0,
  -1,
  -1e9,
  0.5,
  1.5,
  1e-300,
  2 ** 31,
  2 ** 32,
  2 ** 53 + 2,
  1e12,
  1e21,
  1e308,
  -1e308,
];

const STRINGS = [
  "",
  " ",
  "x",
  "all",
  "4K",
  "2M",
  "random",
  "vmx.io-in-kernel",
  "tdx.upstream",
  "intel-vmx",
  "../../etc/passwd",
  "a".repeat(5000),
  "\u0000",
  "\u202e\u0644\u0627",
  "\ud83d\udca5",
  "\ud800",
  "é".normalize("NFD"),
  ...PROTOTYPE_NAMES,
];

type Json = unknown;

/** A value of some type other than what is usually there. */
function anyValue(rng: Rng): Json {
  switch (rng.int(0, 6)) {
    case 0:
      return NUMBERS[rng.int(0, NUMBERS.length - 1)];
    case 1:
      return STRINGS[rng.int(0, STRINGS.length - 1)];
    case 2:
      return rng.int(0, 1) === 1;
    case 3:
      return null;
    case 4:
      return [];
    case 5:
      return {};
    default:
      return [NUMBERS[rng.int(0, NUMBERS.length - 1)]];
  }
}

/** Paths past this depth are not mutation sites (a deeply nested value stays one). */
const MAX_PATH_DEPTH = 32;

/** Every path to a value in `value` (the root is []), down to MAX_PATH_DEPTH. */
function paths(value: Json, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [prefix];
  if (prefix.length >= MAX_PATH_DEPTH) return out;
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...paths(v, [...prefix, i])));
  else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...prefix, k]));
  }
  return out;
}

/** A value in `root` drawn at random: its parent, its key there, and its path for messages. */
function pickSite(
  root: Json,
  rng: Rng,
):
  | { parent: Record<string | number, Json>; key: string | number; where: string; value: Json }
  | undefined {
  const all = paths(root).filter((p) => p.length > 0);
  if (all.length === 0) return undefined;
  const path = all[rng.int(0, all.length - 1)];
  let parent = root as Record<string | number, Json>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, Json>;
  const key = path[path.length - 1];
  const where = path.map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`)).join("");
  return { parent, key, where, value: parent[key] };
}

/**
 * A plausible change: a number scaled or nudged, a string replaced by another string some
 * shipped scenario uses (a design, an operation, a kind, a choice), a list item dropped or
 * repeated. These keep many cases valid, so the runs, not only the validator, get fuzzed.
 */
function nudgeJson(root: Json, rng: Rng, strings: readonly string[]): { root: Json; what: string } {
  const site = pickSite(root, rng);
  if (site === undefined) return { root, what: "nothing to nudge" };
  const { parent, key, where, value } = site;
  if (typeof value === "number") {
    const factors = [0, 0.5, 2, 4, 10, 0.1];
    const next = rng.int(0, 1) === 0
      ? value * factors[rng.int(0, factors.length - 1)]
      : value + rng.int(-2, 2);
    parent[key] = Number.isInteger(value) ? Math.round(next) : next;
    return { root, what: `${where} ${value} -> ${parent[key]}` };
  }
  if (typeof value === "string" && strings.length > 0) {
    parent[key] = strings[rng.int(0, strings.length - 1)];
    return { root, what: `${where} "${value}" -> "${parent[key]}"` };
  }
  if (Array.isArray(value) && value.length > 0) {
    const i = rng.int(0, value.length - 1);
    if (rng.int(0, 1) === 0 && value.length > 1) value.splice(i, 1);
    else value.push(structuredClone(value[i]));
    return { root, what: `${where} one item fewer or more` };
  }
  return mutateJson(root, rng);
}

/** Every string value in `value` (for {@linkcode nudgeJson}'s pool). */
export function stringsOf(value: Json, out = new Set<string>()): Set<string> {
  if (typeof value === "string") {
    if (value.length < 40) out.add(value);
  } else if (Array.isArray(value)) {
    for (const v of value) stringsOf(v, out);
  } else if (value !== null && typeof value === "object") {
    for (const v of Object.values(value)) stringsOf(v, out);
  }
  return out;
}

/** One mutation of parsed JSON, in place where it can be; returns the new root and what it did. */
function mutateJson(root: Json, rng: Rng): { root: Json; what: string } {
  const site = pickSite(root, rng);
  if (site === undefined) return { root: anyValue(rng), what: "replaced the whole file" };
  const { parent, key, where, value } = site;
  switch (rng.int(0, 9)) {
    case 0:
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
      return { root, what: `deleted ${where}` };
    case 1:
      parent[key] = anyValue(rng);
      return { root, what: `replaced ${where} with a value of any type` };
    case 2: {
      const n = NUMBERS[rng.int(0, NUMBERS.length - 1)];
      parent[key] = typeof value === "number" ? value * rng.int(-3, 3) || n : n;
      return { root, what: `a number at ${where}` };
    }
    case 3: {
      if (Array.isArray(parent)) {
        parent.push(structuredClone(value));
        return { root, what: `duplicated list item ${where}` };
      }
      const name = PROTOTYPE_NAMES[rng.int(0, PROTOTYPE_NAMES.length - 1)];
      // JSON.parse keeps "__proto__" as an own key; so does this (defineProperty).
      Object.defineProperty(parent, name, {
        value: anyValue(rng),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      return { root, what: `a key ${name} next to ${where}` };
    }
    case 4:
      if (typeof value === "string") {
        parent[key] = PROTOTYPE_NAMES[rng.int(0, PROTOTYPE_NAMES.length - 1)];
        return { root, what: `a prototype-like name at ${where}` };
      }
      parent[key] = STRINGS[rng.int(0, STRINGS.length - 1)];
      return { root, what: `a string at ${where}` };
    case 5: {
      let nested: Json = value;
      const depth = rng.int(1, 3) === 1 ? 400 : rng.int(2, 60);
      for (let i = 0; i < depth; i++) nested = rng.int(0, 1) === 0 ? [nested] : { x: nested };
      parent[key] = nested;
      return { root, what: `nested ${where} ${depth} levels deep` };
    }
    case 6:
      if (typeof value === "number") {
        parent[key] = value + 0.37;
        return { root, what: `a fraction at ${where}` };
      }
      parent[key] = 0;
      return { root, what: `zero at ${where}` };
    case 7:
      if (Array.isArray(value) && value.length > 0) {
        for (let i = rng.int(1, 200); i > 0; i--) value.push(structuredClone(value[0]));
        return { root, what: `a long list at ${where}` };
      }
      parent[key] = -1;
      return { root, what: `-1 at ${where}` };
    case 8:
      if (!Array.isArray(parent)) parent[`extra${rng.int(0, 9)}`] = anyValue(rng);
      return { root, what: `an unknown field next to ${where}` };
    default: {
      const huge = [2 ** 31, 2 ** 53 + 2, 1e15, 1e308][rng.int(0, 3)];
      parent[key] = huge;
      return { root, what: `${huge} at ${where}` };
    }
  }
}

/** One mutation of the file's text. */
function mutateText(text: string, rng: Rng): { text: string; what: string } {
  switch (rng.int(0, 4)) {
    case 0: {
      const at = rng.int(0, Math.max(0, text.length - 1));
      return { text: text.slice(0, at), what: `truncated at byte ${at}` };
    }
    case 1: {
      // Repeat an existing key with another value, right after its first occurrence.
      const keys = [...text.matchAll(/"([A-Za-z]+)"\s*:/g)];
      if (keys.length === 0) return { text: `${text},`, what: "a trailing comma" };
      const match = keys[rng.int(0, keys.length - 1)];
      const value = JSON.stringify(anyValue(rng));
      const at = match.index!;
      return {
        text: `${text.slice(0, at)}"${match[1]}": ${value}, ${text.slice(at)}`,
        what: `a duplicate key ${match[1]}`,
      };
    }
    case 2: {
      const junk = Array.from(
        { length: rng.int(1, 16) },
        () => String.fromCharCode(rng.int(0, 255)),
      ).join("");
      const at = rng.int(0, text.length);
      return { text: text.slice(0, at) + junk + text.slice(at), what: `binary junk at ${at}` };
    }
    case 3:
      return { text: `\ufeff${text}`, what: "a byte order mark" };
    default:
      return { text: rng.int(0, 1) === 0 ? "" : "null", what: "an empty or null file" };
  }
}

/**
 * A mutated version of `text` (a valid scenario file) and what was done to it; `strings`
 * are values the shipped scenarios use, for plausible replacements.
 */
export function mutateScenario(
  text: string,
  rng: Rng,
  strings: readonly string[] = [],
): { text: string; what: string[] } {
  const what: string[] = [];
  const kind = rng.int(0, 9);
  if (kind < 2) {
    const mutated = mutateText(text, rng);
    return { text: mutated.text, what: [mutated.what] };
  }
  let root: Json = JSON.parse(text);
  // Mostly one mutation, so that many cases stay valid and run; sometimes two or three.
  const draw = rng.int(0, 9);
  for (let i = draw < 6 ? 1 : draw < 9 ? 2 : 3; i > 0; i--) {
    // Half the JSON cases are plausible changes, half anything at all.
    const mutated = kind < 6 ? nudgeJson(root, rng, strings) : mutateJson(root, rng);
    root = mutated.root;
    what.push(mutated.what);
  }
  return { text: JSON.stringify(root, null, 1), what };
}
