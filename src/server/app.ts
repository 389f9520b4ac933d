/**
 * The dashboard: a Hono app over a reports directory. JSON API under /api, pages at /,
 * /reports/:id and /compare, page assets under /static, chart.js from its npm package.
 *
 * @example
 * ```ts
 * const app = createApp({ reportsDir: "reports" });
 * const response = await app.request("/api/reports");
 * ```
 *
 * @module
 */

import { Hono } from "hono";
import { DOMAINS, PRIMITIVE_DOMAIN, PRIMITIVE_NAMES } from "../host/primitives.ts";
import { compareSummaries } from "../report/compare.ts";
import { CSV_TABLES, type CsvTable, summaryCsv } from "../report/csv.ts";
import { chromeTraceChunks } from "../report/perfetto.ts";
import { NotFoundError, ReportStore } from "./reports.ts";
import { scenarioCards } from "./scenarios.ts";
import type { TimelineIndex } from "./timeline_query.ts";

/** Options of {@linkcode createApp}. */
export interface AppOptions {
  /** The reports directory to serve (never read outside it). */
  reportsDir: string;
  /**
   * What is still being made (`deno task start` serves while it makes the reports);
   * answered at /api/status. Absent: nothing is being made.
   */
  status?: () => unknown;
}

/** A bad request: answered with 400 and the message. */
class BadRequest extends Error {
  override name = "BadRequest";
}

const STATIC_FILES: Record<string, string> = {
  "app.css": "text/css; charset=utf-8",
  "common.js": "text/javascript; charset=utf-8",
  "list.js": "text/javascript; charset=utf-8",
  "report.js": "text/javascript; charset=utf-8",
  "timeline.js": "text/javascript; charset=utf-8",
  "compare.js": "text/javascript; charset=utf-8",
  "sweep.js": "text/javascript; charset=utf-8",
};

const PAGES = {
  list: "index.html",
  report: "report.html",
  compare: "compare.html",
  sweep: "sweep.html",
};

const staticDir = new URL("./static/", import.meta.url);

/** Each primitive's domain, by name: the compare page leaves idle time out of its charts. */
const PRIMITIVE_DOMAINS: Record<string, string> = Object.fromEntries(
  PRIMITIVE_NAMES.map((name, id) => [name, DOMAINS[PRIMITIVE_DOMAIN[id]]]),
);

/** Most spans a timeline window returns before aggregating. */
const DEFAULT_MAX_SPANS = 20_000;

