/**
 * cvmsim entry point: `deno task sim <command>` (see `deno task sim --help`).
 *
 * @module
 */

import { main } from "./src/cli/main.ts";

if (import.meta.main) Deno.exit(await main(Deno.args));
