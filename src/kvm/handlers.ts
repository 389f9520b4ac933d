/**
 * KVM's handlers for what an exit asked for, once the exit path (VMX, a TD exit, an SNP
 * VMGEXIT) has brought the request to KVM: the same on every x86 platform. (Port and MMIO
 * device accesses stay inline at each exit path: their in-kernel case is the hottest path
 * and needs no generator.)
 *
 * @module
 */

import { P } from "../host/primitives.ts";
import type { Flow } from "../host/thread.ts";
import { userspaceExit } from "./userspace.ts";
import type { Vcpu } from "./vcpu.ts";
import type { Vm } from "./vm.ts";

/** A TSC-deadline write: KVM arms the vCPU's timer (at the handler's own time). */
export function* armTscDeadline(vcpu: Vcpu, deadlineCycles: number): Flow {
  vcpu.step(P.KVM_TSC_DEADLINE);
  if (vcpu.lagCycles > 0) yield vcpu.lagCycles;
  vcpu.timer.arm(deadlineCycles);
}

/** An ICR write KVM emulates: it sends the IPI to vCPU `target`. */
export function* emulateIpi(vcpu: Vcpu, vm: Vm, target: number): Flow {
  vcpu.step(P.KVM_IPI_SEND);
  if (vcpu.lagCycles > 0) yield vcpu.lagCycles;
  vm.sendIpi(vcpu, target, vcpu);
}

/**
 * The common virtio notify, without a generator: KVM signals the ioeventfd and the
 * queue's sleeping vhost worker wakes at the vCPU's time (VirtioNet.notifyAhead). False,
 * with nothing done, when the notify needs {@linkcode notifyVirtio}.
 */
export function notifiedAhead(vcpu: Vcpu, vm: Vm, queue: number): boolean {
  const net = vm.net!;
  if (!net.canNotifyAhead(queue)) return false;
  vcpu.step(P.KVM_IOEVENTFD);
  net.notifyAhead(queue, vcpu);
  return true;
}

/**
 * A virtio notify KVM has decoded: the VMM processes the queue on the vCPU thread (no
 * ioeventfd), or the ioeventfd wakes the queue's backend.
 */
export function* notifyVirtio(vcpu: Vcpu, vm: Vm, queue: number, onVcpuThread: boolean): Flow {
  const net = vm.net!;
  if (onVcpuThread) {
    yield* userspaceExit(vcpu, vm, P.VMM_VIRTIO_TX, P.SYSCALL);
    net.sentByVcpu(queue);
    return;
  }
  vcpu.step(P.KVM_IOEVENTFD);
  if (vcpu.lagCycles > 0) yield vcpu.lagCycles;
  net.notify(queue, vcpu);
}
