/**
 * What every subcommand shares: the command shape, output sink, common flags and helpers.
 *
 * @module
 */

import { join } from "node:path";
import { loadScenario } from "../scenario/load.ts";
import { flagHelp, type FlagSpec, requireFile } from "./args.ts";
import { UsageError } from "./errors.ts";

/** Output sink (stdout in real use; a buffer in tests). */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

/** One subcommand. */
export interface Command {
  name: string;
  usage: string;
  summary: string;
  flags: Record<string, FlagSpec>;
  run(args: string[], io: Io): number;
}

/** Where reports go unless --out says otherwise. */
export const REPORTS_DIR = "reports";
/** Where shipped scenarios live. */
export const SCENARIOS_DIR = "scenarios";

/** --out <dir> */
export const outFlag: FlagSpec = {
  type: "string",
  value: "<dir>",
  doc: `where reports are written (default ${REPORTS_DIR}/)`,
};
/** --seed <n> */
export const seedFlag: FlagSpec = {
  type: "string",
  value: "<n>",
  doc: "use this seed instead of the scenario's",
};
/** --json */
export const jsonFlag: FlagSpec = { type: "boolean", doc: "print JSON instead of tables" };

/** Prints a command's help. */
export function commandHelp(command: Command): string {
  return `${command.summary}\n\nUsage: cvmsim ${command.usage}\n\nFlags:\n${
    flagHelp(command.flags)
  }`;
}

/** Loads a scenario for a command, turning a missing file into a usage error. */
export function load(command: string, file: string | undefined, designs?: string[], seed?: number) {
  return loadScenario(requireFile(command, file, "scenario file"), { designs, seed });
}

export function designList(
  command: string,
  value: string | boolean | undefined,
): string[] | undefined {
  if (value === undefined) return undefined;
  const names = String(value).split(",").map((name) => name.trim()).filter((name) => name !== "");
  if (names.length === 0) throw new UsageError(`cvmsim ${command}: --designs needs design names`);
  return names;
}

/** Scenario files in `dir`, sorted by name. */
export function scenarioFiles(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)]
      .filter((entry) => entry.isFile && entry.name.endsWith(".json"))
      .map((entry) => join(dir, entry.name))
      .sort();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}
