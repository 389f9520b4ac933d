/**
 * `cvmsim list`: shipped scenarios, designs and cost profiles.
 *
 * @module
 */

import { resolveProfile } from "../host/profile.ts";
import { shippedProfile } from "../profiles/mod.ts";
import { DESIGNS, PLATFORMS, SHIPPED_PROFILES } from "../scenario/catalog.ts";
import { loadScenario, ScenarioError } from "../scenario/load.ts";
import { parse } from "./args.ts";
import { type Command, jsonFlag, quietFlag, scenarioFiles, SCENARIOS_DIR } from "./command.ts";
import { EXIT_OK, UsageError } from "./errors.ts";
import { alignedRows, firstSentence } from "../report/format.ts";

const LIST_TOPICS = ["scenarios", "designs", "profiles"] as const;

/** `list` */
export const list: Command = {
  name: "list",
  usage: "list [scenarios|designs|profiles] [--json] [--scenarios <dir>] [--quiet]",
  summary: "List shipped scenarios, designs and cost profiles.",
  flags: {
    json: jsonFlag,
    scenarios: {
      type: "string",
      value: "<dir>",
      doc: `scenario directory (default ${SCENARIOS_DIR}/)`,
    },
    quiet: quietFlag,
  },
  run(args, io) {
    const { values, positionals } = parse("list", args, this.flags);
    const topic = positionals[0];
    if (topic !== undefined && !(LIST_TOPICS as readonly string[]).includes(topic)) {
      throw new UsageError(
        `cvmsim list: expected one of ${LIST_TOPICS.join(", ")}, got ${JSON.stringify(topic)}`,
      );
    }
    const dir = String(values.scenarios ?? SCENARIOS_DIR);
    const scenarios = scenarioFiles(dir).map((file) => {
      try {
        const { scenario } = loadScenario(file);
        return {
          file,
          name: scenario.name,
          designs: scenario.designs,
          description: scenario.description,
        };
      } catch (error) {
        if (!(error instanceof ScenarioError)) throw error;
        return {
          file,
          name: "(invalid)",
          designs: [],
          description: `${error.issues.length} problems; run validate`,
        };
      }
    });
    const designs = DESIGNS.map((d) => ({
      name: d.name,
      platform: d.platform,
      splits: d.splits ?? [],
      summary: d.summary,
      choices: d.choices,
    }));
    const profiles = SHIPPED_PROFILES.map((spec) => {
      const profile = resolveProfile(spec, shippedProfile);
      return { name: profile.name, clockGHz: profile.clockGHz, description: profile.description };
    });
    const wanted = (t: string) => topic === undefined || topic === t;
    if (values.json === true) {
      io.out(JSON.stringify(
        {
          ...(wanted("scenarios") ? { scenarios } : {}),
          ...(wanted("designs")
            ? {
              designs,
              platforms: PLATFORMS.map((p) => ({
                name: p.name,
                description: p.description,
                choices: p.choices,
              })),
            }
            : {}),
          ...(wanted("profiles") ? { profiles } : {}),
        },
        null,
        2,
      ));
      return EXIT_OK;
    }
    if (wanted("scenarios")) {
      io.out(`Scenarios (${dir}/)`);
      for (const s of scenarios) {
        io.out(
          `  ${s.file}\n    ${s.name}: ${firstSentence(s.description)}\n    designs: ${
            s.designs.join(", ")
          }`,
        );
      }
    }
    if (wanted("designs")) {
      io.out("Designs");
      io.out(indent(alignedRows(
        designs.map((d) => [
          d.name,
          `${d.summary}${d.splits.length > 0 ? ` [${d.splits.join(", ")}]` : ""}`,
        ]),
        ["left", "left"],
      )));
    }
    if (wanted("profiles")) {
      io.out("Profiles");
      io.out(indent(alignedRows(
        profiles.map((p) => [p.name, `${p.clockGHz} GHz`, p.description]),
        ["left", "right", "left"],
      )));
    }
    return EXIT_OK;
  },
};

/** Every line of `text` indented two spaces, as the lists under a topic's title. */
function indent(text: string): string {
  return text.split("\n").map((line) => `  ${line}`).join("\n");
}
