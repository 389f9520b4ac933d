/**
 * Generates the reference sections of docs/ from the declarations in code (the scenario
 * schema, the catalogue of primitives, operations, designs and profiles), so the docs
 * cannot drift. Run `deno task docs`; tests/docs_test.ts fails when a section is stale.
 *
 * Generated sections sit between `<!-- generated:NAME begin -->` and
 * `<!-- generated:NAME end -->` markers; everything else in the files is hand-written.
 * Generated files (docs/scenario.schema.json, the scenarios' JSON Schema) are written whole.
 *
 * @module
 */

import { EXIT_REASONS } from "../host/exit_reasons.ts";
import { GUEST_OPERATIONS } from "../host/operations.ts";
import { type ParamSpec, resolveProfile, type TranslationSpec } from "../host/profile.ts";
import { DOMAINS, PRIMITIVE_NAMES, PRIMITIVE_SPECS } from "../host/primitives.ts";
import { DESIGNS, PLATFORMS, SHIPPED_PROFILES, shippedProfile } from "./catalog.ts";
import { PROFILE_FILE_SCHEMA } from "./profile_file.ts";
import { SCENARIO_SCHEMA } from "./scenario_schema.ts";
import { type HoldSpan, LEAVES, MODULE_LOCKS, MODULE_VERSIONS } from "../tdx/module_locks.ts";
import { docsTable } from "./schema.ts";
import { jsonSchemaDocument } from "./json_schema.ts";
import { mappingTable } from "../import/exit_map.ts";

const escape = (text: string) => text.replaceAll("|", "\\|");

/** How long a lock-table row holds its lock, in words. */
const HELD: Record<HoldSpan, string> = {
  call: "the call",
  epoch: "its epoch step",
  stepping: "the zero-step filter, when stepping",
  guest: "until the TD exits",
};

/** Generated sections by file and section name. */
export function generatedSections(): Record<string, Record<string, string>> {
  return {
    "docs/scenarios.md": {
      "scenario-fields": docsTable(SCENARIO_SCHEMA.docs("").slice(1)),
      "operations": [
        "| operation | what the guest does |",
        "|---|---|",
        ...Object.entries(GUEST_OPERATIONS).map(([name, doc]) => `| \`${name}\` | ${doc} |`),
      ].join("\n"),
      "profile-fields": docsTable(PROFILE_FILE_SCHEMA.docs("").slice(1)),
    },
    "docs/import.md": {
      "exit-mapping": [
        "| host | exit reason | imported as | source | what it means, and instead in a TD / SNP guest |",
        "|---|---|---|---|---|",
        ...mappingTable().map((row) =>
          `| ${row.isa.toUpperCase()} | \`${row.reason}\` | ${row.to} | ${escape(row.source)} | ${
            escape(row.note)
          } |`
        ),
      ].join("\n"),
    },
    "docs/designs.md": {
      "designs": PLATFORMS.map((platform) =>
        [
          `### Platform \`${platform.name}\``,
          "",
          platform.description + ".",
          "",
          "Choices:",
          "",
          ...platform.choices.flatMap((choice) => [
            `- \`${choice.id}\`: ${choice.doc}`,
            ...Object.entries(choice.options).map(([name, doc]) => `  - \`${name}\`: ${doc}`),
          ]),
          "",
          "| design | choices | summary |",
          "|---|---|---|",
          ...DESIGNS.filter((d) => d.platform === platform.name).map((d) =>
            `| \`${d.name}\` | ${
              Object.entries(d.choices).map(([k, v]) => `${k}=${v}`).join(", ")
            } | ${escape(d.summary)} |`
          ),
        ].join("\n")
      ).join("\n\n"),
      "tdx-locks": [
        "| leaf | module | operand | mode | held | source |",
        "|---|---|---|---|---|---|",
        ...LEAVES.flatMap((leaf) =>
          MODULE_VERSIONS.flatMap((version) =>
            MODULE_LOCKS[version][leaf].map((row) =>
              `| ${leaf} | ${version} | ${row.operand}${
                row.entry === undefined ? "" : ` (${row.entry})`
              } | ${row.mode}${row.guest ? " (TD side)" : ""} | ${HELD[row.span]} | ${
                escape(row.source)
              } |`
            )
          )
        ),
      ].join("\n"),
    },
    "docs/calibration.md": {
      "primitives": [
        "| primitive | domain | what it is |",
        "|---|---|---|",
        ...PRIMITIVE_NAMES.map((name, id) => {
          const spec = PRIMITIVE_SPECS[id];
          const variable = spec.variable === true ? " (duration from the run)" : "";
          return `| \`${name}\` | ${spec.domain} | ${escape(spec.doc)}${variable} |`;
        }),
      ].join("\n"),
      "profiles": SHIPPED_PROFILES.map((spec) => {
        const profile = resolveProfile(spec, shippedProfile);
        return [
          `### \`${profile.name}\`: ${profile.description}`,
          "",
          `Clock ${profile.clockGHz} GHz (${escape(profile.clockBasis)}). Host mitigations ` +
          `${profile.mitigations ? "on" : "off"}.`,
          "",
          "| primitive | cycles | ns | kind | basis |",
          "|---|---:|---:|---|---|",
          ...Object.entries(profile.costs).map(([name, cost]) =>
            `| \`${name}\` | ${cost.cycles}${
              cost.p99Cycles === undefined ? "" : ` (p99 ${cost.p99Cycles})`
            } | ${(cost.cycles / profile.clockGHz).toFixed(1)} | ${cost.kind} | ${
              escape(cost.basis)
            } |`
          ),
          "",
          "Idle states of the host's CPUs (a woken thread pays the exit of the state its " +
          "pCPU reached; `host.cpuIdle` chooses which are allowed):",
          "",
          "| state | exit (cycles) | target residency (cycles) | flushes caches | deep | basis |",
          "|---|---:|---:|---|---|---|",
          ...profile.idleStates.map((state) =>
            `| ${state.name} | ${state.exitCycles} | ${state.residencyCycles} | ${
              state.flushesCaches ? "yes" : "no"
            } | ${state.deep ? "yes" : "no"} | ${escape(state.basis)} |`
          ),
          ...translationDocs(profile.translationSpec),
        ].join("\n");
      }).join("\n\n"),
      "exit-reasons": [
        "| exit reason | cause |",
        "|---|---|",
        ...Object.entries(EXIT_REASONS).map(([name, doc]) => `| \`${name}\` | ${doc} |`),
      ].join("\n"),
      "domains": DOMAINS.map((d) => `\`${d}\``).join(", "),
    },
  };
}

