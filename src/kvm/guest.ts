/**
 * The guest side: how a guest kernel carries out each guest operation with the platform's
 * instructions, and the life of a vCPU thread — take a pCPU, enter the guest, run the
 * program (guest compute, then an operation, ...), then idle in HLT like an idle kernel.
 *
 * @module
 */

import { OP, OP_DONE, OP_IDLE, OP_NONE } from "../host/operations.ts";
import type { Flow } from "../host/thread.ts";
import type { Recorder } from "../report/recorder.ts";
import type { SequenceProgram } from "../workloads/program.ts";
import { PAGES_PER_2M } from "../host/memory.ts";
import { memoryBatch } from "./memory_access.ts";
import { INSN } from "./platform.ts";
import type { Vcpu } from "./vcpu.ts";
import type { Vm } from "./vm.ts";

const VIRTIO_RR = OP["virtio-rr"];

/** Instruction for each operation that is a single instruction, or -1. */
const SINGLE_INSN: Int32Array = (() => {
  const table = new Int32Array(Object.keys(OP).length).fill(-1);
  table[OP.cpuid] = INSN.CPUID;
  table[OP.hypercall] = INSN.HYPERCALL;
  table[OP["pio-read"]] = INSN.PIO_READ;
  table[OP["pio-write"]] = INSN.PIO_WRITE;
  table[OP["mmio-read"]] = INSN.MMIO_READ;
  table[OP["mmio-write"]] = INSN.MMIO_WRITE;
  table[OP["msr-read"]] = INSN.MSR_READ;
  table[OP["msr-write"]] = INSN.MSR_WRITE;
  table[OP["vtl-call"]] = INSN.VTL_CALL;
  table[OP["vtl-get-registers"]] = INSN.VTL_GET_REGISTERS;
  return table;
})();

/**
 * How the guest carries out operations that take more than one instruction or wait for
 * something. (Single-instruction operations map through SINGLE_INSN.)
 */
function* multiStep(vcpu: Vcpu, vm: Vm, op: number, arg: number, pages: number): Flow {
  const platform = vcpu.platform;
  switch (op) {
    case OP["tsc-deadline"]:
      yield* platform.execute(vcpu, INSN.TSC_DEADLINE, 0); // a deadline already passed
      break;
    case OP.ipi: {
      const target = (vcpu.index + 1) % vm.vcpus.length;
      vcpu.ipiAck.clear();
      yield* platform.execute(vcpu, INSN.ICR_WRITE, target);
      yield* vcpu.spinUntil(vcpu.ipiAck);
      break;
    }
    case OP["self-ipi-hlt"]:
      vcpu.guestIrqsMasked = true; // cli; self-IPI; then sti; hlt
      yield* platform.execute(vcpu, INSN.ICR_WRITE, vcpu.index);
      vcpu.guestIrqsMasked = false;
      yield* vcpu.halt();
      break;
    case OP["virtio-rr"]: {
      const request = vm.net!.post(vcpu);
      const fault = vm.takeFault(vcpu);
      if (fault === undefined) {
        yield* platform.execute(vcpu, INSN.VIRTIO_NOTIFY, vcpu.index);
      } else {
        // The receive buffer is a page of the vCPU's next 2 MiB chunk instead of the
        // shared bounce buffer: never converted (a buggy driver), or converted to shared
        // and back to private behind the device's back (a malicious guest).
        const chunk = vm.nextChunk(vcpu);
        request.bufferPage = chunk * PAGES_PER_2M;
        const malicious = fault.kind === "convert-during-dma";
        if (malicious) yield* platform.execute(vcpu, INSN.MAP_GPA_SHARED, chunk);
        yield* platform.execute(vcpu, INSN.VIRTIO_NOTIFY, vcpu.index);
        if (malicious) yield* platform.execute(vcpu, INSN.MAP_GPA_PRIVATE, chunk);
      }
      yield* vcpu.idleUntil(request.done);
      if (request.bufferPage >= 0) {
        const page = request.bufferPage;
        request.bufferPage = -1;
        if (platform.guestReadsBuffer !== undefined) yield* platform.guestReadsBuffer(vcpu, page);
      }
      break;
    }
    case OP.touch:
      yield* platform.execute(vcpu, INSN.MEM_TOUCH, arg >= 0 ? arg : vm.nextTouch(vcpu));
      break;
    case OP["accept-page"]:
      yield* platform.execute(vcpu, INSN.ACCEPT_4K, arg >= 0 ? arg : vm.nextTouch(vcpu));
      break;
    case OP["accept-2m"]:
      yield platform.execute(vcpu, INSN.ACCEPT_2M, arg >= 0 ? arg : vm.nextChunk(vcpu));
      break;
    case OP["convert-shared"]: {
      const chunk = arg >= 0 ? arg : vm.nextChunk(vcpu);
      vm.sharedChunks(vcpu).push(chunk);
      yield platform.execute(vcpu, INSN.MAP_GPA_SHARED, chunk);
      break;
    }
    case OP["convert-private"]: {
      const chunk = arg >= 0 ? arg : vm.sharedChunks(vcpu).pop() ?? vm.nextChunk(vcpu);
      yield platform.execute(vcpu, INSN.MAP_GPA_PRIVATE, chunk);
      break;
    }
    case OP["convert-page-shared"]: {
      const page = arg >= 0 ? arg : vm.nextTouch(vcpu);
      vm.sharedPages(vcpu).push(page);
      yield* platform.execute(vcpu, INSN.MAP_GPA_SHARED_4K, page);
      break;
    }
    case OP["convert-page-private"]: {
      const page = arg >= 0 ? arg : vm.sharedPages(vcpu).pop() ?? vm.nextTouch(vcpu);
      yield* platform.execute(vcpu, INSN.MAP_GPA_PRIVATE_4K, page);
      break;
    }
    // Hyper-V VSM: the platform picks the pages VTL1 protects and the page VTL0 writes,
    // since which pages VTL1 has protected is its state.
    case OP.protect:
      yield platform.execute(vcpu, INSN.VTL_PROTECT, pages);
      break;
    case OP["secure-touch"]:
      yield* platform.execute(vcpu, INSN.SECURE_WRITE, arg);
      break;
    case OP["vtl-ipi"]: {
      const target = (vcpu.index + 1) % vm.vcpus.length;
      vcpu.ipiAck.clear();
      yield* platform.execute(vcpu, INSN.VTL_IPI, target);
      yield* vcpu.spinUntil(vcpu.ipiAck);
      break;
    }
    default:
      throw new Error(`${vcpu.name} cannot perform guest operation ${op}`);
  }
}

