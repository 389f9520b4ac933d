/**
 * Command-line parsing on top of node:util parseArgs, with cvmsim's error messages.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { didYouMean } from "../scenario/schema.ts";
import { UsageError } from "./errors.ts";

/** Declaration of one flag. */
export interface FlagSpec {
  type: "string" | "boolean";
  /** Shown in help, e.g. "<name>". */
  value?: string;
  doc: string;
  /** May be given more than once (the values come as a list). */
  multiple?: boolean;
}

/** Parsed flags and positionals. */
export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  /** Values of the flags that may repeat, in order (empty when absent). */
  lists: Record<string, string[]>;
  positionals: string[];
}

/** Parses `args` for `command`; unknown flags and missing values are UsageErrors. */
export function parse(command: string, args: string[], flags: Record<string, FlagSpec>): Parsed {
  const options = Object.fromEntries(
    Object.entries({ ...flags, help: { type: "boolean" as const, doc: "" } }).map((
      [name, spec],
    ) => [name, { type: spec.type, multiple: (spec as FlagSpec).multiple === true }]),
  );
  try {
    const { values, positionals } = parseArgs({
      args,
      options,
      allowPositionals: true,
      strict: true,
    });
    const lists: Record<string, string[]> = {};
    const single: Parsed["values"] = {};
    for (const [name, value] of Object.entries(values)) {
      if (Array.isArray(value)) lists[name] = value.map(String);
      else single[name] = value as string | boolean | undefined;
    }
    for (const [name, spec] of Object.entries(flags)) {
      if (spec.multiple === true) lists[name] ??= [];
    }
    return { values: single, positionals, lists };
  } catch (error) {
    throw new UsageError(`cvmsim ${command}: ${explain(error, Object.keys(options))}`);
  }
}

function explain(error: unknown, names: string[]): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: string }).code;
  const flag = /'(-[^']*)'/.exec(message)?.[1] ?? "";
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    const bare = flag.replace(/^-+/, "");
    const hint = didYouMean(bare, names).replace(/"([^"]+)"/, '"--$1"');
    return `unknown flag ${flag}${hint}`;
  }
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    const name = /--([\w-]+)/.exec(message)?.[1] ?? flag;
    return message.includes("argument missing")
      ? `--${name} needs a value`
      : `--${name} does not take a value`;
  }
  return message;
}

/** Renders flag help lines. */
export function flagHelp(flags: Record<string, FlagSpec>): string {
  const rows = Object.entries(flags).map(([name, spec]) => [
    `  --${name}${spec.value ? ` ${spec.value}` : ""}`,
    spec.doc,
  ]);
  rows.push(["  --help", "show this help"]);
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return rows.map(([left, right]) => left.padEnd(width) + right).join("\n");
}

/** Parses a seed flag value. */
export function parseSeed(
  command: string,
  value: string | boolean | undefined,
): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  const seed = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(seed) || seed > 4294967295) {
    throw new UsageError(
      `cvmsim ${command}: --seed expects an integer from 0 to 4294967295, got ${
        JSON.stringify(text)
      }`,
    );
  }
  return seed;
}

/** Checks that a file exists and is readable before loading it. */
export function requireFile(command: string, path: string | undefined, what: string): string {
  if (path === undefined) throw new UsageError(`cvmsim ${command}: missing ${what}`);
  try {
    const info = Deno.statSync(path);
    if (!info.isFile) throw new UsageError(`cvmsim ${command}: ${path} is not a file`);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    if (error instanceof Deno.errors.NotFound) {
      throw new UsageError(`cvmsim ${command}: cannot read ${path}: no such file`);
    }
    throw new UsageError(`cvmsim ${command}: cannot read ${path}: ${(error as Error).message}`);
  }
  return path;
}
