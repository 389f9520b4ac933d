/**
 * The subcommands: run, compare, validate, list, suite.
 *
 * @module
 */

import { join } from "node:path";
import { compareSummaries, renderComparison } from "../report/compare.ts";
import { renderSummary } from "../report/text.ts";
import { DESIGN_NAMES, DESIGNS, PLATFORMS, SHIPPED_PROFILES } from "../scenario/catalog.ts";
import {
  type LoadedScenario,
  loadScenario,
  resolveProfileRef,
  ScenarioError,
} from "../scenario/load.ts";
import { runMicrobenchmarks } from "../calibrate/microbenchmarks.ts";
import { importVmexit, parseVmexitOutput } from "../calibrate/import_vmexit.ts";
import { renderCalibration } from "../report/calibration_text.ts";
import { writeFileAtomic } from "../report/write.ts";
import { DEFAULT_PROFILE } from "../profiles/mod.ts";
import { resolveProfile } from "../host/profile.ts";
import { shippedProfile } from "../profiles/mod.ts";
import { flagHelp, type FlagSpec, parse, parseSeed, requireFile } from "./args.ts";
import { EXIT_INVALID, EXIT_OK, UsageError } from "./errors.ts";
import { execute } from "./execute.ts";

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

const REPORTS_DIR = "reports";
const SCENARIOS_DIR = "scenarios";

const outFlag: FlagSpec = {
  type: "string",
  value: "<dir>",
  doc: `where reports are written (default ${REPORTS_DIR}/)`,
};
const seedFlag: FlagSpec = {
  type: "string",
  value: "<n>",
  doc: "use this seed instead of the scenario's",
};
const jsonFlag: FlagSpec = { type: "boolean", doc: "print JSON instead of tables" };

/** Prints a command's help. */
export function commandHelp(command: Command): string {
  return `${command.summary}\n\nUsage: cvmsim ${command.usage}\n\nFlags:\n${
    flagHelp(command.flags)
  }`;
}

/** Loads a scenario for a command, turning a missing file into a usage error. */
function load(command: string, file: string | undefined, designs?: string[], seed?: number) {
  return loadScenario(requireFile(command, file, "scenario file"), { designs, seed });
}

function designList(command: string, value: string | boolean | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const names = String(value).split(",").map((name) => name.trim()).filter((name) => name !== "");
  if (names.length === 0) throw new UsageError(`cvmsim ${command}: --designs needs design names`);
  return names;
}

const run: Command = {
  name: "run",
  usage: "run <scenario.json> [--design <name>] [--seed <n>] [--json] [--out <dir>]",
  summary: "Run a scenario under each of its designs (or one) and report where the time went.",
  flags: {
    design: { type: "string", value: "<name>", doc: "run only this design" },
    seed: seedFlag,
    json: jsonFlag,
    out: outFlag,
  },
  run(args, io) {
    const { values, positionals } = parse("run", args, this.flags);
    if (positionals.length > 1) {
      throw new UsageError(`cvmsim run: expected one scenario file, got ${positionals.length}`);
    }
    const design = values.design === undefined ? undefined : [String(values.design)];
    const loaded = load("run", positionals[0], design, parseSeed("run", values.seed));
    const outDir = String(values.out ?? REPORTS_DIR);
    const summaries = loaded.scenario.designs.map((name) => {
      const executed = execute(loaded, name, outDir);
      if (values.json !== true) {
        io.out(renderSummary(executed.summary));
        io.out(`\nreport: ${executed.dir}\n`);
      }
      return executed.summary;
    });
    if (values.json === true) {
      io.out(JSON.stringify(summaries.length === 1 ? summaries[0] : summaries, null, 2));
    }
    return EXIT_OK;
  },
};

