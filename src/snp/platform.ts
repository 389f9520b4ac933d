/**
 * AMD SEV-SNP guests on KVM: flows B.1-B.5 of flows.md, step by step.
 *
 * - Exits: an instruction the guest cannot run natively (CPUID of a hypervisor leaf,
 *   IN/OUT, MMIO, MSRs, VMMCALL) raises a #VC in the guest, whose handler fills the shared
 *   GHCB page and makes a VMGEXIT; KVM reads the GHCB, handles the request and writes the
 *   results back. Interrupts, HLT and nested page faults are automatic exits. Every exit
 *   saves the guest's state into its encrypted VMSA. KVM inhibits AVIC for SEV guests, so
 *   interrupts to a running vCPU always kick it out and are injected at entry.
 * - B.1 / B.2 Page state change (PSC): the guest asks for pages to become private or
 *   shared, one 4 KiB page per VMGEXIT with the GHCB MSR protocol, or up to 64 entries
 *   (2 MiB ones where aligned) per VMGEXIT through the GHCB. KVM handles it in the kernel
 *   (the 2021 series: build the NPT entry, wait for kernel mappers on an SRCU, PSMASH if a
 *   2 MiB entry must split, RMPUPDATE, update the direct map) or forwards each range to the
 *   VMM as a map-GPA exit (upstream: KVM_SET_MEMORY_ATTRIBUTES, and for private to shared a
 *   guest_memfd hole punch whose invalidation does RMPUPDATE and a cache flush; shared to
 *   private defers RMPUPDATE to the next fault).
 * - B.3 Nested page faults carry RMP bits: a private fault allocates, clears and assigns
 *   the page (RMPUPDATE); a leaf whose size disagrees with the RMP entry is fixed (PSMASH,
 *   or zapping a 2 MiB leaf); a private access to a page KVM holds shared exits to the VMM,
 *   which converts it. Touching a private page the guest never validated raises #VC; the
 *   handler here validates it (accepts it lazily).
 * - PVALIDATE: the guest validates what it made private (a 2 MiB PVALIDATE where the range
 *   is aligned; on FAIL_SIZEMISMATCH, because the RMP has 4 KiB entries there, 512 4 KiB
 *   ones) and rescinds validation before making pages shared.
 * - B.5 Launch: before any vCPU runs, the VMM's thread runs SNP_LAUNCH_START, then for
 *   each page of the firmware image RMPUPDATE and SNP_LAUNCH_UPDATE (upstream first copies
 *   the page into guest_memfd), then one SNP_LAUNCH_UPDATE per vCPU's VMSA and
 *   SNP_LAUNCH_FINISH. Every command goes through the host's single PSP.
 * - An RMPUPDATE of a page that is a running vCPU's VMSA fails with FAIL_INUSE: KVM kicks
 *   every vCPU out of guest mode and retries.
 *
 * @module
 */

import type { FifoServer } from "../engine/mod.ts";
import { EXIT } from "../host/exit_reasons.ts";
import {
  PAGE_ACCEPTED,
  PAGE_MAPPED,
  PAGE_PRIVATE,
  PAGES_PER_2M,
  REGION_HUGE,
} from "../host/memory.ts";
import { P, type PrimitiveName } from "../host/primitives.ts";
import type { PageSize } from "../host/translation.ts";
import { Srcu } from "../host/srcu.ts";
import type { Flow, HostThread } from "../host/thread.ts";
import { kickAndWait } from "../kvm/kick.ts";
import {
  type ChoiceSpec,
  type DesignSpec,
  EXIT_KIND,
  EXIT_KIND_COUNT,
  type HostHardware,
  INSN,
  type PlatformSpec,
  type PlatformVm,
} from "../kvm/platform.ts";
import { armTscDeadline, emulateIpi, notifiedAhead, notifyVirtio } from "../kvm/handlers.ts";
import { userspaceExit } from "../kvm/userspace.ts";
import type { Vcpu, VcpuHostConfig } from "../kvm/vcpu.ts";
import type { Vm } from "../kvm/vm.ts";
import { X86_COMMON_OPERATIONS, X86_COMMON_PRIMITIVES, X86_IO_CHOICES } from "../kvm/x86.ts";
import { pspCommand } from "./psp.ts";
import { Rmp } from "./rmp.ts";

/** Entries a GHCB page-state-change request holds (Linux's VMGEXIT_PSC_MAX_ENTRY). */
export const PSC_MAX_ENTRIES = 64;

/**
 * 4 KiB pages of the measured firmware image the launch puts into the guest. Estimate: a
 * small OVMF/SVSM-less firmware volume of about 1 MiB; a bigger image scales the launch
 * linearly. The image lies outside the RAM the model tracks (at the top of the 4 GiB hole).
 */
export const LAUNCH_IMAGE_PAGES = 256;

const SNP_REASONS = (() => {
  const table = new Int32Array(EXIT_KIND_COUNT).fill(EXIT.VMGEXIT);
  table[EXIT_KIND.TDP_FAULT] = EXIT.NPF;
  table[EXIT_KIND.HLT] = EXIT.HLT;
  table[EXIT_KIND.EXTERNAL] = EXIT.INTR;
  table[EXIT_KIND.TIMER] = EXIT.INTR; // no preemption timer: the hrtimer's host interrupt
  return table;
})();

/** Exit kinds that are automatic exits (no guest request, no GHCB). */
const AUTOMATIC = (() => {
  const table = new Uint8Array(EXIT_KIND_COUNT);
  for (const kind of [EXIT_KIND.TDP_FAULT, EXIT_KIND.HLT, EXIT_KIND.EXTERNAL, EXIT_KIND.TIMER]) {
    table[kind] = 1;
  }
  return table;
})();

