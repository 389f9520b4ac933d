import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { createApp } from "../../src/server/app.ts";
import type { Summary } from "../../src/report/summary.ts";
import { IDS, makeReports } from "./fixtures.ts";

const dir = makeReports();
const app = createApp({ reportsDir: dir });

async function get(
  path: string,
): Promise<{ status: number; body: unknown; text: string; type: string }> {
  const response = await app.request(path);
  const text = await response.text();
  let body: unknown = undefined;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, body, text, type: response.headers.get("content-type") ?? "" };
}

Deno.test("the report list shows every report with its headline figures", async () => {
  const { status, body } = await get("/api/reports");
  strictEqual(status, 200);
  const reports = body as { id: string; design: string; exits: number; hasTimeline: boolean }[];
  deepStrictEqual(reports.map((r) => r.id), [IDS.kernel, IDS.vmm]);
  ok(reports.every((r) => r.exits > 0 && r.hasTimeline));
});

Deno.test("a report's summary and CSV tables are served", async () => {
  const summary = await get(`/api/reports/${IDS.vmm}`);
  strictEqual(summary.status, 200);
  strictEqual((summary.body as { design: { name: string } }).design.name, "vmx.io-in-vmm");
  const csv = await get(`/api/reports/${IDS.vmm}/tables/exits.csv`);
  strictEqual(csv.status, 200);
  ok(csv.type.startsWith("text/csv"));
  ok(csv.text.startsWith("reason,exits\r\n"));
  strictEqual((await get(`/api/reports/${IDS.vmm}/tables/secrets.csv`)).status, 400);
});

Deno.test("timeline windows: spans when few, per-pixel aggregates when many", async () => {
  const meta = (await get(`/api/reports/${IDS.kernel}/timeline/meta`)).body as {
    window: { startCycles: number; endCycles: number };
    lanes: { name: string }[];
  };
  const whole = (await get(`/api/reports/${IDS.kernel}/timeline?maxSpans=100&buckets=200`))
    .body as { aggregated: boolean; buckets: { cells: string }[]; spanCount: number };
  strictEqual(whole.aggregated, true);
  ok(whole.spanCount > 100);
  strictEqual(whole.buckets.length, meta.lanes.length);
  strictEqual(whole.buckets[0].cells.length, 400);
  const narrow = (await get(`/api/reports/${IDS.kernel}/timeline?from=0&to=20000&lanes=0,1`))
    .body as { aggregated: boolean; steps: number[][]; lanes: number[] };
  strictEqual(narrow.aggregated, false);
  deepStrictEqual(narrow.lanes, [0, 1]);
  ok(narrow.steps.length > 0);
  for (const [lane, , , start, duration] of narrow.steps) {
    ok(lane === 0 || lane === 1);
    ok(start <= 20000 && start + duration >= 0);
  }
});

Deno.test("bad timeline queries get 400 with a message", async () => {
  for (
    const query of [
      "from=abc",
      "from=100&to=50",
      "lanes=0,999",
      "lanes=x",
      "buckets=0",
      "buckets=1.5",
      "maxSpans=-1",
    ]
  ) {
    const { status, body } = await get(`/api/reports/${IDS.kernel}/timeline?${query}`);
    strictEqual(status, 400, query);
    ok(typeof (body as { error: string }).error === "string", query);
  }
});

Deno.test("unknown reports are 404 and nothing outside the reports directory is read", async () => {
  const outside = Deno.makeTempDirSync({ prefix: "cvmsim-outside-" });
  Deno.writeTextFileSync(
    `${outside}/summary.json`,
    JSON.stringify({ schemaVersion: 1, scenario: {} }),
  );
  Deno.symlinkSync(outside, `${dir}/escape`);
  Deno.mkdirSync(`${dir}/sneaky`);
  Deno.symlinkSync(`${outside}/summary.json`, `${dir}/sneaky/summary.json`);
  try {
    for (
      const path of [
        "/api/reports/nope",
        "/api/reports/..",
        "/api/reports/%2e%2e",
        "/api/reports/..%2F..%2Fetc",
        "/api/reports/%2Fetc%2Fpasswd",
        "/api/reports/a%2F..%2F..",
        "/api/reports/escape",
        "/api/reports/sneaky",
        `/api/reports/${IDS.kernel}%2F..%2F..%2F..`,
        "/api/reports/escape/timeline",
        "/static/..%2F..%2Fapp.ts",
        "/static/report.html",
      ]
    ) {
      const { status, text } = await get(path);
      strictEqual(status, 404, path);
      ok(!text.includes("schemaVersion"), `${path} leaked a file`);
      ok(!text.includes("    at "), `${path} leaked a stack trace`);
    }
    // The symlinked directories are not listed as reports either.
    const listed = (await get("/api/reports")).body as { id: string }[];
    ok(listed.every((r) => r.id !== "escape" && r.id !== "sneaky"));
  } finally {
    Deno.removeSync(`${dir}/escape`);
    Deno.removeSync(`${dir}/sneaky`, { recursive: true });
    Deno.removeSync(outside, { recursive: true });
  }
});

Deno.test("the Perfetto trace downloads as valid JSON", async () => {
  const response = await app.request(`/api/reports/${IDS.vmm}/trace.json`);
  strictEqual(response.status, 200);
  ok(response.headers.get("content-disposition")?.includes("attachment"));
  const trace = await response.json();
  ok(trace.traceEvents.length > 100);
});

