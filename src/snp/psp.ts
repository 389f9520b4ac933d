/**
 * AMD's Secure Processor (PSP) as SNP guests see it: one command at a time for the whole
 * host (the kernel serializes them with sev_cmd_mutex, and the firmware runs one anyway).
 * The server itself is host-wide hardware (`HostHardware.psp` in src/kvm/platform.ts),
 * built once per run; this module issues commands to it.
 *
 * @module
 */

import type { FifoServer } from "../engine/mod.ts";
import { P } from "../host/primitives.ts";
import type { Flow, HostThread } from "../host/thread.ts";

/**
 * `thread` issues firmware command `command` (a PSP_CMD primitive): it waits its turn
 * (WAIT_PSP), then the PSP is busy for the command's cost, charged to the thread as
 * firmware time (the caller sleeps until the command's completion interrupt).
 */
export function* pspCommand(thread: HostThread, psp: FifoServer, command: number): Flow {
  yield* thread.waitOn(psp, P.WAIT_PSP);
  thread.step(command);
  if (thread.lagCycles > 0) yield thread.lagCycles; // the PSP is busy until the command ends
  psp.release();
}