/**
 * The guest has nothing to run for `cycles`: it arms its timer for the end (unless an
 * earlier deadline is armed, e.g. its tick) and halts until then, handling what wakes it.
 */
function* idleFor(vcpu: Vcpu, cycles: number, once: boolean): Flow {
  const end = vcpu.cursorCycles + cycles;
  const armed = vcpu.timer.deadlineCycles;
  if (armed < 0 || armed > end) yield* vcpu.platform.execute(vcpu, INSN.TSC_DEADLINE, end);
  while (vcpu.cursorCycles < end) {
    yield* vcpu.halt();
    if (vcpu.pendingIrqs !== 0) yield* vcpu.guestInterrupts();
    if (once) return;
  }
}

/** Everything a vCPU thread works with. */
export interface VcpuLoopEnv {
  vcpu: Vcpu;
  vm: Vm;
  /** The vCPU's program, or undefined for a vCPU with nothing to do. */
  program: SequenceProgram | undefined;
  /** Global workload id of each program in the sequence. */
  workloadIds: number[];
  recorder: Recorder;
  /** Called once when the program has ended. */
  onFinished: () => void;
}

/** The vCPU thread's body. */
export function* vcpuLoop(env: VcpuLoopEnv): Flow {
  const { vcpu, vm, program, recorder, workloadIds } = env;
  yield* vcpu.takeCpu();
  vcpu.loadVcpu(vcpu); // the first KVM_RUN loads it
  vm.startTick(vcpu);
  yield* vcpu.enterGuest(); // the first KVM_RUN
  if (program !== undefined) {
    const latency = recorder.operationLatency;
    const workloads = recorder.workloads;
    let current = program.current;
    for (;;) {
      if (vm.terminated) break;
      const op = program.next(vcpu.cursorCycles);
      while (current < program.current) workloads[workloadIds[current++]].finishedVcpus++;
      if (op === OP_IDLE) {
        yield* idleFor(vcpu, program.gapCycles, program.haltOnce === true);
        continue;
      }
      // Always run (and so yield) once per operation, even for zero compute.
      const delay = vcpu.beginGuest(program.gapCycles);
      if (delay < 0) yield* vcpu.runGuest(program.gapCycles);
      else {
        const rest = vcpu.endGuest(yield delay);
        if (rest !== undefined) yield* rest;
      }
      if (op === OP_DONE) break;
      if (op === OP_NONE) continue;
      const start = vcpu.cursorCycles;
      const workload = workloads[workloadIds[current]];
      vcpu.currentOp = op;
      // Single-instruction operations go straight to the platform (one generator less).
      const insn = SINGLE_INSN[op];
      if (insn >= 0) yield* vcpu.platform.execute(vcpu, insn, 0);
      else if (op === VIRTIO_RR && !vm.faultDue(vcpu)) {
        // The common request, written out here (the hottest I/O path: two generators fewer
        // than multiStep's, which also handles the faulty ones).
        const request = vm.net!.post(vcpu);
        yield* vcpu.platform.execute(vcpu, INSN.VIRTIO_NOTIFY, vcpu.index);
        while (!request.done.isSet) { // Vcpu.idleUntil and halt, written out
          const delay = vcpu.beginHalt();
          if (delay < 0) yield* vcpu.haltWithoutPoll(delay);
          else {
            yield delay;
            const rest = vcpu.endHaltPoll();
            if (rest !== undefined) yield* rest;
          }
          if (vcpu.pendingIrqs === 0) continue;
          const rest = vcpu.takeIrqs();
          if (rest !== undefined) yield* rest;
        }
      } else if (op === OP.memory) {
        yield memoryBatch(vcpu, vm, vm.translation!, program.batch!, workload.memory!);
      } else yield* multiStep(vcpu, vm, op, program.arg, program.pages);
      if (vcpu.pendingIrqs !== 0) {
        const rest = vcpu.takeIrqs();
        if (rest !== undefined) yield* rest;
      }
      vcpu.currentOp = -1;
      vcpu.timeline?.operation(vcpu.lane, op, start, vcpu.cursorCycles - start);
      if (op === OP.memory) {
        // A batch counts as its accesses, each taking its share of the batch's time.
        const accesses = program.batch!.accesses;
        if (accesses > 0) {
          latency[op].record(Math.round((vcpu.cursorCycles - start) / accesses), accesses);
          workload.operations += accesses;
        }
      } else {
        latency[op].record(vcpu.cursorCycles - start);
        workload.operations++;
      }
    }
    env.onFinished();
    yield* vcpu.pause(); // the run may end here (all workloads complete)
  }
  // Nothing (more) to do: the guest's idle loop halts until interrupts wake it.
  for (;;) {
    if (vm.terminated) {
      yield* vcpu.shutdown();
      return;
    }
    yield* vcpu.halt();
    if (vcpu.pendingIrqs !== 0) yield* vcpu.guestInterrupts();
  }
}
