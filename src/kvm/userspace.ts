/**
 * The userspace exit loop: KVM_RUN returns to the VMM, the VMM handles the exit under its
 * device lock, and calls KVM_RUN again. Also the VMM's full register sync, counted in
 * ioctls.
 *
 * @module
 */

import { P } from "../host/primitives.ts";
import type { Flow } from "../host/thread.ts";
import type { Vcpu } from "./vcpu.ts";
import type { Vm } from "./vm.ts";

/**
 * IOCTL_RET → (wait for the VMM lock) → the handler's steps in the VMM → IOCTL_ENTER.
 * Runs on the vCPU's own thread, as QEMU's vCPU threads do.
 */
export function* userspaceExit(vcpu: Vcpu, vm: Vm, ...handlerPrims: number[]): Flow {
  vcpu.step(P.IOCTL_RET);
  yield* vcpu.waitOn(vm.vmmLock, P.WAIT_VMM_LOCK);
  for (const prim of handlerPrims) vcpu.step(prim);
  if (vcpu.lagCycles > 0) yield vcpu.lagCycles; // release the lock when the handler really ends
  vm.vmmLock.release();
  vcpu.step(P.IOCTL_ENTER);
}

/**
 * ioctls a VMM issues for a full register sync in each direction: QEMU reads or writes
 * regs, sregs, FPU/XSAVE, XCRs, MSRs, LAPIC, vCPU events, debug regs and more.
 * Source: flows.md section A.1 ("about 10-12 ioctls each"), the midpoint.
 */
export const STATE_SYNC_IOCTLS = 11;

/** The VMM reads the vCPU's whole state (STATE_SYNC_GET, one step per ioctl). */
export function stateSyncGet(vcpu: Vcpu, ioctls = STATE_SYNC_IOCTLS): void {
  vcpu.stepTimes(P.STATE_SYNC_GET, ioctls);
}

/** The VMM writes the vCPU's whole state back (STATE_SYNC_PUT, one step per ioctl). */
export function stateSyncPut(vcpu: Vcpu, ioctls = STATE_SYNC_IOCTLS): void {
  vcpu.stepTimes(P.STATE_SYNC_PUT, ioctls);
}