/** An SNP guest's flows. */
class SnpVm implements PlatformVm {
  readonly #vm: Vm;
  readonly #rmp: Rmp;
  readonly #psp: FifoServer;
  readonly #pscInKernel: boolean;
  readonly #msrProtocol: boolean;
  /** The guest uses 2 MiB PSC entries and PVALIDATEs where a range is aligned. */
  readonly #guest2m: boolean;
  /** The host makes 2 MiB RMP entries and NPT leaves for private memory where it can. */
  readonly #host2m: boolean;
  /** What host writes to guest-private memory do (S7). */
  readonly #hostAccess: string;
  /** Policy (i): kernel maps of guest memory read-lock `pscSrcu` and check the RMP. */
  readonly #guardMaps: boolean;
  /** Per vCPU: the SRCU token of its mapped GHCB (policy i), or -1. */
  readonly #ghcbMapToken: Int32Array;
  /** Pages the host converted to shared behind the guest's back (policy ii). */
  readonly #stolenPages = new Set<number>();
  readonly #devicesInKernel: boolean;
  readonly #notifyOnVcpuThread: boolean;
  /**
   * The SRCU that kernel mappers of guest memory read-lock (policy i: KVM's map of the
   * GHCB for the length of an exit) and that a PSC handled in KVM waits for.
   */
  readonly pscSrcu: Srcu;
  /** Per 2 MiB region: the host's direct map there is split into 4 KiB (the 2021 series). */
  readonly #directMapSplit: Uint8Array;
  /** Per vCPU: 1 while in guest mode (its VMSA in use). */
  readonly #inGuest: Uint8Array;
  /** Per vCPU: the guest page holding its VMSA, or -1 (KVM's own launch page). */
  readonly #vmsaPage: Int32Array;
  /** The VM's MMIO region has its #VC mapping (after the first access). */
  #mmioInstalled = false;

  constructor(vm: Vm, choices: Record<string, string>, hardware: HostHardware) {
    this.#vm = vm;
    const memory = vm.memory;
    const vcpus = vm.vcpus.length;
    this.#rmp = new Rmp(memory);
    this.#psp = hardware.psp;
    this.#pscInKernel = choices.psc === "kernel";
    this.#msrProtocol = choices["psc-protocol"] === "msr";
    this.#guest2m = choices["page-size"] !== "4K";
    this.#host2m = choices["page-size"] === "2M";
    this.#hostAccess = choices["host-access"];
    this.#guardMaps = this.#hostAccess === "sigbus";
    this.#ghcbMapToken = new Int32Array(vcpus).fill(-1);
    this.#devicesInKernel = choices.devices === "kernel";
    this.#notifyOnVcpuThread = choices.virtio === "vmm-vcpu";
    this.pscSrcu = new Srcu(vm.vcpus[0].sim, `${vm.name}/psc-srcu`);
    this.#directMapSplit = new Uint8Array(memory.regionFlags.length);
    this.#inGuest = new Uint8Array(vcpus);
    this.#vmsaPage = new Int32Array(vcpus).fill(-1);
    // QEMU makes all guest RAM private before the launch; nothing is validated yet. I/O
    // goes through bounce buffers.
    memory.pageFlags.fill(PAGE_PRIVATE);
    vm.bounceBuffers = true;
    // KVM inhibits AVIC for SEV guests (APICV_INHIBIT_REASON_SEV): no posted interrupts,
    // no virtualized ICR writes, whatever the host offers plain guests.
    const config: VcpuHostConfig = {
      ...vm.vcpus[0].config,
      postedInterrupts: false,
      ipiVirtualization: false,
    };
    for (const vcpu of vm.vcpus) (vcpu as { config: VcpuHostConfig }).config = config;
    // The guest started its APs with SNP AP creation: each AP's VMSA is a guest page (the
    // last pages of memory here) it made a VMSA with RMPADJUST.
    for (let i = 1; i < vcpus && memory.pages - i >= 0; i++) {
      const page = memory.pages - i;
      this.#vmsaPage[i] = page;
      this.#rmp.makeVmsa(page);
      memory.pageFlags[page] = PAGE_PRIVATE | PAGE_ACCEPTED;
      memory.map4k(page);
    }
  }

  /** The guest's RMP entries (for tests and reports). */
  get rmp(): Rmp {
    return this.#rmp;
  }

  /** An exit: automatic, or a VMGEXIT (its guest side is charged by the caller). */
  exit(vcpu: Vcpu, kind: number): void {
    vcpu.countExit(SNP_REASONS[kind]);
    this.#inGuest[vcpu.index] = 0;
    vcpu.step(AUTOMATIC[kind] === 1 ? P.SNP_AUTOMATIC_EXIT : P.VMGEXIT);
    vcpu.step(P.KVM_EXIT_DISPATCH);
  }

  enter(vcpu: Vcpu): void {
    if (this.#ghcbMapToken[vcpu.index] >= 0) this.#unmapGhcb(vcpu);
    vcpu.step(P.SNP_VMRUN);
    this.#inGuest[vcpu.index] = 1;
  }

  /**
   * A request through the GHCB page: the guest fills it and exits, KVM maps and reads it.
   * Under policy (i) the map is guarded: an SRCU read-side section, held until the GHCB is
   * unmapped before the next entry, and an RMP check.
   */
  #ghcbExit(vcpu: Vcpu, kind: number): void {
    vcpu.step(P.GUEST_GHCB_CALL);
    this.exit(vcpu, kind);
    if (this.#guardMaps) {
      this.#ghcbMapToken[vcpu.index] = this.pscSrcu.readLock();
      vcpu.step(P.SNP_POST_MAP);
    }
    vcpu.step(P.KVM_GHCB_SYNC);
  }

  /** Unmaps the vCPU's guarded GHCB map: its SRCU read-side section ends. */
  #unmapGhcb(vcpu: Vcpu): void {
    this.pscSrcu.readUnlock(this.#ghcbMapToken[vcpu.index]);
    this.#ghcbMapToken[vcpu.index] = -1;
  }

