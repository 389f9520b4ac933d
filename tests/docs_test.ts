import { strictEqual } from "node:assert/strict";
import { generatedSections, replaceSection } from "../src/scenario/docs.ts";

Deno.test("generated sections of docs/ match the code (run `deno task docs` to update)", () => {
  for (const [file, sections] of Object.entries(generatedSections())) {
    const text = Deno.readTextFileSync(file);
    for (const [name, content] of Object.entries(sections)) {
      strictEqual(replaceSection(text, name, content), text, `${file}: section ${name} is stale`);
    }
  }
});

Deno.test("README shows the two commands CI and users rely on", () => {
  const readme = Deno.readTextFileSync("README.md");
  for (const command of ["deno task start", "deno task test"]) {
    strictEqual(readme.includes(command), true, command);
  }
});