/** The translation model's figures of a profile, as a markdown table (none: no lines). */
function translationDocs(spec: TranslationSpec | undefined): string[] {
  if (spec === undefined) return [];
  const arrays = (level: TranslationSpec["l1"]) =>
    level.map((a) => `${a.entries} × ${a.sizes.join("/")}`).join(", ");
  const figures: [string, ParamSpec | undefined][] = [
    ["STLB hit (cycles)", spec.stlbHitCycles],
    ["walk reference the paging-structure caches serve (cycles)", spec.pwcHitCycles],
    ["L2 per core (bytes)", spec.l2Bytes],
    ["LLC (bytes)", spec.llcBytes],
    ["cores sharing the LLC", spec.llcCores],
    ["L2 hit (cycles)", spec.l2Cycles],
    ["LLC hit (cycles)", spec.llcCycles],
    ["DRAM (cycles)", spec.memoryCycles],
    ["a line of a prefetched stream (cycles)", spec.streamLineCycles],
    ["RMP entry (bytes)", spec.rmpEntryBytes],
  ];
  return [
    "",
    "Address translation (src/host/translation.ts, docs/host-model.md): L1 dTLB " +
    `${arrays(spec.l1)}; STLB ${arrays(spec.stlb)} (${escape(spec.tlbBasis)}).`,
    "",
    "| figure | value | kind | basis |",
    "|---|---:|---|---|",
    ...figures.flatMap(([name, figure]) =>
      figure === undefined
        ? []
        : [`| ${name} | ${figure.value} | ${figure.kind} | ${escape(figure.basis)} |`]
    ),
  ];
}

/** A declaration's JSON Schema as a generated file's text (2-space JSON, final newline). */
function jsonSchemaText(...args: Parameters<typeof jsonSchemaDocument>): string {
  return `${JSON.stringify(jsonSchemaDocument(...args), null, 2)}\n`;
}

/** Files generated whole, by path. */
export function generatedFiles(): Record<string, string> {
  return {
    "docs/scenario.schema.json": jsonSchemaText(SCENARIO_SCHEMA, {
      title: "cvmsim scenario",
      comment: "Generated from src/scenario/scenario_schema.ts by `deno task docs`; do not edit. " +
        "Loading a scenario also checks rules across fields that this schema does not.",
    }),
    "docs/profile.schema.json": jsonSchemaText(PROFILE_FILE_SCHEMA, {
      title: "cvmsim cost profile",
      comment: "Generated from src/scenario/profile_file.ts by `deno task docs`; do not edit. " +
        "Loading a profile also checks what this schema cannot (cost names, its base).",
    }),
  };
}

/** Replaces the named generated section in `text`. */
export function replaceSection(text: string, name: string, content: string): string {
  const begin = `<!-- generated:${name} begin -->`;
  const end = `<!-- generated:${name} end -->`;
  const start = text.indexOf(begin);
  const stop = text.indexOf(end);
  if (start < 0 || stop < start) {
    throw new Error(`Cannot update section ${name}: markers ${begin} … ${end} not found`);
  }
  return `${text.slice(0, start + begin.length)}\n${content}\n${text.slice(stop)}`;
}

/** Rewrites every generated section in place; returns the files that changed. */
export function updateDocs(root = "."): string[] {
  const changed: string[] = [];
  for (const [file, sections] of Object.entries(generatedSections())) {
    const path = `${root}/${file}`;
    const before = Deno.readTextFileSync(path);
    let after = before;
    for (const [name, content] of Object.entries(sections)) {
      after = replaceSection(after, name, content);
    }
    if (after !== before) {
      Deno.writeTextFileSync(path, after);
      changed.push(file);
    }
  }
  for (const [file, text] of Object.entries(generatedFiles())) {
    const path = `${root}/${file}`;
    let before: string | undefined;
    try {
      before = Deno.readTextFileSync(path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    if (before !== text) {
      Deno.writeTextFileSync(path, text);
      changed.push(file);
    }
  }
  return changed;
}

if (import.meta.main) {
  const changed = updateDocs();
  console.log(changed.length === 0 ? "docs are up to date" : `updated ${changed.join(", ")}`);
}
