/**
 * `cvmsim serve` and `cvmsim start`: the dashboard over a reports directory, and the main
 * job (run every shipped scenario, then serve).
 *
 * @module
 */

import { serve } from "../server/serve.ts";
import { parse } from "./args.ts";
import { type Command, type Io, outFlag, REPORTS_DIR } from "./command.ts";
import { EXIT_OK, UsageError } from "./errors.ts";
import { suite } from "./suite.ts";

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

async function listen(
  command: string,
  values: Record<string, string | boolean | undefined>,
  reportsDir: string,
  io: Io,
): Promise<number> {
  const server = serve({
    reportsDir,
    hostname: String(values.host ?? "127.0.0.1"),
    port: port(command, values.port),
    log: (line) => line.startsWith("warning") ? io.err(line) : io.out(line),
  });
  await server.finished;
  return EXIT_OK;
}

/** `serve` */
export const serveCommand: Command = {
  name: "serve",
  usage: "serve [--reports <dir>] [--host <address>] [--port <n>]",
  summary: "Serve the dashboard (reports, timelines, comparisons) on 127.0.0.1.",
  flags: {
    reports: { type: "string", value: "<dir>", doc: `reports to serve (default ${REPORTS_DIR}/)` },
    ...serveFlags,
  },
  run(args, io) {
    const { values, positionals } = parse("serve", args, this.flags);
    if (positionals.length > 0) {
      throw new UsageError(`cvmsim serve: unexpected argument ${positionals[0]}`);
    }
    return listen("serve", values, String(values.reports ?? REPORTS_DIR), io);
  },
};

/** `start` */
export const startCommand: Command = {
  name: "start",
  usage: "start [--scenarios <dir>] [--out <dir>] [--host <address>] [--port <n>]",
  summary: "The main job: run every shipped scenario under each of its designs, write the " +
    "reports, and serve the dashboard.",
  flags: {
    scenarios: suite.flags.scenarios,
    out: outFlag,
    ...serveFlags,
  },
  async run(args, io) {
    const { values, positionals } = parse("start", args, this.flags);
    if (positionals.length > 0) {
      throw new UsageError(`cvmsim start: unexpected argument ${positionals[0]}`);
    }
    port("start", values.port); // check before the long run
    const suiteArgs = [
      ...(values.scenarios !== undefined ? ["--scenarios", String(values.scenarios)] : []),
      ...(values.out !== undefined ? ["--out", String(values.out)] : []),
    ];
    const code = await suite.run(suiteArgs, io);
    if (code !== EXIT_OK) return code;
    return listen("start", values, String(values.out ?? REPORTS_DIR), io);
  },
};
