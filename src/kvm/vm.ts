/**
 * A VM on the emulated host: its vCPU threads and its userspace VMM's shared state.
 *
 * @module
 */

import { Mutex, type Simulator } from "../engine/mod.ts";
import { Vcpu } from "./vcpu.ts";

/** A guest VM. */
export class Vm {
  readonly name: string;
  readonly vcpus: Vcpu[];
  readonly memoryMiB: number;
  /** The VMM's global device lock (QEMU's BQL): device emulation in userspace takes it. */
  readonly vmmLock: Mutex;

  constructor(
    sim: Simulator,
    costs: Float64Array,
    name: string,
    vcpuCount: number,
    memoryMiB: number,
  ) {
    this.name = name;
    this.memoryMiB = memoryMiB;
    this.vcpus = Array.from({ length: vcpuCount }, (_, i) => new Vcpu(sim, costs, name, i));
    this.vmmLock = new Mutex(sim, `${name}/vmm-lock`);
  }
}