/** Builds the dashboard app for `options.reportsDir`. */
export function createApp(options: AppOptions): Hono {
  const store = new ReportStore(options.reportsDir);
  const app = new Hono();
  const windowCache = new Map<string, { index: TimelineIndex; json: string }>();

  app.get("/api/reports", (c) => c.json(store.list()));

  app.get("/api/scenarios", (c) => c.json(scenarioCards(store)));

  app.get("/api/status", (c) => c.json(options.status?.() ?? { finished: true }));

  app.get("/api/reports/:id", (c) => c.json(store.summary(c.req.param("id"))));

  app.get("/api/reports/:id/tables/:table", (c) => {
    const table = c.req.param("table").replace(/\.csv$/, "");
    if (!(CSV_TABLES as readonly string[]).includes(table)) {
      throw new BadRequest(`table must be one of ${CSV_TABLES.join(", ")}`);
    }
    const csv = summaryCsv(store.summary(c.req.param("id")), table as CsvTable);
    return c.body(csv, 200, {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="${table}.csv"`,
    });
  });

  app.get("/api/reports/:id/timeline/meta", (c) => {
    const { meta } = store.timeline(c.req.param("id")).data;
    return c.json(meta);
  });

  app.get("/api/reports/:id/timeline", (c) => {
    const index = store.timeline(c.req.param("id"));
    const { window: recorded, lanes } = index.data.meta;
    const from = numberParam(c.req.query("from"), "from", recorded.startCycles);
    const to = numberParam(c.req.query("to"), "to", recorded.endCycles);
    if (to <= from) throw new BadRequest("to must be greater than from");
    const maxSpans = numberParam(c.req.query("maxSpans"), "maxSpans", DEFAULT_MAX_SPANS);
    const buckets = numberParam(c.req.query("buckets"), "buckets", 800);
    if (!Number.isInteger(buckets) || buckets < 1 || buckets > 4000) {
      throw new BadRequest("buckets must be an integer from 1 to 4000");
    }
    const laneText = c.req.query("lanes");
    let selected: number[] | undefined;
    if (laneText !== undefined && laneText !== "") {
      selected = laneText.split(",").map((part) => {
        const lane = Number(part);
        if (!Number.isInteger(lane) || lane < 0 || lane >= lanes.length) {
          throw new BadRequest(`lanes must be lane numbers from 0 to ${lanes.length - 1}`);
        }
        return lane;
      });
    }
    // Identical windows (the whole-run view above all) are answered from a small cache.
    const key = `${c.req.param("id")}|${from}|${to}|${
      selected?.join(",") ?? ""
    }|${maxSpans}|${buckets}`;
    let cached = windowCache.get(key);
    if (cached === undefined || cached.index !== index) {
      const json = JSON.stringify(
        index.query({ fromCycles: from, toCycles: to, lanes: selected, maxSpans, buckets }),
      );
      cached = { index, json };
      windowCache.set(key, cached);
      while (windowCache.size > 64) windowCache.delete(windowCache.keys().next().value!);
    }
    return c.body(cached.json, 200, { "content-type": "application/json" });
  });

  app.get("/api/reports/:id/trace.json", (c) => {
    const id = c.req.param("id");
    const data = store.timeline(id).data;
    const encoder = new TextEncoder();
    const chunks = chromeTraceChunks(data);
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(next.value));
      },
    });
    return c.body(stream, 200, {
      "content-type": "application/json",
      "content-disposition": `attachment; filename="${id}.trace.json"`,
    });
  });

  app.get("/api/sweeps", (c) => c.json(store.listSweeps()));
  app.get("/api/sweeps/:id", (c) => c.json(store.sweep(c.req.param("id"))));
  app.get("/api/sweeps/:id/sweep.csv", (c) => {
    const id = c.req.param("id");
    return c.body(store.sweepCsv(id), 200, {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="${id}.csv"`,
    });
  });

  app.get("/api/compare", (c) => {
    const ids = (c.req.query("ids") ?? "").split(",").filter((id) => id !== "");
    if (ids.length < 2 || ids.length > 16) {
      throw new BadRequest("ids must list 2 to 16 report ids, separated by commas");
    }
    const baseline = c.req.query("baseline");
    let summaries = ids.map((id) => store.summary(id));
    if (baseline !== undefined && baseline !== "") {
      // The baseline's run goes first: every delta is measured against the first.
      const at = summaries.findIndex((s) => s.design.name === baseline);
      if (at < 0) {
        throw new BadRequest(
          `baseline must be the design of one of the compared reports: ${
            summaries.map((s) => s.design.name).join(", ")
          }`,
        );
      }
      ids.unshift(...ids.splice(at, 1));
      summaries = ids.map((id) => store.summary(id));
    }
    return c.json({
      ...compareSummaries(summaries),
      reports: ids,
      primitiveDomains: PRIMITIVE_DOMAINS,
    });
  });

  app.get("/static/:file", async (c) => {
    const file = c.req.param("file");
    const type = STATIC_FILES[file];
    if (type === undefined) throw new NotFoundError(`no static file ${file}`);
    return c.body(await Deno.readFile(new URL(file, staticDir)), 200, { "content-type": type });
  });

  app.get("/vendor/chart.umd.js", async (c) => {
    return c.body(await Deno.readFile(chartJsFile()), 200, {
      "content-type": "text/javascript; charset=utf-8",
      "cache-control": "max-age=3600",
    });
  });

  const page = (name: keyof typeof PAGES) => async () =>
    new Response(await Deno.readFile(new URL(PAGES[name], staticDir)), {
      headers: { "content-type": "text/html; charset=utf-8" },
    });
  app.get("/favicon.ico", (c) => c.body(null, 204));
  app.get("/", page("list"));
  app.get("/reports/:id", page("report"));
  app.get("/compare", page("compare"));
  app.get("/sweeps/:id", page("sweep"));

  app.notFound((c) => c.json({ error: `no such page or API: ${c.req.path}` }, 404));
  app.onError((error, c) => {
    if (error instanceof NotFoundError) return c.json({ error: error.message }, 404);
    if (error instanceof BadRequest) return c.json({ error: error.message }, 400);
    // Never leak internals: log for the operator, answer with a plain message.
    console.error(`cvmsim serve: ${c.req.method} ${c.req.path}: ${error.message}`);
    return c.json({ error: "internal error" }, 500);
  });
  return app;
}

function numberParam(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) {
    throw new BadRequest(`${name} must be a non-negative number, got ${JSON.stringify(text)}`);
  }
  return value;
}

/** chart.js's UMD build, from the npm package `deno install` put in node_modules. */
function chartJsFile(): URL {
  return new URL("./chart.umd.js", import.meta.resolve("chart.js"));
}
