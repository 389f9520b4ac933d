/// <reference lib="dom" />
/**
 * The report page's timeline in a real browser (Debian's Chromium through playwright-core,
 * a real Deno.serve on 127.0.0.1): lanes with no span are collapsed behind a toggle, a
 * run's outcomes (SIGBUS, the guest terminated) are marked at their time with a tooltip
 * and listed, and a timeline cut by its span limit says so and names the flag.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import type { Page } from "playwright-core";
import { execute } from "../../src/cli/execute.ts";
import { load } from "../helpers.ts";
import { sigbusScenario } from "../report/outcome_fixture.ts";
import { withDashboard } from "./chromium.ts";

const WHOLE = "sigbus--snp.sigbus--seed3";
const CUT = "sigbus-cut--snp.sigbus--seed3";
/** The outcome marks' colour (timeline.js OUTCOME_COLOR). */
const MARK = [0xe6, 0x00, 0x7e];

/** Two reports of the SIGBUS run: its whole timeline, and one cut early by a small limit. */
function makeReports(): string {
  const dir = Deno.makeTempDirSync({ prefix: "cvmsim-timeline-" });
  for (const [name, maxSpans] of [["sigbus", 1_000_000], ["sigbus-cut", 2_000]] as const) {
    const loaded = load(sigbusScenario("vmm", name));
    execute(loaded, "snp.sigbus", dir, { maxSpans, fromMs: 0, toMs: Infinity, trace: false });
  }
  return dir;
}

/** Pixels of the timeline canvas in the outcome colour, per column (x in CSS pixels). */
function markColumns(page: Page): Promise<number[]> {
  return page.evaluate((mark) => {
    const canvas = document.getElementById("timeline") as HTMLCanvasElement;
    const { data, width, height } = canvas.getContext("2d")!.getImageData(
      0,
      0,
      canvas.width,
      canvas.height,
    );
    const columns = new Array(width).fill(0);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = 4 * (y * width + x);
        const near = Math.abs(data[i] - mark[0]) < 24 && data[i + 1] < 60 &&
          Math.abs(data[i + 2] - mark[2]) < 40;
        if (near) columns[x]++;
      }
    }
    return columns.map((n) => n).map((n, x) => (n > 0 ? x : -1)).filter((x) => x >= 0);
  }, MARK);
}

async function settled(page: Page, word: string): Promise<string> {
  await page.waitForFunction((w) => {
    const text = document.getElementById("timeline-status")?.textContent ?? "";
    return text.includes(w) && !text.includes("loading");
  }, word);
  return (await page.textContent("#timeline-status"))!;
}