Deno.test("compare returns per-design rows with the baseline first", async () => {
  const { status, body } = await get(`/api/compare?ids=${IDS.kernel},${IDS.vmm}`);
  strictEqual(status, 200);
  const comparison = body as { designs: string[]; rows: { metric: string; values: number[] }[] };
  deepStrictEqual(comparison.designs, ["vmx.io-in-kernel", "vmx.io-in-vmm"]);
  const mean = comparison.rows.find((r) => r.metric === "pio-read mean")!;
  ok(mean.values[1] > mean.values[0]);
  strictEqual((await get(`/api/compare?ids=${IDS.kernel}`)).status, 400);
  strictEqual((await get(`/api/compare?ids=${IDS.kernel},nope`)).status, 404);
});

Deno.test("compare measures against the baseline asked for, and names the choices", async () => {
  const { status, body } = await get(
    `/api/compare?ids=${IDS.kernel},${IDS.vmm}&baseline=vmx.io-in-vmm`,
  );
  strictEqual(status, 200);
  const comparison = body as {
    designs: string[];
    reports: string[];
    differences: string[][];
    primitiveDomains: Record<string, string>;
  };
  deepStrictEqual(comparison.designs, ["vmx.io-in-vmm", "vmx.io-in-kernel"]);
  deepStrictEqual(comparison.reports, [IDS.vmm, IDS.kernel]);
  deepStrictEqual(comparison.differences[0], []);
  ok(comparison.differences[1].length > 0, "the kernel design differs in its I/O choice");
  strictEqual(comparison.primitiveDomains.VMEXIT, "kvm");
  strictEqual(comparison.primitiveDomains.GUEST, "guest");
  const wrong = await get(`/api/compare?ids=${IDS.kernel},${IDS.vmm}&baseline=tdx.upstream`);
  strictEqual(wrong.status, 400);
  ok((wrong.body as { error: string }).error.includes("vmx.io-in-kernel, vmx.io-in-vmm"));
});

Deno.test("scenario cards group the runs of a scenario with its headline metric", async () => {
  const { status, body } = await get("/api/scenarios");
  strictEqual(status, 200);
  const cards = body as {
    scenario: string;
    baseline: string;
    headline: { metric: string; lowerIsBetter: boolean };
    runs: { id: string; design: string; value: number | null }[];
  }[];
  deepStrictEqual(cards.map((c) => c.scenario), ["fixture"]);
  const [card] = cards;
  strictEqual(card.baseline, "vmx.io-in-kernel");
  // A loop of exits is fixed work: the answer is the time it took.
  deepStrictEqual(card.headline, {
    metric: "time to finish the work",
    unit: "ms",
    lowerIsBetter: true,
  });
  deepStrictEqual(card.runs.map((r) => r.id), [IDS.kernel, IDS.vmm]);
  const [kernel, vmm] = card.runs.map((r) => r.value!);
  const summary = (id: string) => get(`/api/reports/${id}`).then((r) => r.body as Summary);
  strictEqual(kernel, (await summary(IDS.kernel)).run.simulatedMs);
  ok(vmm > kernel, `userspace I/O takes longer: ${vmm} vs ${kernel}`);
});

Deno.test("pages, assets and chart.js are served by the app itself", async () => {
  for (const path of ["/", `/reports/${IDS.kernel}`, "/compare?ids=a,b"]) {
    const { status, type, text } = await get(path);
    strictEqual(status, 200, path);
    ok(type.startsWith("text/html"), path);
    ok(text.includes("<main>"), path);
  }
  for (
    const file of ["app.css", "common.js", "list.js", "report.js", "timeline.js", "compare.js"]
  ) {
    strictEqual((await get(`/static/${file}`)).status, 200, file);
  }
  const chart = await get("/vendor/chart.umd.js");
  strictEqual(chart.status, 200);
  ok(chart.text.includes("Chart"));
  strictEqual((await get("/nowhere")).status, 404);
});

Deno.test("sweeps are listed and served with their CSV; the sweep page loads", async () => {
  const list = await get("/api/sweeps");
  strictEqual(list.status, 200);
  const sweeps = list.body as { id: string; scenario: string; points: number; params: string[] }[];
  strictEqual(sweeps.length, 1);
  deepStrictEqual(
    [sweeps[0].scenario, sweeps[0].points, sweeps[0].params],
    ["fixture-sweep", 12, ["guests[0].vcpus"]],
  );
  const sweep = await get(`/api/sweeps/${sweeps[0].id}`);
  strictEqual(sweep.status, 200);
  const points = (sweep.body as { points: { metrics: Record<string, number> }[] }).points;
  ok(points.every((p) => p.metrics["latency.pio-read.mean"] > 0));
  const csv = await get(`/api/sweeps/${sweeps[0].id}/sweep.csv`);
  ok(csv.type.startsWith("text/csv"));
  strictEqual(csv.text.trim().split("\n").length, 13);
  strictEqual((await get(`/api/sweeps/${IDS.kernel}`)).status, 404, "a report is not a sweep");
  strictEqual((await get("/api/sweeps/..%2F..%2Fetc")).status, 404);
  const page = await get(`/sweeps/${sweeps[0].id}`);
  strictEqual(page.status, 200);
  ok(page.text.includes("sweep.js"));
  strictEqual((await get("/static/sweep.js")).status, 200);
});
