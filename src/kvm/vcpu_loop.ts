/**
 * The life of a vCPU thread: get a pCPU, then run the guest program — guest compute,
 * then the platform's flow for each guest operation — until the program ends.
 *
 * @module
 */

import type { FifoServer } from "../engine/mod.ts";
import { OP_DONE, OP_NONE } from "../host/operations.ts";
import { P } from "../host/primitives.ts";
import type { Flow } from "../host/thread.ts";
import type { Recorder } from "../report/recorder.ts";
import type { SequenceProgram } from "../workloads/program.ts";
import type { PlatformVm } from "./platform.ts";
import type { Vcpu } from "./vcpu.ts";

/** Everything a vCPU's loop works with. */
export interface VcpuLoopEnv {
  vcpu: Vcpu;
  program: SequenceProgram;
  /** Global workload id of each program in the sequence. */
  workloadIds: number[];
  platform: PlatformVm;
  pcpus: FifoServer;
  recorder: Recorder;
  /** Called once when the program has ended. */
  onFinished: () => void;
}

/** The vCPU thread's body. */
export function* vcpuLoop(env: VcpuLoopEnv): Flow {
  const { vcpu, program, platform, recorder, workloadIds } = env;
  const latency = recorder.operationLatency;
  const workloads = recorder.workloads;
  yield* vcpu.acquire(env.pcpus, P.WAIT_PCPU);
  let current = program.current;
  for (;;) {
    const op = program.next(vcpu.cursorCycles);
    while (current < program.current) workloads[workloadIds[current++]].finishedVcpus++;
    // Always yield once per operation, even for zero compute, so vCPUs interleave.
    yield* vcpu.spend(P.GUEST, program.gapCycles);
    if (op === OP_DONE) break;
    if (op === OP_NONE) continue;
    const start = vcpu.cursorCycles;
    yield* platform.perform(vcpu, op);
    latency[op].record(vcpu.cursorCycles - start);
    workloads[workloadIds[current]].operations++;
  }
  yield* vcpu.sync();
  env.pcpus.release();
  env.onFinished();
}
