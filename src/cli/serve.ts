/**
 * `cvmsim serve` and `cvmsim start`: the dashboard over a reports directory, and the main
 * job (run every shipped scenario, then serve).
 *
 * @module
 */

import { serve } from "../server/serve.ts";
import { parse } from "./args.ts";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type Command,
  type Io,
  outFlag,
  progressOf,
  quietFlag,
  REPORTS_DIR,
  scenarioFiles,
  SCENARIOS_DIR,
  START_TIMELINE_SPANS,
  timelineFlags,
  timelineRequest,
} from "./command.ts";
import { EXIT_OK, UsageError } from "./errors.ts";
import { ReportProducer } from "./producer.ts";
import { runStudies, suite } from "./suite.ts";

const serveFlags = {
  host: {
    type: "string" as const,
    value: "<address>",
    doc: "address to listen on (default 127.0.0.1; anything else is reachable from the network)",
  },
  port: { type: "string" as const, value: "<n>", doc: "port (default 8080; 0 picks a free one)" },
};

function port(command: string, value: string | boolean | undefined): number {
  const text = String(value ?? 8080);
  const number = Number(text);
  if (!/^\d+$/.test(text) || number > 65535) {
    throw new UsageError(
      `cvmsim ${command}: --port expects 0 to 65535, got ${JSON.stringify(text)}`,
    );
  }
  return number;
}

/** Starts serving, turning a port in use into a usage error that says which port. */
function startServer(
  command: string,
  values: Record<string, string | boolean | undefined>,
  reportsDir: string,
  io: Io,
  status?: () => unknown,
): Deno.HttpServer<Deno.NetAddr> {
  const hostname = String(values.host ?? "127.0.0.1");
  const portNumber = port(command, values.port);
  try {
    return serve({
      reportsDir,
      hostname,
      port: portNumber,
      log: (line) => line.startsWith("warning") ? io.err(line) : io.out(line),
      status,
    });
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) {
      throw new UsageError(
        `cvmsim ${command}: port ${portNumber} on ${hostname} is in use; pass --port <n> ` +
          "(0 picks a free one)",
      );
    }
    throw error;
  }
}

async function listen(
  command: string,
  values: Record<string, string | boolean | undefined>,
  reportsDir: string,
  io: Io,
): Promise<number> {
  await startServer(command, values, reportsDir, io).finished;
  return EXIT_OK;
}

/** `serve` */
export const serveCommand: Command = {
  name: "serve",
  usage: "serve [--reports <dir>] [--host <address>] [--port <n>] [--quiet]",
  summary: "Serve the dashboard (reports, timelines, comparisons) on 127.0.0.1.",
  flags: {
    reports: { type: "string", value: "<dir>", doc: `reports to serve (default ${REPORTS_DIR}/)` },
    ...serveFlags,
    quiet: quietFlag,
  },
  run(args, io) {
    const { values, positionals } = parse("serve", args, this.flags);
    if (positionals.length > 0) {
      throw new UsageError(`cvmsim serve: unexpected argument ${positionals[0]}`);
    }
    return listen("serve", values, String(values.reports ?? REPORTS_DIR), io);
  },
};

/** The repository root: the code whose hash says whether a report is up to date. */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** `start` */
export const startCommand: Command = {
  name: "start",
  usage:
    "start [--scenarios <dir>] [--out <dir>] [--timeline-spans <n>] [--host <address>] [--port <n>]",
  summary: "The main job: serve the dashboard at once, and make a report of every shipped " +
    "scenario under each of its designs in the background (reusing the up-to-date ones).",
  flags: {
    scenarios: suite.flags.scenarios,
    out: outFlag,
    "timeline-spans": {
      ...timelineFlags["timeline-spans"],
      doc: `record at most n timeline spans per report (default ${START_TIMELINE_SPANS}; ` +
        "0: no timeline)",
    },
    ...serveFlags,
    quiet: quietFlag,
  },
  async run(args, io) {
    const { values, positionals } = parse("start", args, this.flags);
    if (positionals.length > 0) {
      throw new UsageError(`cvmsim start: unexpected argument ${positionals[0]}`);
    }
    const dir = String(values.scenarios ?? SCENARIOS_DIR);
    const reportsDir = String(values.out ?? REPORTS_DIR);
    const files = scenarioFiles(dir);
    if (files.length === 0) throw new UsageError(`cvmsim start: no scenario files in ${dir}/`);
    const timelineSpans = timelineRequest("start", values, START_TIMELINE_SPANS)?.maxSpans ?? 0;
    Deno.mkdirSync(reportsDir, { recursive: true });
    const progress = progressOf("start", values, io);
    const producer = new ReportProducer({
      files,
      reportsDir,
      timelineSpans,
      jobs: navigator.hardwareConcurrency ?? 1,
      log: progress.say,
      problem: (line) => io.err(line),
      after: () => runStudies(files, reportsDir, progress.say),
    });
    const server = startServer("start", values, reportsDir, io, () => producer.status());
    await producer.start(ROOT);
    producer.finished.then(() => {
      const status = producer.status();
      progress.say(
        `all ${status.total} reports ready (${status.reused} reused${
          status.failed.length > 0 ? `, ${status.failed.length} failed` : ""
        })`,
      );
    });
    await server.finished;
    return EXIT_OK;
  },
};