const compare: Command = {
  name: "compare",
  usage: "compare <scenario.json> [--designs <a,b,...>] [--seed <n>] [--json] [--out <dir>]",
  summary: "Run one scenario under several designs; one table with deltas against the first.",
  flags: {
    designs: {
      type: "string",
      value: "<a,b,...>",
      doc: "designs to compare, baseline first (default: the scenario's designs)",
    },
    seed: seedFlag,
    json: jsonFlag,
    out: outFlag,
  },
  run(args, io) {
    const { values, positionals } = parse("compare", args, this.flags);
    if (positionals.length > 1) {
      throw new UsageError(`cvmsim compare: expected one scenario file, got ${positionals.length}`);
    }
    const designs = designList("compare", values.designs);
    const loaded = load("compare", positionals[0], designs, parseSeed("compare", values.seed));
    if (loaded.scenario.designs.length < 2) {
      throw new UsageError(
        `cvmsim compare: needs at least two designs; ${loaded.scenario.name} lists ` +
          `${loaded.scenario.designs.join(", ")}; pass --designs a,b`,
      );
    }
    const outDir = String(values.out ?? REPORTS_DIR);
    const executed = loaded.scenario.designs.map((name) => execute(loaded, name, outDir));
    const comparison = compareSummaries(executed.map((e) => e.summary));
    if (values.json === true) {
      io.out(JSON.stringify({ ...comparison, reports: executed.map((e) => e.dir) }, null, 2));
    } else {
      io.out(renderComparison(comparison));
      io.out(`\nreports: ${executed.map((e) => e.dir).join(", ")}`);
    }
    return EXIT_OK;
  },
};