  /** An intercepted instruction: #VC in the guest, then the GHCB request. */
  #vcExit(vcpu: Vcpu, kind: number): void {
    vcpu.step(P.GUEST_VC);
    this.#ghcbExit(vcpu, kind);
  }

  *execute(vcpu: Vcpu, insn: number, arg: number): Flow {
    const vm = this.#vm;
    switch (insn) {
      case INSN.CPUID: // a hypervisor leaf: the CPUID page cannot answer it
        this.#vcExit(vcpu, EXIT_KIND.CPUID);
        vcpu.step(P.KVM_CPUID);
        break;
      case INSN.HYPERCALL: // VMMCALL is intercepted: #VC, then the GHCB
        this.#vcExit(vcpu, EXIT_KIND.HYPERCALL);
        vcpu.step(P.KVM_HYPERCALL);
        break;
      case INSN.PIO_READ:
      case INSN.PIO_WRITE:
        this.#vcExit(vcpu, EXIT_KIND.PIO);
        if (this.#devicesInKernel) vcpu.step(P.KVM_PIO);
        else yield* userspaceExit(vcpu, vm, P.VMM_PIO);
        break;
      case INSN.MMIO_READ:
      case INSN.MMIO_WRITE:
        yield* this.#mmioReady(vcpu);
        this.#vcExit(vcpu, EXIT_KIND.MMIO); // the #VC handler decoded it: no emulation in KVM
        if (this.#devicesInKernel) vcpu.step(P.KVM_MMIO_DEVICE);
        else yield* userspaceExit(vcpu, vm, P.VMM_MMIO);
        break;
      case INSN.MSR_READ:
      case INSN.MSR_WRITE:
        this.#vcExit(vcpu, insn === INSN.MSR_READ ? EXIT_KIND.MSR_READ : EXIT_KIND.MSR_WRITE);
        vcpu.step(P.KVM_MSR);
        break;
      case INSN.TSC_DEADLINE:
        this.#vcExit(vcpu, EXIT_KIND.MSR_WRITE);
        yield* armTscDeadline(vcpu, arg);
        break;
      case INSN.ICR_WRITE: // no AVIC: every ICR write exits
        this.#vcExit(vcpu, EXIT_KIND.MSR_WRITE);
        yield* emulateIpi(vcpu, vm, arg);
        break;
      case INSN.VIRTIO_NOTIFY: {
        vcpu.step(P.GUEST_BOUNCE_COPY); // the request goes out through a shared buffer
        yield* this.#mmioReady(vcpu);
        this.#vcExit(vcpu, EXIT_KIND.MMIO);
        if (this.#notifyOnVcpuThread || !notifiedAhead(vcpu, vm, arg)) {
          yield* notifyVirtio(vcpu, vm, arg, this.#notifyOnVcpuThread);
        }
        break;
      }
      case INSN.MEM_TOUCH:
        yield* this.#touch(vcpu, arg);
        return;
      case INSN.ACCEPT_4K:
        yield this.#accept(vcpu, arg, 1);
        return;
      case INSN.ACCEPT_2M: {
        const first = arg * PAGES_PER_2M;
        yield this.#accept(vcpu, first, Math.min(PAGES_PER_2M, vm.memory.pages - first));
        return;
      }
      case INSN.MAP_GPA_SHARED:
      case INSN.MAP_GPA_PRIVATE: {
        const first = arg * PAGES_PER_2M;
        const count = Math.min(PAGES_PER_2M, vm.memory.pages - first);
        yield this.#convert(vcpu, first, count, insn === INSN.MAP_GPA_SHARED);
        return;
      }
      case INSN.MAP_GPA_SHARED_4K:
      case INSN.MAP_GPA_PRIVATE_4K:
        yield this.#convert(vcpu, arg, 1, insn === INSN.MAP_GPA_SHARED_4K);
        return;
      default:
        throw new Error(`${vcpu.name} cannot execute instruction ${insn}`);
    }
    if (vcpu.needResched) yield* vcpu.preempt();
    vcpu.enter();
  }

  /** The first MMIO access of the VM faults so KVM can map the region to raise #VC. */
  *#mmioReady(vcpu: Vcpu): Flow {
    if (this.#mmioInstalled) return;
    this.#mmioInstalled = true;
    this.exit(vcpu, EXIT_KIND.TDP_FAULT);
    vcpu.step(P.KVM_MMU_FAULT);
    if (vcpu.needResched) yield* vcpu.preempt();
    vcpu.enter();
  }

  // ---- Launch (B.5) ----------------------------------------------------------------

  /**
   * The VMM launches the guest through KVM and the PSP: start, one update per page of the
   * firmware image and per vCPU's VMSA, finish. The PSP serves one command at a time for
   * the whole host, so concurrent launches queue for it.
   */
  *launch(thread: HostThread): Flow {
    const psp = this.#psp;
    thread.step(P.SYSCALL); // KVM_SEV_SNP_LAUNCH_START
    yield* pspCommand(thread, psp, P["PSP_CMD(SNP_LAUNCH_START)"]);
    thread.step(P.SYSCALL); // KVM_SEV_SNP_LAUNCH_UPDATE for the image
    for (let page = 0; page < LAUNCH_IMAGE_PAGES; page++) {
      thread.step(P.PAGE_ALLOC);
      if (this.#hostAccess === "guest-memfd") thread.step(P.PAGE_COPY); // into guest_memfd
      thread.step(P.RMPUPDATE);
      yield* pspCommand(thread, psp, P["PSP_CMD(SNP_LAUNCH_UPDATE)"]);
    }
    thread.step(P.SYSCALL); // KVM_SEV_SNP_LAUNCH_FINISH: each vCPU's VMSA, then finish
    for (let i = 0; i < this.#vm.vcpus.length; i++) {
      thread.step(P.RMPUPDATE);
      yield* pspCommand(thread, psp, P["PSP_CMD(SNP_LAUNCH_UPDATE)"]);
    }
    yield* pspCommand(thread, psp, P["PSP_CMD(SNP_LAUNCH_FINISH)"]);
  }

  // ---- Guest memory: accept, convert, touch ------------------------------------------

  /** Accepts [first, first + count): PSC to private, then PVALIDATE. */
  *#accept(vcpu: Vcpu, first: number, count: number): Flow {
    if (this.#rmp.allValidated(first, count)) {
      vcpu.step(P.PVALIDATE); // already validated: PVALIDATE reports no change
      return;
    }
    yield this.#pageStateChange(vcpu, first, count, true);
    yield this.#pvalidate(vcpu, first, count, true);
    this.#markAccepted(first, count, true);
  }

  /**
   * Converts [first, first + count), a 2 MiB chunk or one 4 KiB page (the guest's
   * set_memory_decrypted / _encrypted): to shared, rescind validation first, then PSC; to
   * private, PSC, then validate.
   */
  *#convert(vcpu: Vcpu, first: number, count: number, toShared: boolean): Flow {
    if (toShared) {
      yield this.#pvalidate(vcpu, first, count, false);
      yield this.#pageStateChange(vcpu, first, count, false);
      this.#markAccepted(first, count, false);
    } else {
      yield this.#pageStateChange(vcpu, first, count, true);
      yield this.#pvalidate(vcpu, first, count, true);
      this.#markAccepted(first, count, true);
    }
  }

  /** Records in the guest's own bookkeeping (its accepted-memory bitmap) what it accepted. */
  #markAccepted(first: number, count: number, accepted: boolean): void {
    const memory = this.#vm.memory;
    const flags = memory.pageFlags;
    for (let page = first; page < first + count; page++) {
      if (accepted) memory.addPageFlags(page, PAGE_ACCEPTED);
      else memory.setPageFlags(page, flags[page] & ~PAGE_ACCEPTED);
    }
  }

  /** Shared pages are ready once mapped; private ones once validated and mapped to match. */
  pageReady(page: number): boolean {
    const flags = this.#vm.memory.pageFlags[page];
    if ((flags & PAGE_PRIVATE) === 0) return (flags & PAGE_MAPPED) !== 0;
    return this.#rmp.isValidated(page) && this.#privateReady(page);
  }

  needsAccept(page: number): boolean {
    return (this.#vm.memory.pageFlags[page] & PAGE_PRIVATE) !== 0 && !this.#rmp.isValidated(page);
  }

  rmpPageSize(page: number): PageSize {
    return this.#rmp.is2M(page) ? "2M" : "4K";
  }

  /** A data access: shared pages fault in normally; private ones must be validated. */
  *#touch(vcpu: Vcpu, page: number): Flow {
    const flags = this.#vm.memory.pageFlags[page];
    if ((flags & PAGE_PRIVATE) === 0) {
      if ((flags & PAGE_MAPPED) === 0) yield* this.#sharedFault(vcpu, page);
      return;
    }
    if (!this.#rmp.isValidated(page)) {
      vcpu.step(P.GUEST_VC); // a private page not validated: #VC; the handler accepts it
      yield this.#accept(vcpu, page, 1);
      return;
    }
    while (!this.#privateReady(page)) yield* this.#privateFault(vcpu, page, false);
  }

  /**
   * PVALIDATE of [first, first + count) (validating, or rescinding before a conversion to
   * shared). The guest tries one 2 MiB PVALIDATE for an aligned 2 MiB range (when it has
   * the whole range to do); FAIL_SIZEMISMATCH (4 KiB RMP entries there) sends it to 4 KiB
   * ones. Each PVALIDATE first needs the page mapped and assigned (B.3 faults).
   */
  *#pvalidate(vcpu: Vcpu, first: number, count: number, validate: boolean): Flow {
    const rmp = this.#rmp;
    if (this.#guest2m && count === PAGES_PER_2M && (validate || rmp.allValidated(first, count))) {
      while (!this.#privateReady(first)) yield* this.#privateFault(vcpu, first, true);
      vcpu.step(P.PVALIDATE);
      if (rmp.is2M(first)) {
        rmp.setValidated(first, count, validate);
        return;
      }
    }
    for (let page = first; page < first + count; page++) {
      if (rmp.isValidated(page) === validate) continue;
      while (!this.#privateReady(page)) yield* this.#privateFault(vcpu, page, false);
      vcpu.step(P.PVALIDATE);
      rmp.setValidated(page, 1, validate);
    }
  }

  // ---- Page state change (B.1, B.2) --------------------------------------------------

  /**
   * The guest's PSC for [first, first + count): with the MSR protocol one VMGEXIT per 4 KiB
   * page; through the GHCB, entries of 2 MiB (a whole aligned chunk, when the guest uses
   * them) or 4 KiB, at most 64 per VMGEXIT.
   */
  *#pageStateChange(vcpu: Vcpu, first: number, count: number, toPrivate: boolean): Flow {
    if (this.#msrProtocol) {
      for (let page = first; page < first + count; page++) {
        vcpu.step(P.GHCB_MSR_PROTOCOL);
        this.exit(vcpu, EXIT_KIND.HYPERCALL);
        vcpu.step(P.KVM_GHCB_MSR);
        yield this.#convertRange(vcpu, page, 1, 1, toPrivate);
        if (vcpu.needResched) yield* vcpu.preempt();
        vcpu.enter();
      }
      return;
    }
    const entryPages = this.#guest2m && count === PAGES_PER_2M ? PAGES_PER_2M : 1;
    const entries = count / entryPages;
    for (let done = 0; done < entries; done += PSC_MAX_ENTRIES) {
      const batch = Math.min(PSC_MAX_ENTRIES, entries - done);
      vcpu.stepTimes(P.GUEST_PSC_ENTRY, batch);
      this.#ghcbExit(vcpu, EXIT_KIND.HYPERCALL);
      vcpu.stepTimes(P.KVM_PSC_ENTRY, batch);
      const start = first + done * entryPages;
      yield this.#convertRange(vcpu, start, batch * entryPages, entryPages, toPrivate);
      if (vcpu.needResched) yield* vcpu.preempt();
      vcpu.enter();
    }
  }

  /**
   * KVM's side of one PSC request for [first, first + count) in entries of `entryPages`:
   * in the kernel entry by entry (2021 series), or one map-GPA exit to the VMM for the
   * range (upstream: the entries of a request are adjacent, so they form one range).
   */
  *#convertRange(
    vcpu: Vcpu,
    first: number,
    count: number,
    entryPages: number,
    toPrivate: boolean,
  ): Flow {
    if (this.#pscInKernel) {
      for (let start = first; start < first + count; start += entryPages) {
        yield this.#kernelConvert(vcpu, start, entryPages, toPrivate);
      }
      return;
    }
    vcpu.step(P.IOCTL_RET); // KVM_EXIT_HYPERCALL(KVM_HC_MAP_GPA_RANGE)
    vcpu.step(P.VMM_MAPGPA);
    yield this.#setAttributes(vcpu, first, count, toPrivate);
    if (!toPrivate) yield this.#punchHole(vcpu, first, count);
    vcpu.step(P.IOCTL_ENTER); // shared to private: RMPUPDATE waits for the next fault
  }

  /**
   * One PSC entry handled in KVM (the 2021 series): build the NPT entry, wait for kernel
   * mappers (an SRCU grace period), then page by page (or for the whole 2 MiB entry when
   * the NPT leaf is 2 MiB too) under mmu_lock: PSMASH if only part of a 2 MiB RMP entry
   * changes, RMPUPDATE, and take the page out of (or put it back into) the host's direct
   * map, splitting the direct map the first time.
   */
  *#kernelConvert(vcpu: Vcpu, first: number, count: number, toPrivate: boolean): Flow {
    const vm = this.#vm;
    const memory = vm.memory;
    const rmp = this.#rmp;
    const region = Math.floor(first / PAGES_PER_2M);
    if (toPrivate) yield this.#buildNpt(vcpu, first, count);
    // The request's entries were copied out: the vCPU's own GHCB map must not hold up the
    // grace period it is about to wait for.
    if (this.#ghcbMapToken[vcpu.index] >= 0) this.#unmapGhcb(vcpu);
    yield* vcpu.waitOn(this.pscSrcu.gracePeriod(), P.WAIT_SRCU);
    vcpu.step(P.SRCU_SYNC);
    const huge = count === PAGES_PER_2M &&
      (toPrivate ? (memory.regionFlags[region] & REGION_HUGE) !== 0 : rmp.is2M(first));
    const unit = huge ? count : 1;
    for (let start = first; start < first + count; start += unit) {
      if (rmp.isAssigned(start) !== toPrivate) {
        yield* vcpu.waitOn(vm.mmuLock.write, P.WAIT_MMU_LOCK);
        if (!huge && rmp.is2M(start)) {
          vcpu.step(P.PSMASH); // part of a 2 MiB entry changes
          rmp.smash(start);
        }
        yield* this.#rmpUpdate(vcpu, start, unit, toPrivate);
        if (toPrivate && this.#directMapSplit[region] === 0) {
          this.#directMapSplit[region] = 1;
          vcpu.step(P.DIRECT_MAP_SPLIT);
          yield kickAndWait(vm.vcpus, vcpu); // the global TLB flush reaches running vCPUs
        }
        vcpu.stepTimes(P.DIRECT_MAP_UPDATE, unit);
        if (vcpu.lagCycles > 0) yield vcpu.lagCycles;
        vm.mmuLock.write.release();
      }
    }
    const flags = memory.pageFlags;
    for (let page = first; page < first + count; page++) {
      memory.setPageFlags(
        page,
        toPrivate ? flags[page] | PAGE_PRIVATE : flags[page] & ~PAGE_PRIVATE,
      );
    }
  }

  /**
   * The NPT entries for [first, first + count) before an in-kernel conversion to private,
   * through the normal fault path: the host pages are allocated and cleared first, then
   * installed under mmu_lock (read): one 2 MiB leaf for a whole free region when the host
   * maps 2 MiB, else a 4 KiB leaf for each page missing one.
   */
  *#buildNpt(vcpu: Vcpu, first: number, count: number): Flow {
    const vm = this.#vm;
    const memory = vm.memory;
    let missing = 0;
    for (let page = first; page < first + count; page++) if (!memory.isMapped(page)) missing++;
    if (missing === 0) return;
    const huge = count === PAGES_PER_2M && this.#canMapHuge(first, false);
    vcpu.stepTimes(P.PAGE_ALLOC, huge ? 1 : missing);
    vcpu.stepTimes(P.PAGE_CLEAR, missing);
    yield* vcpu.waitOn(vm.mmuLock.read, P.WAIT_MMU_LOCK);
    if (huge) {
      vcpu.step(P.KVM_MMU_FAULT);
      memory.map2m(first);
    } else {
      missing = 0;
      for (let page = first; page < first + count; page++) missing += memory.map4k(page);
      vcpu.stepTimes(P.KVM_MMU_FAULT, missing);
    }
    if (vcpu.lagCycles > 0) yield vcpu.lagCycles;
    vm.mmuLock.read.release();
  }

  /**
   * KVM_SET_MEMORY_ATTRIBUTES for [first, first + count) (the VMM's call, upstream): the
   * xarray updates under slots_lock, then under mmu_lock the zap of every leaf that mapped
   * a page whose attribute changes (a 2 MiB leaf goes whole), and a remote TLB flush.
   */
  *#setAttributes(vcpu: Vcpu, first: number, count: number, toPrivate: boolean): Flow {
    const vm = this.#vm;
    const memory = vm.memory;
    const flags = memory.pageFlags;
    yield* vcpu.waitOn(vm.slotsLock, P.WAIT_SLOTS_LOCK);
    vcpu.step(P.KVM_SET_ATTRIBUTES);
    vcpu.stepTimes(P.XA_OP, count);
    yield* vcpu.waitOn(vm.mmuLock.write, P.WAIT_MMU_LOCK);
    let leaves = 0;
    for (let page = first; page < first + count; page++) {
      const pageFlags = flags[page];
      if ((pageFlags & PAGE_MAPPED) === 0) continue;
      if (((pageFlags & PAGE_PRIVATE) !== 0) === toPrivate) continue;
      leaves++;
      if ((memory.regionFlags[Math.floor(page / PAGES_PER_2M)] & REGION_HUGE) !== 0) {
        this.#unmapRegion(page);
      } else {
        memory.unmap4k(page);
      }
    }
    if (leaves > 0) {
      vcpu.stepTimes(P.KVM_ZAP, leaves);
      yield kickAndWait(vm.vcpus, vcpu); // remote TLB flush
    }
    for (let page = first; page < first + count; page++) {
      if (toPrivate) flags[page] |= PAGE_PRIVATE;
      else flags[page] &= ~PAGE_PRIVATE;
    }
    if (vcpu.lagCycles > 0) yield vcpu.lagCycles;
    vm.mmuLock.write.release();
    vm.slotsLock.release();
  }

  /**
   * The VMM punches [first, first + count) out of guest_memfd (private to shared,
   * upstream): the invalidation returns every assigned page to the hypervisor (RMPUPDATE,
   * a whole 2 MiB entry at once, else PSMASH first) and flushes its cache lines.
   */
  *#punchHole(vcpu: Vcpu, first: number, count: number): Flow {
    const rmp = this.#rmp;
    const end = first + count;
    vcpu.step(P.GMEM_PUNCH_HOLE);
    for (let start = first; start < end;) {
      const regionFirst = start - (start % PAGES_PER_2M);
      const stop = Math.min(end, regionFirst + PAGES_PER_2M);
      if (rmp.is2M(start)) {
        if (start === regionFirst && stop - start === PAGES_PER_2M) {
          yield* this.#rmpUpdate(vcpu, start, PAGES_PER_2M, false);
          vcpu.stepTimes(P.CACHE_FLUSH, PAGES_PER_2M);
          start = stop;
          continue;
        }
        vcpu.step(P.PSMASH); // only part of the 2 MiB entry goes
        rmp.smash(start);
      }
      for (let page = start; page < stop; page++) {
        if (!rmp.isAssigned(page)) continue;
        yield* this.#rmpUpdate(vcpu, page, 1, false);
        vcpu.step(P.CACHE_FLUSH);
      }
      start = stop;
    }
  }

  // ---- Nested page faults (B.3) ------------------------------------------------------

  /** True when the guest can access `page` as private: mapped, assigned, sizes agreeing. */
  #privateReady(page: number): boolean {
    const memory = this.#vm.memory;
    const flags = memory.pageFlags[page];
    if ((flags & PAGE_MAPPED) === 0 || (flags & PAGE_PRIVATE) === 0) return false;
    if (!this.#rmp.isAssigned(page)) return false;
    const hugeLeaf = (memory.regionFlags[Math.floor(page / PAGES_PER_2M)] & REGION_HUGE) !== 0;
    return hugeLeaf === this.#rmp.is2M(page);
  }

  /**
   * True when `page`'s region can take one 2 MiB private leaf: the host maps 2 MiB, the
   * region is whole and unmapped, its RMP is one 2 MiB entry or has no guest page yet, and
   * (with `attributes`) KVM holds every page of it private.
   */
  #canMapHuge(page: number, attributes: boolean): boolean {
    if (!this.#host2m) return false;
    const memory = this.#vm.memory;
    const first = page - (page % PAGES_PER_2M);
    if (first + PAGES_PER_2M > memory.pages) return false;
    const rmp = this.#rmp;
    const rmp2m = rmp.is2M(first);
    const flags = memory.pageFlags;
    for (let p = first; p < first + PAGES_PER_2M; p++) {
      if ((flags[p] & PAGE_MAPPED) !== 0) return false;
      if (attributes && (flags[p] & PAGE_PRIVATE) === 0) return false;
      if (!rmp2m && rmp.isAssigned(p)) return false;
    }
    return true;
  }

  /**
   * A nested page fault on a private access to `page` (B.3). A page KVM holds shared goes
   * to the VMM to convert; a 2 MiB leaf over 4 KiB RMP entries is zapped so the access
   * refaults at 4 KiB. Otherwise guest_memfd hands out the page, preparing it the first
   * time before mmu_lock is taken (allocate, clear, RMPUPDATE: a 2 MiB entry and leaf
   * when the access is `want2M` and the region allows; PSMASH when a 4 KiB leaf is to go
   * over a 2 MiB entry), and KVM installs the leaf under mmu_lock (read).
   */
  *#privateFault(vcpu: Vcpu, page: number, want2M: boolean): Flow {
    const vm = this.#vm;
    const memory = vm.memory;
    const rmp = this.#rmp;
    this.exit(vcpu, EXIT_KIND.TDP_FAULT);
    if ((memory.pageFlags[page] & PAGE_PRIVATE) === 0) {
      vcpu.step(P.KVM_MMU_FAULT);
      yield* this.#sharedPrivateMismatch(vcpu, page);
    } else if (
      (memory.regionFlags[Math.floor(page / PAGES_PER_2M)] & REGION_HUGE) !== 0 &&
      !rmp.is2M(page)
    ) {
      vcpu.step(P.KVM_MMU_FAULT);
      yield* this.#zapHugeLeaf(vcpu, page); // size mismatch: 2 MiB leaf, 4 KiB entries
    } else {
      const mapped = memory.isMapped(page);
      const huge = !mapped && (want2M || rmp.is2M(page)) && this.#canMapHuge(page, true);
      if (huge) {
        const first = page - (page % PAGES_PER_2M);
        if (!rmp.isAssigned(first)) {
          vcpu.step(P.PAGE_ALLOC);
          vcpu.stepTimes(P.PAGE_CLEAR, PAGES_PER_2M);
          yield* this.#rmpUpdate(vcpu, first, PAGES_PER_2M, true);
        }
      } else {
        if (rmp.is2M(page)) {
          vcpu.step(P.PSMASH); // size mismatch: a 4 KiB leaf over a 2 MiB entry
          rmp.smash(page);
        }
        if (!rmp.isAssigned(page)) {
          // Unassigned but mapped: the host took the page back; it returns unvalidated.
          if (!mapped) {
            vcpu.step(P.PAGE_ALLOC);
            vcpu.step(P.PAGE_CLEAR);
          }
          yield* this.#rmpUpdate(vcpu, page, 1, true);
        }
      }
      yield* vcpu.waitOn(vm.mmuLock.read, P.WAIT_MMU_LOCK);
      vcpu.step(P.KVM_MMU_FAULT);
      if (!memory.isMapped(page)) {
        if (huge) memory.map2m(page);
        else memory.map4k(page);
      }
      if (vcpu.lagCycles > 0) yield vcpu.lagCycles;
      vm.mmuLock.read.release();
    }
    if (vcpu.needResched) yield* vcpu.preempt();
    vcpu.enter();
  }

  /**
   * The guest accessed as private a page KVM holds shared: upstream KVM exits to the VMM
   * (KVM_EXIT_MEMORY_FAULT), which converts the page; the 2021 series converts in KVM.
   */
  *#sharedPrivateMismatch(vcpu: Vcpu, page: number): Flow {
    if (this.#pscInKernel) {
      yield this.#kernelConvert(vcpu, page, 1, true);
      return;
    }
    vcpu.step(P.IOCTL_RET);
    vcpu.step(P.VMM_MAPGPA);
    yield this.#setAttributes(vcpu, page, 1, true);
    vcpu.step(P.IOCTL_ENTER);
  }

  /** Zaps the 2 MiB leaf over `page`'s region, with a remote TLB flush. */
  *#zapHugeLeaf(vcpu: Vcpu, page: number): Flow {
    const vm = this.#vm;
    yield* vcpu.waitOn(vm.mmuLock.write, P.WAIT_MMU_LOCK);
    if ((vm.memory.regionFlags[Math.floor(page / PAGES_PER_2M)] & REGION_HUGE) !== 0) {
      this.#unmapRegion(page);
      vcpu.step(P.KVM_ZAP);
      yield kickAndWait(vm.vcpus, vcpu);
    }
    if (vcpu.lagCycles > 0) yield vcpu.lagCycles;
    vm.mmuLock.write.release();
  }

  /** Unmaps every page of `page`'s region (its 2 MiB leaf). */
  #unmapRegion(page: number): void {
    const memory = this.#vm.memory;
    const first = page - (page % PAGES_PER_2M);
    const last = Math.min(first + PAGES_PER_2M, memory.pages);
    for (let p = first; p < last; p++) memory.unmap4k(p);
    memory.splitRegion(first);
  }

  /** A fault on a shared page: the normal NPT path. */
  *#sharedFault(vcpu: Vcpu, page: number): Flow {
    const vm = this.#vm;
    this.exit(vcpu, EXIT_KIND.TDP_FAULT);
    vcpu.step(P.KVM_MMU_FAULT);
    yield* vcpu.waitOn(vm.mmuLock.read, P.WAIT_MMU_LOCK);
    if (!vm.memory.isMapped(page)) {
      vcpu.step(P.PAGE_ALLOC);
      vcpu.step(P.PAGE_CLEAR);
      vm.memory.map4k(page);
    }
    if (vcpu.lagCycles > 0) yield vcpu.lagCycles;
    vm.mmuLock.read.release();
    if (vcpu.needResched) yield* vcpu.preempt();
    vcpu.enter();
  }

  // ---- The RMP and host access --------------------------------------------------------

  /**
   * RMPUPDATE by `thread` of one entry: [first, first + count) is one 4 KiB page or one
   * aligned 2 MiB region, assigned to the guest or returned to the hypervisor. Returning a
   * page that is a running vCPU's VMSA fails with FAIL_INUSE: KVM kicks every vCPU out of
   * guest mode and retries, which then succeeds.
   */
  *#rmpUpdate(thread: HostThread, first: number, count: number, assign: boolean): Flow {
    if (!assign && this.#holdsVmsa(first, count)) {
      if (thread.lagCycles > 0) yield thread.lagCycles; // which vCPUs run, as of now
      if (this.#runningVmsaIn(first, count)) {
        thread.step(P.RMPUPDATE_FAIL);
        yield kickAndWait(this.#vm.vcpus, thread);
      }
      const vmsaPage = this.#vmsaPage;
      for (let i = 0; i < vmsaPage.length; i++) {
        if (vmsaPage[i] >= first && vmsaPage[i] < first + count) vmsaPage[i] = -1;
      }
    }
    thread.step(P.RMPUPDATE);
    if (assign) this.#rmp.assign(first, count, count === PAGES_PER_2M);
    else this.#rmp.release(first, count);
  }

  /** True when a vCPU's VMSA lies in [first, first + count). */
  #holdsVmsa(first: number, count: number): boolean {
    for (const page of this.#vmsaPage) if (page >= first && page < first + count) return true;
    return false;
  }

  /** True when a vCPU in guest mode has its VMSA in [first, first + count). */
  #runningVmsaIn(first: number, count: number): boolean {
    const vmsaPage = this.#vmsaPage;
    for (let i = 0; i < vmsaPage.length; i++) {
      const page = vmsaPage[i];
      if (page >= first && page < first + count && this.#inGuest[i] === 1) return true;
    }
    return false;
  }

  /**
   * A host thread writes guest page `page` for a device (flows.md B.4, split S7). A write
   * to a page the guest owns (RMP-assigned) is what the host-access policies disagree on:
   * - guest-memfd (iii): private memory is never mapped in the host; the write lands in
   *   the VMM's shared backing for that address, unseen by the guest. Nobody is hurt.
   * - sigbus (i): the RMP faults the write. A userspace writer gets SIGBUS and dies: the
   *   VMM's I/O thread takes its VM with it, a host-wide daemon every VM it serves. A
   *   kernel writer (vhost) panics the host.
   * - auto-convert (ii): the fault handler makes the page shared (RMPUPDATE, kicking the
   *   guest's vCPUs and retrying if it fails) and the write goes on; the guest finds out
   *   when it next reads the page (see guestReadsBuffer).
   * Returns false when the write killed the writer.
   */
  *deviceWrite(thread: HostThread, page: number, kernel: boolean): Flow<boolean> {
    if (thread.lagCycles > 0) yield thread.lagCycles; // the page's state as of the write
    const vm = this.#vm;
    if (this.#hostAccess === "guest-memfd") {
      if ((vm.memory.pageFlags[page] & PAGE_PRIVATE) === 0) return true; // shared: fine
      thread.step(P.PAGE_ALLOC);
      thread.step(P.PAGE_CLEAR);
      return true;
    }
    // The host maps all guest memory: what decides is the RMP, even mid-conversion.
    if (!this.#rmp.isAssigned(page)) return true; // the hypervisor's page: no fault
    thread.step(P.HOST_RMP_FAULT);
    const outcomes = vm.outcomes;
    const at = thread.cursorCycles;
    if (this.#hostAccess === "sigbus") {
      const cause = `${thread.name} wrote private page ${page} of ${vm.name}`;
      if (kernel) {
        outcomes?.panic(at, `kernel RMP fault: ${cause}`);
        return false;
      }
      outcomes?.record(at, "sigbus", thread.name, cause);
      if (thread.kind === "vmm") {
        // The I/O thread is the VM's own VMM process: the VM goes with it.
        vm.terminated = true;
        outcomes?.record(at, "guest-terminated", vm.name, `its VMM got SIGBUS (${cause})`);
      }
      return false;
    }
    if (this.#hostAccess === "auto-convert") {
      if (this.#rmp.is2M(page)) {
        thread.step(P.PSMASH); // only this 4 KiB page goes shared
        this.#rmp.smash(page);
      }
      yield* this.#rmpUpdate(thread, page, 1, false);
      this.#stolenPages.add(page);
      return true;
    }
    throw new Error(`Unknown host-access policy ${this.#hostAccess}`);
  }

  /**
   * The guest reads back a device buffer. A page the host converted behind its back
   * (policy ii) is no longer validated: the access raises #VC, and the guest, which
   * cannot trust the page any more, asks to terminate (a GHCB termination request).
   */
  *guestReadsBuffer(vcpu: Vcpu, page: number): Flow {
    if (!this.#stolenPages.has(page)) return;
    this.#stolenPages.delete(page);
    const vm = this.#vm;
    vcpu.step(P.GUEST_VC);
    const at = vcpu.cursorCycles;
    vm.outcomes?.record(at, "guest-vc", vm.name, `page ${page} was made shared by the host`);
    this.#ghcbExit(vcpu, EXIT_KIND.HYPERCALL); // GHCB_MSR_TERM_REQ
    vm.terminated = true;
    vm.outcomes?.record(at, "guest-terminated", vm.name, "terminated itself after the #VC");
    vm.outcomes?.record(at, "service-lost", vm.name, "the guest terminated");
    if (vcpu.needResched) yield* vcpu.preempt();
  }
}

const CHOICES: readonly ChoiceSpec[] = [
  {
    id: "psc",
    doc: "Where page state changes are handled (split S6)",
    options: {
      userspace: "KVM forwards each range to the VMM as a map-GPA exit; the VMM sets memory " +
        "attributes and punches private pages out of guest_memfd; RMPUPDATE to private waits " +
        "for the next fault (upstream, 6.11+)",
      kernel: "KVM converts in the kernel, entry by entry: NPT build, an SRCU grace period, " +
        "PSMASH, RMPUPDATE and a direct-map update each (the 2021 v5 series)",
    },
  },
  {
    id: "psc-protocol",
    doc: "How the guest sends page state changes (split S8)",
    options: {
      ghcb: "through the GHCB page: up to 64 entries per VMGEXIT, 2 MiB ones where aligned " +
        "(Linux once its GHCB is set up)",
      msr: "the GHCB MSR protocol: one 4 KiB page per VMGEXIT (early boot)",
    },
  },
  {
    id: "page-size",
    doc: "Page size of private memory, in the guest (PSC entries, PVALIDATE) and in the " +
      "host (RMP entries, NPT leaves) (splits S9, S15)",
    options: {
      "host-4K": "the guest asks for 2 MiB where aligned, the host maps 4 KiB only " +
        "(upstream guest_memfd has no huge folios): each 2 MiB PVALIDATE fails with a size " +
        "mismatch and becomes 512 4 KiB ones",
      "2M": "2 MiB end to end where aligned: 2 MiB PSC entries, PVALIDATEs, RMP entries and " +
        "NPT leaves; PSMASH when part of one changes (THP in the 2021 series; huge " +
        "guest_memfd folios)",
      "4K": "4 KiB end to end: 4 KiB PSC entries (64 per GHCB request), PVALIDATEs, RMP " +
        "entries and leaves",
    },
  },
  {
    id: "host-access",
    doc: "What a host write to guest-private memory does (split S7)",
    options: {
      "guest-memfd": "private memory is never mapped in the host: a write at a private " +
        "address lands in the VMM's shared backing, unseen by the guest (upstream; iii)",
      sigbus: "the host maps guest memory; a userspace write to a private page gets SIGBUS, " +
        "a kernel write panics; every kernel map of guest memory holds an SRCU read lock and " +
        "checks the RMP, and every PSC waits for those readers (the 2021 v5 series; i)",
      "auto-convert": "the host fault handler converts the page to shared (RMPUPDATE, with " +
        "kick-all-vCPUs and retry when it fails) and lets the write go on; the guest later " +
        "takes #VC on it (Peter Gonda's proposal; ii)",
    },
  },
  ...X86_IO_CHOICES,
];

const PRIMITIVES: readonly PrimitiveName[] = [
  "GUEST_BOUNCE_COPY",
  "GUEST_VC",
  "GUEST_GHCB_CALL",
  "GHCB_MSR_PROTOCOL",
  "GUEST_PSC_ENTRY",
  "PVALIDATE",
  "RMPADJUST",
  "PSP_CMD(SNP_LAUNCH_START)",
  "PSP_CMD(SNP_LAUNCH_UPDATE)",
  "PSP_CMD(SNP_LAUNCH_FINISH)",
  "VMGEXIT",
  "SNP_AUTOMATIC_EXIT",
  "SNP_VMRUN",
  "KVM_GHCB_SYNC",
  "KVM_GHCB_MSR",
  "KVM_PSC_ENTRY",
  "SNP_POST_MAP",
  "HOST_RMP_FAULT",
  "RMPUPDATE",
  "RMPUPDATE_FAIL",
  "PSMASH",
  "DIRECT_MAP_SPLIT",
  "DIRECT_MAP_UPDATE",
  "CACHE_FLUSH",
  "PAGE_COPY",
  "GMEM_PUNCH_HOLE",
  "KVM_SET_ATTRIBUTES",
  "XA_OP",
  "KVM_ZAP",
  "SRCU_SYNC",
  "VMM_MAPGPA",
  ...X86_COMMON_PRIMITIVES,
];

/** AMD SEV-SNP guests. */
export const SNP_PLATFORM: PlatformSpec = {
  name: "snp",
  description: "An AMD SEV-SNP guest on KVM",
  defaultProfile: "amd-snp",
  choices: CHOICES,
  primitives: PRIMITIVES,
  operations: [
    ...X86_COMMON_OPERATIONS,
    "accept-page",
    "accept-2m",
    "convert-shared",
    "convert-private",
    "convert-page-shared",
    "convert-page-private",
  ],
  createVm: (vm, choices, hardware) => {
    if (hardware === undefined) throw new Error(`Cannot create SNP guest ${vm.name}: no PSP`);
    return new SnpVm(vm, choices, hardware);
  },
};

/** The upstream choices (Linux 6.11+ KVM and QEMU with guest_memfd). */
const UPSTREAM: Record<string, string> = {
  psc: "userspace",
  "psc-protocol": "ghcb",
  "page-size": "host-4K",
  "host-access": "guest-memfd",
  devices: "kernel",
  virtio: "vhost",
};

function variant(
  name: string,
  summary: string,
  splits: string[],
  changes: Record<string, string>,
): DesignSpec {
  return { name, platform: "snp", summary, splits, choices: { ...UPSTREAM, ...changes } };
}

/** Designs of the SNP platform: upstream, one variant per split, and the 2021 series. */
export const SNP_DESIGNS: readonly DesignSpec[] = [
  variant(
    "snp.upstream",
    "SNP as upstream runs it: PSC through the VMM, GHCB batches, 4K guest_memfd, lazy RMPUPDATE",
    ["S6", "S7", "S8", "S9", "S15"],
    {},
  ),
  variant("snp.psc-in-kernel", "upstream, but KVM converts in the kernel (2021 v5)", ["S6"], {
    psc: "kernel",
  }),
  variant("snp.msr-protocol", "upstream, but PSC by the GHCB MSR protocol, 4K per exit", [
    "S8",
  ], { "psc-protocol": "msr" }),
  variant("snp.rmp-2m", "upstream, but 2M RMP entries and NPT leaves where aligned", [
    "S9",
    "S15",
  ], { "page-size": "2M" }),
  variant("snp.rmp-4k", "upstream, but 4K end to end: 4K PSC entries and PVALIDATEs", ["S15"], {
    "page-size": "4K",
  }),
  variant("snp.2021-v5", "the 2021 v5 series: PSC in KVM, 2M RMP entries on THP", [
    "S6",
    "S9",
  ], { psc: "kernel", "page-size": "2M" }),
  variant("snp.io-in-vmm", "upstream, with devices in the VMM and virtio on its I/O thread", [], {
    devices: "vmm",
    virtio: "vmm",
  }),
  // The host-access debate (S7); upstream is policy (iii), guest_memfd.
  variant(
    "snp.sigbus",
    "(i) the 2021 v5 policy: PSC in KVM, host writes to private pages get SIGBUS (kernel: " +
      "panic), every kernel map of guest memory guarded",
    ["S7"],
    { psc: "kernel", "host-access": "sigbus" },
  ),
  variant(
    "snp.auto-convert",
    "(ii) PSC in KVM, and host writes to private pages convert them to shared",
    ["S7"],
    { psc: "kernel", "host-access": "auto-convert" },
  ),
];
