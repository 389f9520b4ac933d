/**
 * How much of each report's run its timeline holds, over a reports directory: how many
 * reports show under 10% of their run, and how many the whole of it (the figures in
 * docs/dashboard.md, "Why these limits"), and the directory's timeline bytes.
 *
 * ```sh
 * deno task start --out /tmp/r --timeline-spans 300000   # then, once it says all are ready:
 * deno run --allow-read bench/timeline_coverage.ts /tmp/r
 * ```
 *
 * @module
 */

import { join } from "node:path";
import { decodeTimeline } from "../src/report/timeline_file.ts";

const dir = Deno.args[0] ?? "reports";
let reports = 0, under = 0, whole = 0, bytes = 0;
for (const entry of Deno.readDirSync(dir)) {
  const file = join(dir, entry.name, "timeline.bin");
  let raw: Uint8Array;
  try {
    raw = Deno.readFileSync(file);
  } catch {
    continue; // no timeline (or not a report)
  }
  const { meta } = decodeTimeline(raw);
  const summary = JSON.parse(Deno.readTextFileSync(join(dir, entry.name, "summary.json")));
  const run = summary.run.simulatedCycles as number;
  const end = Math.min(meta.window.endCycles, meta.truncatedAtCycles ?? Infinity, run);
  const share = run > 0 ? (end - Math.max(0, meta.window.startCycles)) / run : 1;
  reports++;
  bytes += raw.byteLength;
  if (share < 0.1) under++;
  if (share >= 0.999) whole++;
}
console.log(
  `${reports} reports with a timeline: ${under} hold under 10% of their run, ${whole} all of it; ` +
    `${(bytes / 1e6).toFixed(0)} MB of timeline.bin`,
);
