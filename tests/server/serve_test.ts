import { ok, strictEqual } from "node:assert/strict";
import { isLoopback, serve } from "../../src/server/serve.ts";
import { makeReports } from "./fixtures.ts";

Deno.test("only loopback addresses count as private", () => {
  for (const host of ["127.0.0.1", "127.0.1.1", "localhost", "::1"]) ok(isLoopback(host), host);
  for (const host of ["0.0.0.0", "192.168.1.10", "::"]) ok(!isLoopback(host), host);
});

Deno.test("serve binds where asked, prints the address, and warns off loopback", async () => {
  const dir = makeReports();
  const lines: string[] = [];
  const server = serve({
    reportsDir: dir,
    hostname: "127.0.0.1",
    port: 0,
    log: (l) => lines.push(l),
  });
  try {
    strictEqual(server.addr.hostname, "127.0.0.1");
    const response = await fetch(`http://127.0.0.1:${server.addr.port}/api/reports`);
    strictEqual(response.status, 200);
    strictEqual((await response.json()).length, 2);
    ok(lines.some((l) => l.startsWith(`cvmsim dashboard: http://127.0.0.1:${server.addr.port}/`)));
    ok(!lines.some((l) => l.startsWith("warning")));
  } finally {
    await server.shutdown();
  }
  const warnings: string[] = [];
  const open = serve({
    reportsDir: dir,
    hostname: "0.0.0.0",
    port: 0,
    log: (l) => warnings.push(l),
  });
  await open.shutdown();
  ok(warnings[0].startsWith("warning: serving on 0.0.0.0"));
});
