/**
 * docs/scenario.schema.json, checked with a real JSON Schema validator (Ajv, draft 2020-12):
 * every shipped scenario passes it, known-bad ones fail it, and on a few thousand fuzzer
 * mutations it agrees with the schema language's own structural check, both ways.
 */
import { ok, strictEqual } from "node:assert/strict";
import { dirname, relative } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { baseScenarios, makeCase } from "../../src/fuzz/fuzz.ts";
import { checkScenario, ScenarioError } from "../../src/scenario/load.ts";
import { SCENARIO_SCHEMA } from "../../src/scenario/scenario_schema.ts";
import { toJsonSchema } from "../../src/scenario/json_schema.ts";
import { type Issue, object, optional, string } from "../../src/scenario/schema.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const SCHEMA_FILE = "docs/scenario.schema.json";

function compileSchema() {
  const warnings: unknown[] = [];
  const logger = {
    log: () => {},
    warn: (...args: unknown[]) => warnings.push(args),
    error: () => {},
  };
  const ajv = new Ajv2020({ strict: true, allErrors: true, logger });
  // VS Code's keyword for a readable pattern message: an annotation, not a constraint.
  ajv.addKeyword({ keyword: "patternErrorMessage", schemaType: "string" });
  const validate = ajv.compile(JSON.parse(Deno.readTextFileSync(`${ROOT}${SCHEMA_FILE}`)));
  strictEqual(warnings.length, 0, `Ajv's strict mode warned: ${JSON.stringify(warnings)}`);
  return validate;
}

const validate = compileSchema();

function schemaErrors(json: unknown): string {
  return validate(json) ? "" : JSON.stringify(validate.errors);
}

/** A shipped scenario to break, parsed afresh each time. */
function vmexit(): Record<string, unknown> {
  return JSON.parse(Deno.readTextFileSync(`${ROOT}scenarios/vmexit.json`));
}

Deno.test("every shipped scenario passes the JSON Schema and names it with a path that resolves", () => {
  const shipped = baseScenarios(ROOT);
  ok(shipped.length > 30, `only ${shipped.length} shipped scenarios found`);
  for (const [file, text] of shipped) {
    const json = JSON.parse(text);
    strictEqual(schemaErrors(json), "", file);
    if (file === "scenarios/imported-vmx-trace.json") {
      // Written byte for byte by `import` (tests/import), which cannot know where the
      // output goes relative to docs/, so it carries no $schema.
      strictEqual(json.$schema, undefined, file);
      continue;
    }
    strictEqual(json.$schema, relative(dirname(`${ROOT}${file}`), `${ROOT}${SCHEMA_FILE}`), file);
  }
});

Deno.test("the simulator accepts $schema and still refuses every other unknown top-level field", () => {
  const scenario = { ...vmexit(), $schema: "anything/at/all.json" };
  strictEqual(checkScenario(scenario, "").scenario.name, "vmexit");
  const withExtra = { ...scenario, $schemas: "../docs/scenario.schema.json" };
  try {
    checkScenario(withExtra, "");
    ok(false, "an unknown field was accepted");
  } catch (error) {
    ok(error instanceof ScenarioError);
    strictEqual(error.issues[0].path, "$schemas");
    ok(error.issues[0].message.includes('did you mean "$schema"'), error.issues[0].message);
  }
  strictEqual(checkScenario(vmexit(), "").scenario.name, "vmexit", "$schema stays optional");
});

