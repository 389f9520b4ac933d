/**
 * A fuzz worker: takes cases from the pool, writes each to a file in its own temporary
 * directory and runs it (src/fuzz/check.ts); the pool terminates a worker whose case runs
 * past the time bound.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { join } from "node:path";
import { runCase } from "./check.ts";

/** A case sent to a worker. */
export interface CaseMessage {
  index: number;
  text: string;
}

const dir = Deno.makeTempDirSync({ prefix: "cvmsim-fuzz-" });

self.onmessage = async (event: MessageEvent<CaseMessage>) => {
  const { index, text } = event.data;
  const file = join(dir, `case-${index}.json`);
  Deno.writeTextFileSync(file, text);
  try {
    const outcome = await runCase(file, dir);
    self.postMessage({ index, outcome });
  } catch (error) {
    // runCase goes through the CLI's own error handling: anything here is a bug too.
    self.postMessage({
      index,
      outcome: { kind: "failed", why: `threw ${String(error)}`, codes: [-1, -1] },
    });
  } finally {
    Deno.removeSync(file);
    try {
      Deno.removeSync(join(dir, "reports"), { recursive: true });
    } catch {
      // no reports written
    }
  }
};
