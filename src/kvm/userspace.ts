/**
 * The userspace exit loop: KVM_RUN returns to the VMM, the VMM handles the exit under
 * its device lock, and calls KVM_RUN again.
 *
 * @module
 */

import { P } from "../host/primitives.ts";
import type { Flow } from "../host/thread.ts";
import type { Vcpu } from "./vcpu.ts";
import type { Vm } from "./vm.ts";

/**
 * IOCTL_RET → (wait for the VMM lock) → `handlerPrim` in the VMM → IOCTL_ENTER.
 * Runs on the vCPU's own thread, as QEMU's vCPU threads do.
 */
export function* userspaceExit(vcpu: Vcpu, vm: Vm, handlerPrim: number): Flow {
  vcpu.step(P.IOCTL_RET);
  yield* vcpu.acquire(vm.vmmLock, P.WAIT_VMM_LOCK);
  vcpu.step(handlerPrim);
  yield* vcpu.sync(); // release the lock when the handler really ends
  vm.vmmLock.release();
  vcpu.step(P.IOCTL_ENTER);
}
