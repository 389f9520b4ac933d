/// <reference lib="dom" />
/**
 * The dashboard in a real browser (tests/browser/chromium.ts): the front page's cards, a
 * report's charts and timeline, the compare and sweep pages, at 1300 and 800 px.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { basename } from "node:path";
import type { Page } from "playwright-core";
import { execute } from "../../src/cli/execute.ts";
import { load, scenario } from "../helpers.ts";
import { runPoint } from "../../src/sweep/point.ts";
import { sweepFile, sweepIdentity, writeSweep } from "../../src/sweep/report.ts";
import { parseParam, sweepPoints, type SweepSpec } from "../../src/sweep/spec.ts";
import { IDS, makeReports } from "../server/fixtures.ts";
import { paintedPixels, withDashboard } from "./chromium.ts";

const ARTIFACTS = "test-artifacts";

/** How many labels (bars) chart.js has on a canvas. */
function chartLabels(page: Page, id: string): Promise<number> {
  return page.evaluate((canvasId) => {
    // deno-lint-ignore no-explicit-any
    const chart = (globalThis as any).Chart.getChart(document.getElementById(canvasId));
    return chart.data.labels.length;
  }, id);
}

/** The dataset labels of a canvas's chart. */
function chartDatasets(page: Page, id: string): Promise<string[]> {
  return page.evaluate((canvasId) => {
    // deno-lint-ignore no-explicit-any
    const chart = (globalThis as any).Chart.getChart(document.getElementById(canvasId));
    // deno-lint-ignore no-explicit-any
    return chart.data.datasets.map((d: any) => d.label);
  }, id);
}

/**
 * A crossover study (pio-read latency of the userspace VMM against vhost-style in-kernel
 * handling, over geometric iteration counts); returns its report id.
 */
function writeCrossoverSweep(dir: string): string {
  const designs = ["vmx.io-in-kernel", "vmx.io-in-vmm"];
  const spec: SweepSpec = {
    scenario: scenario({
      name: "fixture-crossover",
      guests: [{ vcpus: 1, workloads: [{ kind: "loop", operation: "pio-read", iterations: 10 }] }],
      designs,
    }),
    scenarioFile: "fixture-crossover.json",
    params: [parseParam("guests[0].workloads[0].iterations=10,20,40,80")],
    designs,
    repetitions: 1,
  };
  const points = sweepPoints(spec);
  const results = points.map((point) => runPoint(spec, point).result);
  return basename(writeSweep(
    dir,
    sweepFile(sweepIdentity(spec, points.length), results, undefined, {
      metric: "latency.pio-read.mean",
      baseline: "vmx.io-in-kernel",
      higherIsBetter: false,
      thresholdsPercent: [5, 50],
    }),
  ));
}

