/// <reference lib="dom" />
/**
 * The browser tests' shared set-up: the dashboard app over a reports directory on a real
 * Deno.serve on 127.0.0.1, and Debian's Chromium driven by playwright-core, with every page
 * error and console error collected. CI installs Chromium (`.ci/run`), so these always run
 * there.
 *
 * @module
 */

import { chromium, type Page } from "playwright-core";
import { createApp } from "../../src/server/app.ts";

const CHROMIUM = Deno.env.get("CVMSIM_CHROMIUM") ?? "/usr/bin/chromium";

/** An open dashboard: its base address, a page on it, and the errors the page logged. */
export interface Dashboard {
  base: string;
  page: Page;
  errors: string[];
}

/**
 * Serves `reportsDir`, opens Chromium at 1300 × 900 and runs `use`; closes both however
 * `use` ends.
 */
export async function withDashboard(
  reportsDir: string,
  use: (dashboard: Dashboard) => Promise<void>,
): Promise<void> {
  try {
    Deno.statSync(CHROMIUM);
  } catch {
    throw new Error(
      `No Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CVMSIM_CHROMIUM)`,
    );
  }
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
  try {
    const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    page.on("console", (message) => {
      if (message.type() === "error") errors.push(message.text());
    });
    await use({ base, page, errors });
  } finally {
    await browser.close();
    await server.shutdown();
  }
}

/** Non-blank pixels of a canvas (a drawn chart has thousands). */
export function paintedPixels(page: Page, id: string): Promise<number> {
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
