/**
 * `start`'s report producer and its span limit: reports record the limit `start` was
 * given, a report is reused only when it was made with the same limit, and a bad
 * `--timeline-spans` is a usage problem.
 */
import { ok, rejects, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { ReportProducer } from "../../src/cli/producer.ts";
import { startCommand } from "../../src/cli/serve.ts";
import { UsageError } from "../../src/cli/errors.ts";
import { scenario } from "../helpers.ts";

const ROOT = new URL("../..", import.meta.url).pathname;

Deno.test({
  name: "start's span limit: written into each report, and part of what makes a report reusable",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = Deno.makeTempDirSync({ prefix: "cvmsim-producer-" });
    const file = join(dir, "tiny.json");
    Deno.writeTextFileSync(
      file,
      JSON.stringify(scenario({ name: "tiny", designs: ["vmx.io-in-kernel"] })),
    );
    const reportsDir = join(dir, "reports");
    Deno.mkdirSync(reportsDir);
    const report = join(reportsDir, "tiny--vmx.io-in-kernel--seed7");
    const produce = async (timelineSpans: number) => {
      const lines: string[] = [];
      // Not a literal, so it suits the options with and without a separate problem sink.
      const options = {
        files: [file],
        reportsDir,
        jobs: 1,
        timelineSpans,
        log: (line: string) => lines.push(line),
        problem: (line: string) => lines.push(line),
      };
      const producer = new ReportProducer(options);
      await producer.start(ROOT);
      await producer.finished;
      const status = producer.status();
      strictEqual(status.failed.length, 0, lines.join("\n"));
      return status;
    };
    const info = () => JSON.parse(Deno.readTextFileSync(join(report, "run-info.json")));

    strictEqual((await produce(300)).reused, 0);
    strictEqual(info().timeline.maxSpans, 300);
    ok(info().timeline.truncatedAtMs !== null, "300 spans do not hold the run");
    // The same limit again: the report is up to date.
    strictEqual((await produce(300)).reused, 1);
    // Another limit: the report is remade with it.
    strictEqual((await produce(5000)).reused, 0);
    strictEqual(info().timeline.maxSpans, 5000);
    strictEqual(info().timeline.truncatedAtMs, null);
    strictEqual((await produce(5000)).reused, 1);
    // 0: no timeline at all, and none left behind from before.
    strictEqual((await produce(0)).reused, 0);
    strictEqual(info().timeline, undefined);
    ok(!existsSync(join(report, "timeline.bin")));
    Deno.removeSync(dir, { recursive: true });
  },
});

Deno.test("start --timeline-spans takes what run takes; anything else is a usage error", async () => {
  const io = { out() {}, err() {} };
  for (const bad of ["many", "1e6", "2.5", "50000001"]) {
    await rejects(
      Promise.resolve().then(() =>
        startCommand.run(["--scenarios", `${ROOT}scenarios`, "--timeline-spans", bad], io)
      ),
      (error: unknown) =>
        error instanceof UsageError && /--timeline-spans expects an integer/.test(error.message),
      bad,
    );
  }
  ok(startCommand.usage.includes("--timeline-spans"));
});

function existsSync(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
