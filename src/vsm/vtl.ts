/**
 * Hyper-V Virtual Trust Levels as the host keeps them for one VM: which VTL each vCPU
 * runs, each VTL's private registers and pending interrupts (its own local APIC), and each
 * VTL's view of guest memory (read/write/execute per 4 KiB page, as a higher VTL set it).
 *
 * Everything is typed arrays indexed by vCPU and VTL, so a large guest costs one byte per
 * page per VTL and switching VTLs allocates nothing. VTL0's own interrupts stay on the
 * vCPU's local APIC (`Vcpu.pendingIrqs`); higher VTLs' interrupts live here, because a
 * higher VTL's interrupt must switch the vCPU out of VTL0 rather than run a VTL0 handler.
 *
 * @module
 */

/** The normal VTL (the guest OS). */
export const VTL0 = 0;
/** The secure VTL (the secure kernel). */
export const VTL1 = 1;
/** Highest VTL count the Hyper-V TLFS allows (VTL0-VTL15); VSM on KVM uses two or three. */
export const MAX_VTLS = 16;

/** Access bits of a VTL's view of one page. */
export const ACCESS_READ = 1;
export const ACCESS_WRITE = 2;
export const ACCESS_EXECUTE = 4;
export const ACCESS_ALL = ACCESS_READ | ACCESS_WRITE | ACCESS_EXECUTE;
/** What W^X protections give code (read and execute, no write) and data (no execute). */
export const ACCESS_CODE = ACCESS_READ | ACCESS_EXECUTE;
export const ACCESS_DATA = ACCESS_READ | ACCESS_WRITE;

/** VTL1 interrupt sources the model raises, one bit each. */
export const VTL_IRQ_IPI = 1;

/**
 * Registers each VTL keeps its own copy of (the TLFS's VTL-private processor state); the
 * rest (general-purpose and vector registers, CR2, DR0-DR3, MTRRs) VTLs share. An
 * in-kernel switch swaps these; a minimal userspace switch transfers these and no more.
 */
export const PRIVATE_REGISTERS = [
  "rip",
  "rsp",
  "rflags",
  "cr0",
  "cr3",
  "cr4",
  "dr7",
  "efer",
  "pat",
  "star",
  "lstar",
  "cstar",
  "sfmask",
  "kernel-gs-base",
  "sysenter-cs",
  "sysenter-eip",
  "sysenter-esp",
  "cs",
  "ss",
  "tr",
  "ldtr",
  "gdtr",
  "idtr",
  "apic-base",
] as const;

const REGISTER_COUNT = PRIVATE_REGISTERS.length;
const RIP = 0;

/** The VTL state of one VM. */
export class VtlState {
  readonly vcpus: number;
  readonly vtls: number;
  /** Pages of guest memory. */
  readonly pages: number;
  /** VTL each vCPU runs. */
  readonly active: Uint8Array;
  /** Pending interrupt bits of each higher VTL's local APIC, at [vcpu * vtls + vtl]. */
  readonly #pending: Int32Array;
  /** Private registers of each VTL, at [(vcpu * vtls + vtl) * REGISTER_COUNT + register]. */
  readonly #registers: Float64Array;
  /** Access bits of each VTL's view, per page (set by the VTL above it). */
  readonly views: Uint8Array[];

  constructor(vcpus: number, pages: number, vtls = 2) {
    if (!Number.isInteger(vtls) || vtls < 2 || vtls > MAX_VTLS) {
      throw new RangeError(`Cannot create ${vtls} VTLs: expected 2 to ${MAX_VTLS}`);
    }
    this.vcpus = vcpus;
    this.vtls = vtls;
    this.pages = pages;
    this.active = new Uint8Array(vcpus);
    this.#pending = new Int32Array(vcpus * vtls);
    this.#registers = new Float64Array(vcpus * vtls * REGISTER_COUNT);
    this.views = Array.from({ length: vtls }, () => new Uint8Array(pages).fill(ACCESS_ALL));
  }

  /** Interrupt bits pending for `vtl` of vCPU `vcpu`. */
  pending(vcpu: number, vtl: number): number {
    return this.#pending[vcpu * this.vtls + vtl];
  }

  /** Makes interrupt `bits` pending for `vtl` of vCPU `vcpu`. */
  raise(vcpu: number, vtl: number, bits: number): void {
    this.#pending[vcpu * this.vtls + vtl] |= bits;
  }

  /** Takes the lowest pending interrupt bit of `vtl` on `vcpu` (0 when none). */
  take(vcpu: number, vtl: number): number {
    const at = vcpu * this.vtls + vtl;
    const bits = this.#pending[at];
    const lowest = bits & -bits;
    this.#pending[at] = bits & ~lowest;
    return lowest;
  }

  /**
   * `vcpu` runs `vtl` from now on. Each VTL's private registers stay in its own slot, so a
   * switch is a change of the live slot: nothing is copied (as KVM swapping VMCS fields).
   */
  activate(vcpu: number, vtl: number): void {
    this.active[vcpu] = vtl;
  }

  /** The instruction pointer `vtl` of `vcpu` resumes at (an offset from its entry). */
  rip(vcpu: number, vtl: number): number {
    return this.#registers[(vcpu * this.vtls + vtl) * REGISTER_COUNT + RIP];
  }

  /** Moves `vtl`'s instruction pointer past an instruction of `bytes` (a completed VMCALL). */
  advanceRip(vcpu: number, vtl: number, bytes: number): void {
    this.#registers[(vcpu * this.vtls + vtl) * REGISTER_COUNT + RIP] += bytes;
  }
}
