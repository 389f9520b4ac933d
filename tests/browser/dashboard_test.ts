/// <reference lib="dom" />
/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core against a
 * real Deno.serve on 127.0.0.1. CI installs Chromium (`.ci/run`), so these always run there.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { chromium, type Page } from "playwright-core";
import { createApp } from "../../src/server/app.ts";
import { execute } from "../../src/cli/execute.ts";
import { load } from "../helpers.ts";
import { IDS, makeReports } from "../server/fixtures.ts";

const CHROMIUM = Deno.env.get("CVMSIM_CHROMIUM") ?? "/usr/bin/chromium";
const ARTIFACTS = "test-artifacts";

/** Non-blank pixels of a canvas (a drawn chart has thousands). */
function paintedPixels(page: Page, id: string): Promise<number> {
  return page.evaluate((canvasId) => {
    const canvas = document.getElementById(canvasId) as HTMLCanvasElement;
    const { data } = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height);
    let painted = 0;
    for (let i = 0; i < data.length; i += 4) {
      const white = data[i] > 240 && data[i + 1] > 240 && data[i + 2] > 240;
      if (data[i + 3] > 0 && !white) painted++;
    }
    return painted;
  }, id);
}

Deno.test({
  name: "the dashboard in Chromium: list, report charts and timeline, zoom, compare",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    try {
      Deno.statSync(CHROMIUM);
    } catch {
      throw new Error(
        `No Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CVMSIM_CHROMIUM)`,
      );
    }
    const reportsDir = makeReports();
    const app = createApp({ reportsDir });
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app.fetch);
    const base = `http://127.0.0.1:${server.addr.port}`;
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    });
    const errors: string[] = [];
    try {
      const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
      page.on("pageerror", (error) => errors.push(String(error)));
      page.on("console", (message) => {
        if (message.type() === "error") errors.push(message.text());
      });

      await t.step("the list page shows the generated reports", async () => {
        await page.goto(base);
        await page.waitForSelector("tbody tr");
        const designs = await page.$$eval(
          "tbody tr td:nth-child(3)",
          (cells) => cells.map((c) => c.textContent),
        );
        deepStrictEqual(designs, ["vmx.io-in-kernel", "vmx.io-in-vmm"]);
        ok((await page.textContent("main"))!.includes("compare its 2 designs"));
      });

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

      await t.step("the compare page shows the deltas", async () => {
        await page.goto(`${base}/compare?ids=${IDS.kernel},${IDS.vmm}`);
        await page.waitForSelector("#headline table");
        const row = await page.$$eval(
          "#headline tr",
          (rows) =>
            rows.map((r) => r.textContent ?? "").find((text) => text.includes("pio-read mean")),
        );
        ok(row !== undefined && /\+[\d,]+ \(\+[\d.]+%\)/.test(row), `row: ${row}`);
        ok(await paintedPixels(page, "domains") > 500);
        await page.screenshot({ path: `${ARTIFACTS}/compare.png`, fullPage: true });
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

      deepStrictEqual(errors, []);
    } finally {
      await browser.close();
      await server.shutdown();
    }
  },
});
