/**
 * Dashboard speed on a report with 1 M timeline spans. Targets: a windowed timeline query
 * answers in under 100 ms; the report page is interactive (timeline drawn) in under 2 s.
 *
 * ```sh
 * deno bench -A bench/server_bench.ts      # API latency per query kind
 * deno run -A bench/server_bench.ts        # p50/p99 of each query, and page load in Chromium
 * ```
 */

import { createApp } from "../src/server/app.ts";
import { BIG_ID, bigReport } from "./fixture_1m.ts";

const dir = bigReport();
const app = createApp({ reportsDir: dir });
const api = `/api/reports/${BIG_ID}/timeline`;
const meta = await (await app.request(`${api}/meta`)).json();
const end = meta.truncatedAtCycles ?? meta.window.endCycles;
const spans = meta.counts.steps + meta.counts.operations + meta.counts.occupancy;

const QUERIES: Record<string, string> = {
  "whole run, aggregated to 1200 px": `${api}?buckets=1200`,
  "1% of the run": `${api}?from=${Math.floor(end * 0.5)}&to=${Math.floor(end * 0.51)}&buckets=1200`,
  "0.05% of the run, 4 lanes": `${api}?from=${Math.floor(end * 0.3)}&to=${
    Math.floor(end * 0.3005)
  }&lanes=16,17,18,19&buckets=1200`,
};

async function timed(path: string): Promise<number> {
  const start = performance.now();
  const response = await app.request(path);
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return performance.now() - start;
}

if (import.meta.main) {
  console.log(
    `report ${BIG_ID}: ${spans.toLocaleString("en-US")} spans, ${meta.lanes.length} lanes`,
  );
  for (const [name, path] of Object.entries(QUERIES)) {
    await timed(path); // warm (the first query loads and indexes the file)
    const times: number[] = [];
    for (let i = 0; i < 40; i++) times.push(await timed(path));
    times.sort((a, b) => a - b);
    console.log(
      `${name.padEnd(34)} p50 ${times[20].toFixed(1)} ms  p99 ${times[39].toFixed(1)} ms`,
    );
  }
  // Page load in Chromium: navigation until the timeline is drawn.
  const { chromium } = await import("playwright-core");
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app.fetch);
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  for (let round = 0; round < 3; round++) {
    const start = performance.now();
    await page.goto(`http://127.0.0.1:${server.addr.port}/reports/${BIG_ID}`);
    await page.waitForFunction(() => {
      const text = (globalThis as unknown as {
        document: { getElementById(id: string): { textContent: string } | null };
      })
        .document.getElementById("timeline-status")?.textContent ?? "";
      return text.includes("lanes") && !text.includes("loading");
    });
    console.log(
      `report page interactive (timeline drawn): ${(performance.now() - start).toFixed(0)} ms`,
    );
  }
  await browser.close();
  await server.shutdown();
} else {
  for (const [name, path] of Object.entries(QUERIES)) {
    await timed(path);
    Deno.bench(`timeline API, 1 M spans: ${name}`, { group: "timeline" }, async () => {
      await timed(path);
    });
  }
}
