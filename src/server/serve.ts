/**
 * Serving the dashboard: binds 127.0.0.1 unless told otherwise (with a warning, since
 * reports describe a host's configuration), and prints the address.
 *
 * @module
 */

import { createApp } from "./app.ts";

/** Options of {@linkcode serve}. */
export interface ServeOptions {
  reportsDir: string;
  hostname: string;
  port: number;
  /** Where to print the address and warnings. */
  log: (line: string) => void;
  /** What is still being made (see AppOptions.status). */
  status?: () => unknown;
}

/** Addresses that only this machine can reach. */
export function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "::1" || /^127\./.test(hostname);
}

/** Starts the server; resolves with it once listening. */
export function serve(options: ServeOptions): Deno.HttpServer<Deno.NetAddr> {
  if (!isLoopback(options.hostname)) {
    options.log(
      `warning: serving on ${options.hostname}, reachable from other machines; the dashboard ` +
        "has no authentication",
    );
  }
  const app = createApp({ reportsDir: options.reportsDir, status: options.status });
  return Deno.serve({
    hostname: options.hostname,
    port: options.port,
    onListen: ({ hostname, port }) => {
      const host = hostname.includes(":") ? `[${hostname}]` : hostname;
      options.log(`cvmsim dashboard: http://${host}:${port}/ (reports from ${options.reportsDir})`);
    },
  }, app.fetch);
}