Deno.test("the JSON Schema refuses known-bad scenarios, saying where", () => {
  const cases: [string, (s: Record<string, unknown>) => void, string][] = [
    ["an unknown top-level field", (s) => s.nmae = "x", ""],
    ["an unknown design", (s) => s.designs = ["vmx.io-in-kernal"], "/designs/0"],
    ["a design list that is not a list", (s) => s.designs = "vmx.io-in-kernel", "/designs"],
    ["no guests", (s) => delete s.guests, ""],
    ["zero vCPUs", (s) => guest(s).vcpus = 0, "/guests/0/vcpus"],
    ["a fractional vCPU count", (s) => guest(s).vcpus = 1.5, "/guests/0/vcpus"],
    ["too much memory", (s) => guest(s).memoryMiB = 2 ** 23, "/guests/0/memoryMiB"],
    [
      "a zero run length (exclusive minimum)",
      (s) => s.stop = { simulatedMs: 0 },
      "/stop/simulatedMs",
    ],
    ["a name with capitals", (s) => s.name = "VMExit", "/name"],
    ["a name too long", (s) => s.name = "a".repeat(65), "/name"],
    ["an unknown host field", (s) => (s.host = { pcpu: 4 }), "/host"],
    ["an unknown workload kind", (s) => workload(s).kind = "loops", "/guests/0/workloads/0"],
    ["a workload with no kind", (s) => delete workload(s).kind, "/guests/0/workloads/0"],
    [
      "a field of another workload kind",
      (s) => workload(s).ratePerSec = 5,
      "/guests/0/workloads/0",
    ],
    ["an unknown operation", (s) => workload(s).operation = "cpuidd", "/guests/0/workloads/0"],
    ["an unknown choice id", (s) => s.choices = { virtios: "daemon" }, "/choices"],
    ["vCPUs neither all nor a list", (s) => workload(s).vcpus = "some", "/guests/0/workloads/0"],
    ["$schema not a string", (s) => s.$schema = 1, "/$schema"],
  ];
  for (const [what, breakIt, where] of cases) {
    const scenario = vmexit();
    breakIt(scenario);
    ok(!validate(scenario), `the JSON Schema accepted ${what}`);
    ok(
      validate.errors!.some((e) => e.instancePath === where),
      `${what}: no error at "${where}": ${JSON.stringify(validate.errors)}`,
    );
    ok(structuralIssues(scenario).length > 0, `the simulator accepted ${what}`);
  }
});

function guest(scenario: Record<string, unknown>): Record<string, unknown> {
  return (scenario.guests as Record<string, unknown>[])[0];
}

function workload(scenario: Record<string, unknown>): Record<string, unknown> {
  return (guest(scenario).workloads as Record<string, unknown>[])[0];
}

function structuralIssues(json: unknown): Issue[] {
  const issues: Issue[] = [];
  SCENARIO_SCHEMA.check(json, "", issues);
  return issues;
}

Deno.test("on fuzzer mutations the JSON Schema and the schema language agree on the structure", () => {
  const bases = baseScenarios(ROOT);
  let parsed = 0, accepted = 0;
  for (let index = 0; index < 3000; index++) {
    const mutated = makeCase(bases, 16, index);
    let json: unknown;
    try {
      json = JSON.parse(mutated.text);
    } catch {
      continue;
    }
    parsed++;
    const issues = structuralIssues(json);
    const errors = schemaErrors(json);
    if (issues.length === 0) accepted++;
    strictEqual(
      errors === "",
      issues.length === 0,
      `case ${index} (${mutated.base}: ${mutated.what.join("; ")}): the simulator says ` +
        `${JSON.stringify(issues)}, the JSON Schema ${errors || "nothing"}`,
    );
  }
  // Both outcomes must be exercised, or the agreement says nothing.
  ok(
    parsed > 1500 && accepted > 300 && parsed - accepted > 300,
    `${parsed} parsed, ${accepted} accepted`,
  );
});

Deno.test("a declaration JSON Schema cannot express is refused by name, not converted loosely", () => {
  const caseless = object({
    id: optional(string({ pattern: /^[a-z]+$/i, doc: "An id." })),
  }, { doc: "A thing." });
  try {
    toJsonSchema(caseless);
    ok(false, "a pattern with flags was converted");
  } catch (error) {
    ok(String(error).includes("/^[a-z]+$/i has flags JSON Schema cannot express"), String(error));
  }
});