Deno.test({
  name: "the dashboard in Chromium: cards, report charts and timeline, zoom, compare, sweeps",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const reportsDir = makeReports();
    await withDashboard(reportsDir, async ({ base, page, errors }) => {
      await t.step(
        "the front page: a card per scenario, one bar per design; runs a click away",
        async () => {
          await page.goto(base);
          await page.waitForSelector("article.scenario canvas");
          const cards = await page.$$eval(
            "article.scenario",
            (nodes) => nodes.map((n) => n.getAttribute("data-scenario")),
          );
          deepStrictEqual(cards, ["fixture"]);
          strictEqual(await chartLabels(page, "card-chart-0"), 2);
          ok(await paintedPixels(page, "card-chart-0") > 200);
          const cardText = (await page.textContent("article.scenario"))!;
          ok(cardText.includes("compare its 2 designs"), cardText);
          ok(cardText.includes("time to finish the work (lower is better)"), cardText);
          // The full run table is folded away, one click from the cards.
          ok(await page.isHidden("#reports table"));
          await page.click("#all-runs summary");
          const designs = await page.$$eval(
            "#reports tbody tr td:nth-child(3)",
            (cells) => cells.map((c) => c.textContent),
          );
          deepStrictEqual(designs, ["vmx.io-in-kernel", "vmx.io-in-vmm"]);
          ok((await page.textContent("#sweeps"))!.includes("fixture-sweep"));
        },
      );

      await t.step("a report page draws non-empty charts and a timeline", async () => {
        await page.goto(`${base}/reports/${IDS.vmm}`);
        await page.waitForFunction(() =>
          document.getElementById("timeline-status")?.textContent?.includes("lanes") &&
          !document.getElementById("timeline-status")?.textContent?.includes("loading")
        );
        for (const id of ["timeline", "domains", "latency"]) {
          const painted = await paintedPixels(page, id);
          ok(painted > 500, `${id} has only ${painted} painted pixels`);
        }
        ok((await page.textContent("#exits"))!.includes("IO_INSTRUCTION"));
        // The answer first: the headline metric, against the baseline's run.
        await page.waitForSelector("#answer a");
        const answer = (await page.textContent("#answer"))!;
        ok(/time to finish the work/.test(answer), answer);
        ok(/\+[\d.]+%against vmx\.io-in-kernel/.test(answer), answer);
        Deno.mkdirSync(ARTIFACTS, { recursive: true });
        await page.screenshot({ path: `${ARTIFACTS}/report.png`, fullPage: true });
      });

      await t.step("zooming in asks the server for a narrower window", async () => {
        const windows: number[] = [];
        page.on("request", (request) => {
          const url = new URL(request.url());
          if (url.pathname.endsWith("/timeline")) {
            windows.push(Number(url.searchParams.get("to")) - Number(url.searchParams.get("from")));
          }
        });
        const first = page.waitForRequest((r) => r.url().includes("/timeline?"));
        await page.click("#zoom-in");
        await first;
        const second = page.waitForRequest((r) => r.url().includes("/timeline?"));
        await page.focus("#timeline");
        await page.keyboard.press("+");
        await second;
        ok(windows.length >= 2, `windows asked: ${windows}`);
        ok(windows[1] < windows[0], `keyboard zoom did not narrow: ${windows}`);
        await page.waitForFunction(() =>
          document.getElementById("timeline-status")?.textContent?.includes("steps")
        );
        ok(await paintedPixels(page, "timeline") > 500);
      });

      await t.step("the compare page: deltas, baseline picker, hidden rows, chart", async () => {
        await page.goto(`${base}/compare?ids=${IDS.kernel},${IDS.vmm}`);
        await page.waitForSelector("#headline table");
        const pioRow = () =>
          page.$$eval(
            "#headline tr",
            (rows) =>
              rows.map((r) => r.textContent ?? "").find((text) => text.includes("pio-read mean")),
          );
        const row = await pioRow();
        ok(row !== undefined && /\+[\d,]+ \(\+[\d.]+%\)/.test(row), `row: ${row}`);
        strictEqual(await page.inputValue("#baseline"), "vmx.io-in-kernel");
        strictEqual(await chartLabels(page, "difference"), 2);
        ok(await paintedPixels(page, "difference") > 500);
        ok(await paintedPixels(page, "domains") > 500);
        // A design far from the rest can be left out of the charts (not the tables).
        await page.uncheck("#chart-designs input[data-design='vmx.io-in-vmm']");
        strictEqual(await chartLabels(page, "difference"), 1);
        strictEqual(await chartLabels(page, "domains"), 1);
        ok(await page.isDisabled("#chart-designs input[data-design='vmx.io-in-kernel']"));
        await page.check("#chart-designs input[data-design='vmx.io-in-vmm']");
        strictEqual(await chartLabels(page, "difference"), 2);
        // Busy time by default: no idle dataset until asked for.
        deepStrictEqual(
          await chartDatasets(page, "domains").then((d) => d.includes("idle")),
          false,
        );
        await page.check("#include-idle");
        ok((await chartDatasets(page, "domains")).includes("idle"));
        // Rows equal in every run are hidden until asked for.
        const primitiveRows = () => page.$$eval("#primitives tbody tr", (rows) => rows.length);
        const [shown, total] = (await page.textContent("#primitives caption"))!.match(/\d+/g)!
          .map(Number);
        strictEqual(await primitiveRows(), shown);
        ok(shown < total, `${shown} of ${total} rows shown`);
        await page.check("#show-equal");
        strictEqual(await primitiveRows(), total);
        await page.screenshot({ path: `${ARTIFACTS}/compare.png`, fullPage: true });
        // Another baseline: the deltas are measured against it, and the address says so.
        await page.selectOption("#baseline", "vmx.io-in-vmm");
        await page.waitForFunction(() =>
          document.getElementById("subtitle")?.textContent?.includes("baseline vmx.io-in-vmm")
        );
        ok(page.url().includes("baseline=vmx.io-in-vmm"), page.url());
        const firstDesign = await page.textContent("#headline thead th:nth-child(2)");
        strictEqual(firstDesign, "vmx.io-in-vmm (baseline)");
        const against = await pioRow();
        ok(against !== undefined && /−[\d,]+ \(−[\d.]+%\)/.test(against), `row: ${against}`);
      });

      await t.step("a sweep page charts a metric against the parameter, per design", async () => {
        await page.goto(base);
        await page.waitForSelector("a[href^='/sweeps/']");
        await page.click("a[href^='/sweeps/']");
        await page.waitForSelector("#table table", { state: "attached" });
        ok(await paintedPixels(page, "chart") > 500);
        // Three vCPU counts × two designs in the table; switching the metric redraws.
        strictEqual(await page.$$eval("#table tbody tr", (rows) => rows.length), 6);
        await page.selectOption("#metric", "exits");
        await page.waitForFunction(() =>
          document.querySelector("#table thead")?.textContent?.includes("guests[0].vcpus")
        );
        ok(await paintedPixels(page, "chart") > 500);
        await page.screenshot({ path: `${ARTIFACTS}/sweep.png`, fullPage: true });
      });

      await t.step("a memory workload's report shows where an access's time goes", async () => {
        const loaded = load({
          name: "fixture-memory",
          seed: 1,
          guests: [{
            vcpus: 1,
            memoryMiB: 64,
            workloads: [{ kind: "memory", workingSetMiB: 32, count: 8192 }],
          }],
          designs: ["vmx.io-in-kernel"],
        });
        execute(loaded, "vmx.io-in-kernel", reportsDir, {
          maxSpans: 1000,
          fromMs: 0,
          toMs: Infinity,
          trace: false,
        });
        await page.goto(`${base}/reports/fixture-memory--vmx.io-in-kernel--seed1`);
        await page.waitForSelector("#memory-table table");
        ok(!(await page.isHidden("#memory")));
        ok(await paintedPixels(page, "memory-chart") > 500);
        ok((await page.textContent("#memory-table"))!.includes("STLB misses"));
      });

      await t.step("a crossover study opens on its overhead, thresholds, log x", async () => {
        const id = writeCrossoverSweep(reportsDir);
        await page.goto(`${base}/sweeps/${id}`);
        await page.waitForSelector("#crossover table", { state: "attached" });
        strictEqual(await page.inputValue("#metric"), "crossover overhead");
        ok(await page.isChecked("#logx"), "geometric iterations get a log x axis");
        const thresholds = await chartDatasets(page, "chart").then((names) =>
          names.filter((n) => n.endsWith("% threshold"))
        );
        deepStrictEqual(thresholds, ["5% threshold", "50% threshold"]);
        ok(await paintedPixels(page, "chart") > 500);
        // The plain sweep (1, 2, 3 vCPUs: not geometric) opens on a latency, linear.
        await page.goto(base);
        await page.click("a[href*='fixture-sweep']");
        await page.waitForSelector("#table table", { state: "attached" });
        strictEqual(await page.inputValue("#metric"), "latency.pio-read.mean");
        ok(!(await page.isChecked("#logx")));
      });

      await t.step("no page scrolls sideways at 1300 or 800 px", async () => {
        const pages = [
          ["/", "article.scenario canvas"],
          [`/reports/${IDS.vmm}`, "#exits table"],
          [`/compare?ids=${IDS.kernel},${IDS.vmm}`, "#primitives table"],
          ["/sweeps/" + writeCrossoverSweep(reportsDir), "#crossover table"],
        ];
        for (const width of [1300, 800]) {
          await page.setViewportSize({ width, height: 900 });
          for (const [path, ready] of pages) {
            await page.goto(base + path);
            await page.waitForSelector(ready, { state: "attached" });
            const [scrollWidth, clientWidth] = await page.evaluate(() => [
              document.documentElement.scrollWidth,
              document.documentElement.clientWidth,
            ]);
            ok(
              scrollWidth <= clientWidth,
              `${path} at ${width} px: ${scrollWidth} > ${clientWidth}`,
            );
          }
        }
        await page.setViewportSize({ width: 1300, height: 900 });
      });

      deepStrictEqual(errors, []);
    });
  },
});