Deno.test({
  name: "the timeline in Chromium: empty lanes collapsed, outcomes marked, a cut timeline says so",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const reportsDir = makeReports();
    try {
      await withDashboard(reportsDir, async ({ base, page, errors }) => {
        const meta = await (await fetch(`${base}/api/reports/${WHOLE}/timeline/meta`)).json();
        const empty: number[] = meta.laneSpans.flatMap((n: number, i: number) =>
          n === 0 ? [i] : []
        );

        await t.step("lanes with no span are collapsed; the toggle shows them", async () => {
          ok(empty.length > 0, "the fixture has an empty lane (a lock never taken)");
          const firstWindow = page.waitForRequest((r) => r.url().includes("/timeline?"));
          await page.goto(`${base}/reports/${WHOLE}`);
          const asked = new URL((await firstWindow).url()).searchParams.get("lanes")!;
          const shown = meta.lanes.length - empty.length;
          deepStrictEqual(
            asked.split(",").map(Number),
            meta.lanes.map((_: unknown, i: number) => i).filter((i: number) => !empty.includes(i)),
            "only the busy lanes are asked for",
          );
          const status = await settled(page, "lanes");
          ok(
            status.startsWith(
              `${shown} of ${meta.lanes.length} lanes (${empty.length} empty collapsed)`,
            ),
            status,
          );
          const toggle = "#timeline-empty-lanes";
          strictEqual(
            await page.textContent(toggle),
            `Show ${empty.length} empty lane${empty.length === 1 ? "" : "s"}`,
          );
          const height = () =>
            page.evaluate(() => document.getElementById("timeline")!.clientHeight);
          const collapsed = await height();
          const next = page.waitForRequest((r) => r.url().includes("/timeline?"));
          await page.click(toggle);
          strictEqual(new URL((await next).url()).searchParams.get("lanes"), null, "all lanes");
          const expanded = await height();
          // Each shown lane is 18 px; collapsed ones share one 12 px row.
          strictEqual(expanded - collapsed, 18 * empty.length - 12);
          ok((await settled(page, "lanes")).startsWith(`${meta.lanes.length} lanes,`));
          strictEqual(await page.getAttribute(toggle, "aria-pressed"), "true");
          await page.click(toggle);
          strictEqual(await height(), collapsed);
        });

        await t.step("the SIGBUS and the guest's termination are marked and listed", async () => {
          const status = await settled(page, "outcomes marked");
          ok(status.includes("3 outcomes marked"), status);
          const kinds = await page.$$eval(
            "#timeline-outcomes li",
            (items) => items.map((li) => li.getAttribute("data-kind")),
          );
          deepStrictEqual(kinds, ["sigbus", "guest-terminated", "service-lost"]);
          const first = (await page.textContent("#timeline-outcomes li"))!;
          ok(first.startsWith("SIGBUS vm0/iothread at 7.88"), first);
          // A vertical line at the outcome's time: where the whole run puts it.
          const sigbus = meta.outcomes[0].timeCycles / meta.window.endCycles;
          const width = await page.evaluate(() => document.getElementById("timeline")!.clientWidth);
          const expected = Math.round(190 + sigbus * (width - 190));
          const columns = await markColumns(page);
          ok(columns.length > 0, "no outcome mark drawn");
          ok(
            columns.every((x) => Math.abs(x - expected) <= 2 || x >= expected),
            `marks at ${columns.slice(0, 10)}, expected at ${expected}`,
          );
          ok(columns.some((x) => Math.abs(x - expected) <= 1), `no line at ${expected}`);
          // Hovering the line tells what happened.
          const box = (await page.$("#timeline"))!.boundingBox();
          const { x, y } = (await box)!;
          await page.mouse.move(x + expected, y + 60);
          const tooltip = (await page.textContent("#tooltip"))!;
          ok(tooltip.includes("SIGBUS at 7.88"), tooltip);
          ok(tooltip.includes("vm0/iothread: vm0/iothread wrote private page"), tooltip);
          ok(tooltip.includes("guest terminated at"), tooltip);
          // Its button zooms to the stretch around it; the line is still there.
          await page.click("#timeline-outcomes li button");
          const zoomed = await settled(page, "steps");
          ok(/7\.\d+ ms to 8\.\d+ ms/.test(zoomed), zoomed);
          ok((await markColumns(page)).length > 0);
          // No coverage note: this timeline holds the whole run.
          strictEqual(await page.$("#timeline-coverage"), null);
        });

        await t.step(
          "a timeline cut by its span limit says how much it holds and the flag",
          async () => {
            await page.goto(`${base}/reports/${CUT}`);
            await settled(page, "lanes");
            const note = (await page.textContent("#timeline-coverage"))!;
            ok(
              /^This timeline covers 0\.00 µs to [\d.]+ ms of the run's 20\.000 ms \(\d/.test(note),
              note,
            );
            ok(note.includes("span limit of 2,000 spans"), note);
            ok(/--timeline-spans \d+/.test(note), note);
            ok(note.includes("deno task start --timeline-spans"), note);
            const items = await page.$$eval(
              "#timeline-outcomes li",
              (lis) => lis.map((li) => li.textContent ?? ""),
            );
            strictEqual(items.length, 3);
            ok(items.every((text) => text.endsWith("(outside the recorded stretch)")), items[0]);
          },
        );

        deepStrictEqual(errors, []);
      });
    } finally {
      Deno.removeSync(reportsDir, { recursive: true });
    }
  },
});
