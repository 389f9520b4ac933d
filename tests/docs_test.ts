import { strictEqual } from "node:assert/strict";
import { generatedFiles, generatedSections, replaceSection } from "../src/scenario/docs.ts";

Deno.test("generated sections of docs/ match the code (run `deno task docs` to update)", () => {
  for (const [file, sections] of Object.entries(generatedSections())) {
    const text = Deno.readTextFileSync(file);
    for (const [name, content] of Object.entries(sections)) {
      strictEqual(replaceSection(text, name, content), text, `${file}: section ${name} is stale`);
    }
  }
});

Deno.test("generated files in docs/ match the code (run `deno task docs` to update)", () => {
  const files = Object.entries(generatedFiles());
  strictEqual(files.length > 0, true);
  for (const [file, text] of files) {
    strictEqual(Deno.readTextFileSync(file), text, `${file} is stale`);
    strictEqual(text.endsWith("}\n"), true, `${file}: one trailing newline`);
  }
});

Deno.test("README shows the two commands CI and users rely on", () => {
  const readme = Deno.readTextFileSync("README.md");
  for (const command of ["deno task start", "deno task test"]) {
    strictEqual(readme.includes(command), true, command);
  }
});