const validate: Command = {
  name: "validate",
  usage: "validate <scenario.json>... [--json]",
  summary: "Check scenario files; list every problem with its JSON path.",
  flags: { json: jsonFlag },
  run(args, io) {
    const { values, positionals } = parse("validate", args, this.flags);
    if (positionals.length === 0) throw new UsageError("cvmsim validate: missing scenario files");
    for (const file of positionals) requireFile("validate", file, "scenario file");
    const results = positionals.map((file) => {
      try {
        const loaded = loadScenario(file);
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

/** Scenario files in `dir`, sorted by name. */
function scenarioFiles(dir: string): string[] {
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

const LIST_TOPICS = ["scenarios", "designs", "profiles"] as const;

const list: Command = {
  name: "list",
  usage: "list [scenarios|designs|profiles] [--json] [--scenarios <dir>]",
  summary: "List shipped scenarios, designs and cost profiles.",
  flags: {
    json: jsonFlag,
    scenarios: {
      type: "string",
      value: "<dir>",
      doc: `scenario directory (default ${SCENARIOS_DIR}/)`,
    },
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
    const firstSentence = (text: string) => (/^[^.]*\.?/.exec(text)?.[0] ?? text).slice(0, 100);
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
      for (const d of designs) {
        const splits = d.splits.length > 0 ? ` [${d.splits.join(", ")}]` : "";
        io.out(`  ${d.name.padEnd(24)} ${d.summary}${splits}`);
      }
    }
    if (wanted("profiles")) {
      io.out("Profiles");
      for (const p of profiles) {
        io.out(`  ${p.name.padEnd(24)} ${p.clockGHz} GHz  ${p.description}`);
      }
    }
    return EXIT_OK;
  },
};

const suite: Command = {
  name: "suite",
  usage: "suite [--scenarios <dir>] [--out <dir>]",
  summary: "Run every shipped scenario under each of its designs and write the reports.",
  flags: {
    scenarios: {
      type: "string",
      value: "<dir>",
      doc: `scenario directory (default ${SCENARIOS_DIR}/)`,
    },
    out: outFlag,
  },
  run(args, io) {
    const { values, positionals } = parse("suite", args, this.flags);
    if (positionals.length > 0) {
      throw new UsageError(`cvmsim suite: unexpected argument ${positionals[0]}`);
    }
    const dir = String(values.scenarios ?? SCENARIOS_DIR);
    const outDir = String(values.out ?? REPORTS_DIR);
    const files = scenarioFiles(dir);
    if (files.length === 0) throw new UsageError(`cvmsim suite: no scenario files in ${dir}/`);
    const loaded: LoadedScenario[] = [];
    let invalid = 0;
    for (const file of files) {
      try {
        loaded.push(loadScenario(file));
      } catch (error) {
        if (!(error instanceof ScenarioError)) throw error;
        io.err(error.message);
        invalid++;
      }
    }
    const rows: string[] = [];
    let reports = 0;
    for (const scenario of loaded) {
      for (const design of scenario.scenario.designs) {
        const { summary, info } = execute(scenario, design, outDir);
        reports++;
        rows.push(
          `  ${summary.scenario.name.padEnd(28)} ${design.padEnd(24)} ` +
            `${summary.run.simulatedMs.toFixed(3).padStart(12)} ms simulated  ` +
            `${String(summary.totals.exits).padStart(10)} exits  ${
              info.wallMs.toFixed(0).padStart(6)
            } ms wall`,
        );
      }
    }
    io.out(rows.join("\n"));
    io.out(`\n${reports} reports written to ${outDir}/`);
    return invalid > 0 ? EXIT_INVALID : EXIT_OK;
  },
};

const calibrate: Command = {
  name: "calibrate",
  usage: "calibrate [--profile <name|file.json>] [--json]\n" +
    "       cvmsim calibrate --import <vmexit-output.txt> [--base <profile>] [--name <name>] [--out <file.json>]",
  summary: "Show a profile's every cost and source, and reproduce the kvm-unit-tests vmexit " +
    "microbenchmarks on it; or build a profile from your own vmexit output.",
  flags: {
    profile: { type: "string", value: "<name|file>", doc: "profile to show (default intel-vmx)" },
    json: jsonFlag,
    import: {
      type: "string",
      value: "<file>",
      doc: "kvm-unit-tests vmexit output to build a profile from",
    },
    base: {
      type: "string",
      value: "<profile>",
      doc: "with --import: profile to refine (default intel-vmx)",
    },
    name: {
      type: "string",
      value: "<name>",
      doc: "with --import: the new profile's name (default my-host)",
    },
    out: {
      type: "string",
      value: "<file>",
      doc: "with --import: write the profile here (default: print it)",
    },
  },
  run(args, io) {
    const { values, positionals } = parse("calibrate", args, this.flags);
    if (positionals.length > 0) {
      throw new UsageError(`cvmsim calibrate: unexpected argument ${positionals[0]}`);
    }
    if (values.import !== undefined) return importProfile(values, io);
    for (const flag of ["base", "name", "out"]) {
      if (values[flag] !== undefined) {
        throw new UsageError(`cvmsim calibrate: --${flag} only goes with --import`);
      }
    }
    const profile = resolveProfileRef(String(values.profile ?? DEFAULT_PROFILE));
    const results = runMicrobenchmarks(profile);
    if (values.json === true) {
      io.out(JSON.stringify({ profile, microbenchmarks: results }, null, 2));
    } else {
      io.out(renderCalibration(profile, results));
    }
    return EXIT_OK;
  },
};

function importProfile(values: Record<string, string | boolean | undefined>, io: Io): number {
  const file = requireFile("calibrate", String(values.import), "vmexit output file");
  const base = String(values.base ?? DEFAULT_PROFILE);
  if (shippedProfile(base) === undefined) {
    const names = SHIPPED_PROFILES.map((p) => p.name);
    throw new UsageError(
      `cvmsim calibrate: --base expects one of ${names.join(", ")}, got ${JSON.stringify(base)}`,
    );
  }
  const name = String(values.name ?? "my-host");
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(name)) {
    throw new UsageError(
      `cvmsim calibrate: --name expects lowercase letters, digits, '.', '_' and '-', got ${
        JSON.stringify(name)
      }`,
    );
  }
  const parsed = parseVmexitOutput(Deno.readTextFileSync(file));
  if (parsed.results.size === 0) {
    throw new UsageError(
      `cvmsim calibrate: no vmexit results in ${file} (expected lines like "cpuid 1027")`,
    );
  }
  const { profile, warnings } = importVmexit(parsed.results, { base, name, source: file });
  const text = JSON.stringify(profile, null, 2) + "\n";
  for (const warning of warnings) io.err(`warning: ${warning}`);
  if (parsed.ignored.length > 0) {
    io.err(`not used (cvmsim does not reproduce them): ${parsed.ignored.join(", ")}`);
  }
  if (values.out !== undefined) {
    writeFileAtomic(String(values.out), text);
    io.out(
      `wrote ${values.out}: ${Object.keys(profile.costs).length} costs set from ` +
        `${parsed.results.size} tests; use it with "profile": "${values.out}"`,
    );
  } else {
    io.out(text.trimEnd());
  }
  return EXIT_OK;
}

/** Every subcommand. */
export const COMMANDS: readonly Command[] = [run, compare, validate, list, suite, calibrate];

export { DESIGN_NAMES };
