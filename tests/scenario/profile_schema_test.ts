/**
 * docs/profile.schema.json, checked with Ajv (draft 2020-12): a profile `calibrate --import`
 * writes and the documented example pass it, known-bad ones fail it, and the loader accepts
 * `$schema` in a profile file while still refusing other unknown fields.
 */
import { ok, strictEqual } from "node:assert/strict";
import { Ajv2020 } from "ajv/dist/2020.js";
import { importVmexit, parseVmexitOutput } from "../../src/calibrate/import_vmexit.ts";
import { checkProfileFile } from "../../src/scenario/profile_file.ts";
import type { Issue } from "../../src/scenario/schema.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const ajv = new Ajv2020({ strict: true, allErrors: true, logger: false });
ajv.addKeyword({ keyword: "patternErrorMessage", schemaType: "string" });
const validate = ajv.compile(
  JSON.parse(Deno.readTextFileSync(`${ROOT}docs/profile.schema.json`)),
);
const errors = (json: unknown) => validate(json) ? "" : JSON.stringify(validate.errors);

/** The profile `calibrate --import` makes from the shipped vmexit fixture, as its JSON. */
function imported(): Record<string, unknown> {
  const parsed = parseVmexitOutput(
    Deno.readTextFileSync(`${ROOT}tests/fixtures/vmexit_output.txt`),
  );
  const { profile } = importVmexit(parsed.results, {
    base: "intel-vmx",
    name: "my-host",
    source: "vmexit_output.txt",
  });
  return JSON.parse(JSON.stringify(profile));
}

const EXAMPLE = {
  name: "my-host",
  base: "intel-vmx",
  description: "Xeon 8480+, kernel 6.12, mitigations on",
  costs: { VMEXIT: { cycles: 520, kind: "measured", basis: "perf kvm stat on my host" } },
};

Deno.test("profiles the tools write and the docs show pass the profile JSON Schema", () => {
  strictEqual(errors(imported()), "");
  strictEqual(errors(EXAMPLE), "");
  strictEqual(errors({ ...EXAMPLE, $schema: "../docs/profile.schema.json" }), "");
});

Deno.test("the profile JSON Schema refuses what the loader refuses, at the same place", () => {
  const cases: [string, Record<string, unknown>][] = [
    ["an unknown field", { ...EXAMPLE, colour: "blue" }],
    ["no name", { ...EXAMPLE, name: undefined }],
    ["a name with capitals", { ...EXAMPLE, name: "My-Host" }],
    ["a platform not offered", { ...EXAMPLE, platform: "arm" }],
    ["a clock out of range", { ...EXAMPLE, clockGHz: 100 }],
  ];
  for (const [what, json] of cases) {
    const clean = JSON.parse(JSON.stringify(json));
    ok(errors(clean) !== "", `the JSON Schema accepted ${what}`);
    const issues: Issue[] = [];
    checkProfileFile(clean, "", issues);
    ok(issues.length > 0, `the loader accepted ${what}`);
  }
});

Deno.test("a profile file may name its $schema; other unknown top-level fields stay refused", () => {
  const accepted: Issue[] = [];
  ok(checkProfileFile({ ...EXAMPLE, $schema: "profile.schema.json" }, "", accepted) !== undefined);
  strictEqual(accepted.length, 0, JSON.stringify(accepted));
  const refused: Issue[] = [];
  checkProfileFile({ ...EXAMPLE, $schemas: "x" }, "", refused);
  ok(refused.some((issue) => issue.path === "$schemas"), JSON.stringify(refused));
});
