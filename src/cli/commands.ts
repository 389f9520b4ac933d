/**
 * Every subcommand, in the order help lists them.
 *
 * @module
 */

import { calibrate } from "./calibrate.ts";
import type { Command } from "./command.ts";
import { compare } from "./compare.ts";
import { importCommand } from "./import.ts";
import { list } from "./list.ts";
import { run } from "./run.ts";
import { serveCommand, startCommand } from "./serve.ts";
import { suite } from "./suite.ts";
import { merge, sweep } from "./sweep.ts";
import { validate } from "./validate.ts";

/** Every subcommand. */
export const COMMANDS: readonly Command[] = [
  startCommand,
  run,
  compare,
  sweep,
  merge,
  validate,
  list,
  suite,
  calibrate,
  importCommand,
  serveCommand,
];

export { type Command, commandHelp, type Io } from "./command.ts";
