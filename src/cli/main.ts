/**
 * The cvmsim command line: dispatch, help, and turning errors into exit codes.
 *
 * @module
 */

import { ScenarioError } from "../scenario/load.ts";
import { CVMSIM_VERSION } from "../report/summary.ts";
import { didYouMean } from "../scenario/schema.ts";
import { commandHelp, COMMANDS, type Io } from "./commands.ts";
import { EXIT_INTERNAL, EXIT_INVALID, EXIT_OK, EXIT_USAGE, UsageError } from "./errors.ts";

const consoleIo: Io = {
  out: (text) => console.log(text),
  err: (text) => console.error(text),
};

/** Top-level help. */
export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    "cvmsim: a cycle-approximate simulator of confidential and secure VMs on KVM",
    "",
    "Usage: cvmsim <command> [flags]   (deno task sim <command> ...)",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    "",
    "Run 'cvmsim <command> --help' for a command's flags; 'cvmsim --version' for the version.",
  ].join("\n");
}

/** Runs the CLI with `args`; resolves with the process exit code. */
export async function main(args: string[], io: Io = consoleIo): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    io.out(mainHelp());
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (name === "--version" || name === "-V" || name === "version") {
    io.out(`cvmsim ${CVMSIM_VERSION} (Deno ${Deno.version.deno}, V8 ${Deno.version.v8})`);
    return EXIT_OK;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) {
    const hint = didYouMean(name, COMMANDS.map((c) => c.name));
    io.err(`cvmsim: unknown command ${JSON.stringify(name)}${hint}; run 'cvmsim --help'`);
    return EXIT_USAGE;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    io.out(commandHelp(command));
    return EXIT_OK;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(error.message);
      return EXIT_USAGE;
    }
    if (error instanceof ScenarioError) {
      io.err(error.message);
      return EXIT_INVALID;
    }
    if (error instanceof Deno.errors.PermissionDenied || error instanceof Deno.errors.NotFound) {
      io.err(`cvmsim ${name}: ${error.message}`);
      return EXIT_USAGE;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.err(
      `cvmsim ${name}: internal error: ${message}\nThis is a bug in cvmsim; please report it.`,
    );
    return EXIT_INTERNAL;
  }
}
