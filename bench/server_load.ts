/**
 * A bounded load test of the dashboard API from a second process: starts
 * `main.ts serve` on 127.0.0.1 in a child process, then hits it from here with a fixed
 * number of concurrent clients for a fixed time, mixing list, summary and timeline
 * requests. Prints requests/s, p50 and p99 latency, and errors (there must be none).
 *
 * ```sh
 * deno run -A bench/server_load.ts [seconds] [clients]
 * ```
 */

import { BIG_ID, bigReport } from "./fixture_1m.ts";

const seconds = Number(Deno.args[0] ?? 10);
const clients = Number(Deno.args[1] ?? 16);
const dir = bigReport();
const port = 20000 + Math.floor(Math.random() * 20000);
const child = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "-A",
    new URL("../main.ts", import.meta.url).pathname,
    "serve",
    "--reports",
    dir,
    "--port",
    String(port),
  ],
  stdout: "piped",
  stderr: "inherit",
}).spawn();
const base = `http://127.0.0.1:${port}`;
for (let i = 0;; i++) {
  try {
    await (await fetch(`${base}/api/reports`)).arrayBuffer();
    break;
  } catch {
    if (i > 100) throw new Error("server did not start");
    await new Promise((r) => setTimeout(r, 100));
  }
}
const meta = await (await fetch(`${base}/api/reports/${BIG_ID}/timeline/meta`)).json();
const end = meta.truncatedAtCycles ?? meta.window.endCycles;
const paths = [
  "/api/reports",
  `/api/reports/${BIG_ID}`,
  `/api/reports/${BIG_ID}/timeline?buckets=1200`,
];
const latencies: number[] = [];
let errors = 0;
const stopAt = performance.now() + seconds * 1000;
let n = 0;
async function client(id: number): Promise<void> {
  while (performance.now() < stopAt) {
    const k = (n++ + id) % 5;
    const from = Math.floor(((n * 7919) % 1000) / 1000 * end * 0.99);
    const path = k < 3
      ? paths[k]
      : `/api/reports/${BIG_ID}/timeline?from=${from}&to=${
        Math.floor(from + end * 0.005)
      }&buckets=1200`;
    const start = performance.now();
    try {
      const response = await fetch(base + path);
      await response.arrayBuffer();
      if (!response.ok) errors++;
    } catch {
      errors++;
    }
    latencies.push(performance.now() - start);
  }
}
await Promise.all(Array.from({ length: clients }, (_, i) => client(i)));
child.kill("SIGTERM");
await child.status;
latencies.sort((a, b) => a - b);
const pct = (p: number) =>
  latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
console.log(
  `${clients} clients for ${seconds} s: ${latencies.length} requests, ` +
    `${(latencies.length / seconds).toFixed(0)} req/s, p50 ${pct(50).toFixed(1)} ms, ` +
    `p99 ${pct(99).toFixed(1)} ms, errors ${errors}`,
);
if (errors > 0) Deno.exit(1);
