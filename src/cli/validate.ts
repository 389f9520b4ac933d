/**
 * `cvmsim validate`: check scenario files and list every problem.
 *
 * @module
 */

import { ScenarioError } from "../scenario/load.ts";
import { parse, requireFile } from "./args.ts";
import { type Command, jsonFlag, load, quietFlag, STDIN } from "./command.ts";
import { EXIT_INVALID, EXIT_OK, UsageError } from "./errors.ts";

/** `validate` */
export const validate: Command = {
  name: "validate",
  usage: "validate <scenario.json | ->... [--json] [--quiet]",
  summary: "Check scenario files; list every problem with its JSON path.",
  flags: { json: jsonFlag, quiet: quietFlag },
  run(args, io) {
    const { values, positionals } = parse("validate", args, this.flags);
    if (positionals.length === 0) throw new UsageError("cvmsim validate: missing scenario files");
    for (const file of positionals) {
      if (file !== STDIN) requireFile("validate", file, "scenario file");
    }
    const results = positionals.map((file) => {
      try {
        const loaded = load("validate", file);
        return { file, ok: true, issues: [], designs: loaded.scenario.designs };
      } catch (error) {
        if (!(error instanceof ScenarioError)) throw error;
        return { file, ok: false, issues: error.issues, designs: [] };
      }
    });
    if (values.json === true) {
      io.out(JSON.stringify(results, null, 2));
    } else {
      for (const result of results) {
        if (result.ok) {
          io.out(`ok ${result.file} (designs: ${result.designs.join(", ")})`);
        } else {
          io.out(`invalid ${result.file}:`);
          for (const issue of result.issues) {
            io.out(`  ${issue.path || "(top level)"}: ${issue.message}`);
          }
        }
      }
    }
    return results.every((r) => r.ok) ? EXIT_OK : EXIT_INVALID;
  },
};
