/**
 * The catalogue of costed primitives: every step a flow can charge to a timeline, with
 * the domain its time belongs to. Values live in cost profiles (src/profiles/), never
 * here; primitives marked `variable` have no profile value because their duration comes
 * from the run itself (guest compute, waiting, idling).
 *
 * Model code refers to primitives by number through {@linkcode P} (an array index, so
 * charging a step is two typed-array writes).
 *
 * @module
 */

import { indexNames } from "./catalogue.ts";

/** Where a host thread's time goes. A vCPU's time is always in exactly one domain. */
export const DOMAINS = ["guest", "tdx-module", "firmware", "kvm", "vmm", "wait", "idle"] as const;

/** One of {@linkcode DOMAINS}. */
export type Domain = typeof DOMAINS[number];

/** Declaration of one primitive. */
export interface PrimitiveSpec {
  /** Domain its time is charged to. */
  domain: Domain;
  /** True when the duration comes from the run, not from a profile. */
  variable?: boolean;
  /** What the step is, in one sentence. */
  doc: string;
}

const CATALOGUE = {
  // --- guest ---
  GUEST: {
    domain: "guest",
    variable: true,
    doc: "Guest instructions between exits (workload compute, spinning on a flag).",
  },
  GUEST_ISR: {
    domain: "guest",
    doc: "A minimal guest interrupt handler: IDT delivery, a counter, a virtualized EOI, IRET.",
  },
  GUEST_TICK: {
    domain: "guest",
    doc: "A Linux guest's scheduler tick handler (timekeeping, timers, scheduler bookkeeping).",
  },
  GUEST_IO_IRQ: {
    domain: "guest",
    doc: "A guest virtio interrupt: handler plus processing one completion (NAPI poll).",
  },
  TLB_WALK: {
    domain: "guest",
    variable: true,
    doc: "Guest time in page walks: a memory workload's STLB misses, each a two-dimensional " +
      "walk of the guest's and the host's tables (charged per batch from the translation " +
      "model, src/host/translation.ts).",
  },
  IPIV_SEND: {
    domain: "guest",
    doc: "An ICR write the CPU virtualizes (IPI virtualization): the IPI is sent without an exit.",
  },
  GUEST_VE: {
    domain: "guest",
    doc:
      "A TD guest's #VE handler: exception delivery, decoding the instruction, building a TDVMCALL.",
  },
  GUEST_BOUNCE_COPY: {
    domain: "guest",
    doc: "A confidential guest copies one I/O buffer through a shared bounce buffer (swiotlb).",
  },
  GUEST_SECURE_CALL: {
    domain: "guest",
    doc: "Hyper-V VSM: the secure kernel (VTL1) dispatches a VTL call from VTL0, runs a short " +
      "service and prepares the VTL return.",
  },
  GUEST_SECURE_INTERCEPT: {
    domain: "guest",
    doc: "Hyper-V VSM: the secure kernel (VTL1) handles a secure intercept message: decodes " +
      "VTL0's access, emulates or denies it and advances VTL0 past the instruction.",
  },
  // --- Intel TDX module (SEAM) ---
  TD_EXIT: {
    domain: "tdx-module",
    doc: "A TD exit through the TDX module: save and scrub the TD's state, SEAMRET to KVM.",
  },
  TDX_ENTER_EPOCH: {
    domain: "tdx-module",
    doc: "The start of TDH.VP.ENTER that samples the TD's TLB epoch and counts the vCPU in, " +
      "under the epoch lock (shared; TDH.MEM.TRACK takes it exclusive).",
  },
  "SEAMCALL(TDH.VP.ENTER)": {
    domain: "tdx-module",
    doc: "Enter a TD vCPU: SEAMCALL, restore the TD's state, VM entry (besides TDX_ENTER_EPOCH).",
  },
  "SEAMCALL(TDH.VP.FLUSH)": {
    domain: "tdx-module",
    doc: "Flush a TD vCPU's state from the pCPU it last ran on (before it runs elsewhere).",
  },
  "SEAMCALL(TDH.MEM.PAGE.AUG)": {
    domain: "tdx-module",
    doc: "Add a pending private page to a TD's secure EPT (locks: src/tdx/module_locks.ts).",
  },
  "SEAMCALL(TDH.MEM.SEPT.ADD)": {
    domain: "tdx-module",
    doc: "Add a secure-EPT page-table page for a missing level (locks: module_locks.ts).",
  },
  "SEAMCALL(TDH.MEM.SEPT.RD)": {
    domain: "tdx-module",
    doc: "Read one secure-EPT entry through the module (the alternative to a mirror copy).",
  },
  "SEAMCALL(TDH.MEM.RANGE.BLOCK)": {
    domain: "tdx-module",
    doc: "Block a private mapping before removing it (takes the S-EPT tree exclusive).",
  },
  "SEAMCALL(TDH.MEM.TRACK)": {
    domain: "tdx-module",
    doc: "Advance the TD's TLB epoch; running vCPUs must exit before blocked pages go.",
  },
  "SEAMCALL(TDH.MEM.PAGE.REMOVE)": {
    domain: "tdx-module",
    doc: "Remove a blocked private page from the TD (locks: module_locks.ts).",
  },
  "SEAMCALL(TDH.MEM.PAGE.DEMOTE)": {
    domain: "tdx-module",
    doc: "Split a blocked, tracked 2 MiB private leaf into 512 4 KiB leaves in a new S-EPT " +
      "page, and its PAMT entry into 512 (locks: module_locks.ts).",
  },
  "SEAMCALL(TDH.PHYMEM.PAGE.WBINVD)": {
    domain: "tdx-module",
    doc: "Write back and invalidate a removed page's cache lines for the TD's key.",
  },
  SEAMCALL_BUSY: {
    domain: "tdx-module",
    doc: "A SEAMCALL (or TD entry) that found an operand's lock held and returned " +
      "TDX_OPERAND_BUSY naming it.",
  },
  SEAMCALL_RETRY: {
    domain: "tdx-module",
    variable: true,
    doc: "KVM retrying a SEAMCALL that returned TDX_OPERAND_BUSY until the operand it named " +
      "is free: the pCPU spins through busy SEAMCALLs (one count per busy return).",
  },
  TDX_ZERO_STEP: {
    domain: "tdx-module",
    doc: "The zero-step filter on a TD entry of a vCPU suspected of stepping: it takes the " +
      "S-EPT tree exclusive and checks the listed GPAs no longer fault.",
  },
  "TDCALL(TDG.VP.VMCALL)": {
    domain: "tdx-module",
    doc: "The guest's TDCALL that hands a request to the host (a TDVMCALL), before the TD exit.",
  },
  "TDCALL(TDG.MEM.PAGE.ACCEPT)": {
    domain: "tdx-module",
    doc: "The guest's TDCALL that accepts private memory (besides zeroing the pages).",
  },
  TDX_PAGE_ZERO: {
    domain: "tdx-module",
    doc: "The module zeroes one 4 KiB page the guest accepts.",
  },
  // --- AMD SEV-SNP: the guest's side, the PSP, the host kernel's RMP work ---
  GUEST_VC: {
    domain: "guest",
    doc: "An SNP guest's #VC handler: exception delivery, decoding the intercepted " +
      "instruction (or MMIO access) and dispatching it.",
  },
  GUEST_GHCB_CALL: {
    domain: "guest",
    doc: "An SNP guest's GHCB call: fill the shared GHCB page with the request, point the " +
      "GHCB MSR at it, VMGEXIT, and check the results after the host returns.",
  },
  GHCB_MSR_PROTOCOL: {
    domain: "guest",
    doc: "An SNP guest's GHCB MSR-protocol request: write the request into the GHCB MSR, " +
      "VMGEXIT, read the response from the MSR (no GHCB page; one 4 KiB page per PSC).",
  },
  GUEST_PSC_ENTRY: {
    domain: "guest",
    doc: "An SNP guest writes one page-state-change entry (a 4 KiB or 2 MiB page) into the GHCB.",
  },
  PVALIDATE: {
    domain: "guest",
    doc: "An SNP guest validates or rescinds one 4 KiB or 2 MiB page in the RMP (PVALIDATE).",
  },
  RMPADJUST: {
    domain: "guest",
    doc: "An SNP guest changes a page's VMPL permissions or marks it a VMSA (RMPADJUST).",
  },
  "PSP_CMD(SNP_LAUNCH_START)": {
    domain: "firmware",
    doc: "The PSP creates the guest context, activates its ASID and starts the launch digest " +
      "(SNP_GCTX_CREATE, SNP_ACTIVATE, SNP_LAUNCH_START).",
  },
  "PSP_CMD(SNP_LAUNCH_UPDATE)": {
    domain: "firmware",
    doc: "The PSP encrypts one 4 KiB page (image page or VMSA) into the guest and extends " +
      "the launch digest with it.",
  },
  "PSP_CMD(SNP_LAUNCH_FINISH)": {
    domain: "firmware",
    doc: "The PSP finalizes the launch digest and the guest's identity; the guest may run.",
  },
  VMGEXIT: {
    domain: "kvm",
    doc: "An SNP guest's VMGEXIT: the CPU saves and encrypts the guest's state into its VMSA " +
      "and loads host state (the SEV-ES/SNP world switch out).",
  },
  SNP_AUTOMATIC_EXIT: {
    domain: "kvm",
    doc: "An automatic exit of an SNP guest (an interrupt, HLT, a nested page fault): the " +
      "same world switch as VMGEXIT, without a guest request.",
  },
  SNP_VMRUN: {
    domain: "kvm",
    doc: "Enter an SNP guest: VMRUN loads, decrypts and checks its VMSA and resumes it.",
  },
  KVM_GHCB_SYNC: {
    domain: "kvm",
    doc: "KVM maps the guest's GHCB, validates the request and copies registers in; before " +
      "entry it copies the results back and unmaps it.",
  },
  KVM_GHCB_MSR: {
    domain: "kvm",
    doc: "KVM decodes a GHCB MSR-protocol request and writes the response into the GHCB MSR.",
  },
  KVM_PSC_ENTRY: {
    domain: "kvm",
    doc: "KVM checks one page-state-change entry and adds it to the range being converted.",
  },
  SNP_POST_MAP: {
    domain: "kvm",
    doc: "The 2021 SIGBUS policy's guard around a kernel map of guest memory " +
      "(post_map_gfn/post_unmap_gfn): an SRCU read-side section and an RMP check.",
  },
  HOST_RMP_FAULT: {
    domain: "kvm",
    doc: "A host write hit a guest-owned page: the RMP #PF and the fault handler's decision " +
      "(SIGBUS, panic, or convert the page to shared).",
  },
  RMPUPDATE: {
    domain: "kvm",
    doc: "The host kernel rewrites one RMP entry (4 KiB or 2 MiB): assigns a page to a guest " +
      "or returns it to the hypervisor (RMPUPDATE).",
  },
  RMPUPDATE_FAIL: {
    domain: "kvm",
    doc: "An RMPUPDATE that failed with FAIL_INUSE: the page is a running vCPU's VMSA.",
  },
  PSMASH: {
    domain: "kvm",
    doc: "The host kernel splits a 2 MiB RMP entry into 512 4 KiB entries (PSMASH).",
  },
  DIRECT_MAP_SPLIT: {
    domain: "kvm",
    doc: "Split a 2 MiB mapping of the host kernel's direct map into 4 KiB ones, with a " +
      "global TLB flush (the IPIs' exits of running vCPUs are kicks on top).",
  },
  DIRECT_MAP_UPDATE: {
    domain: "kvm",
    doc: "Remove one 4 KiB page from the host kernel's direct map, or put it back, without a " +
      "flush (the 2021 SNP series, for each page made private or shared).",
  },
  CACHE_FLUSH: {
    domain: "kvm",
    doc: "Flush one 4 KiB page's cache lines (CLFLUSHOPT) before the host reuses a page a " +
      "guest owned.",
  },
  PAGE_COPY: {
    domain: "kvm",
    doc: "Copy one 4 KiB page (the launch copies the image into guest_memfd memory).",
  },
  GMEM_PUNCH_HOLE: {
    domain: "kvm",
    doc: "The VMM punches a hole in guest_memfd for one range (fallocate): the system call, " +
      "the invalidation and the truncation, besides per-page work.",
  },
  // --- world switch and KVM's exit path ---
  VMEXIT: {
    domain: "kvm",
    doc: "Hardware VM exit: the CPU saves guest state and loads host state (VMX/SVM).",
  },
  VMENTRY: {
    domain: "kvm",
    doc: "Hardware VM entry: consistency checks, load guest state, resume the guest.",
  },
  KVM_EXIT_DISPATCH: {
    domain: "kvm",
    doc: "KVM's common exit path: read the exit reason, dispatch, check requests before entry.",
  },
  KVM_CALL_BRANCH: {
    domain: "kvm",
    doc: "One vendor callback reached through an is_td() branch and a static call.",
  },
  KVM_CALL_INDIRECT: {
    domain: "kvm",
    doc:
      "One vendor callback reached through a per-VM ops table: an indirect call via a retpoline.",
  },
  KVM_MIRROR_READ: {
    domain: "kvm",
    doc: "Read one level of KVM's mirror copy of a TD's secure EPT (a memory read).",
  },
  KVM_SET_ATTRIBUTES: {
    domain: "kvm",
    doc: "KVM_SET_MEMORY_ATTRIBUTES for one range: the ioctl, slots_lock held, range checks.",
  },
  XA_OP: {
    domain: "kvm",
    doc: "One xarray update of a page's memory attributes.",
  },
  KVM_ZAP: {
    domain: "kvm",
    doc: "Zap one shared (normal) EPT leaf.",
  },
  KVM_MAPGPA: {
    domain: "kvm",
    doc: "KVM handles a MapGPA TDVMCALL: validate the range, exit to userspace or convert.",
  },
  KVM_CPUID: { domain: "kvm", doc: "KVM emulates CPUID from the vCPU's CPUID table." },
  KVM_HYPERCALL: { domain: "kvm", doc: "KVM handles a hypercall (VMCALL/VMMCALL) in the kernel." },
  KVM_MSR: { domain: "kvm", doc: "KVM emulates an MSR read or write." },
  KVM_PIO: {
    domain: "kvm",
    doc: "KVM completes a port access on an in-kernel device (kvm_io_bus).",
  },
  KVM_MMIO_DECODE: {
    domain: "kvm",
    doc: "KVM's instruction emulator decodes an MMIO access that faulted.",
  },
  KVM_MMIO_DEVICE: { domain: "kvm", doc: "An in-kernel device completes an MMIO access." },
  KVM_IOEVENTFD: {
    domain: "kvm",
    doc: "A write matched an ioeventfd: KVM signals the eventfd and completes the exit in-kernel.",
  },
  KVM_INJECT_IRQ: {
    domain: "kvm",
    doc: "KVM prepares a pending interrupt for delivery at entry (event injection or PIR sync).",
  },
  KVM_IPI_SEND: {
    domain: "kvm",
    doc: "KVM emulates an ICR write: finds the target vCPU and delivers the interrupt.",
  },
  KVM_TSC_DEADLINE: {
    domain: "kvm",
    doc: "KVM emulates a TSC-deadline MSR write: programs the preemption timer or hrtimer.",
  },
  KVM_TIMER_FIRE: {
    domain: "kvm",
    doc: "KVM processes an expired guest LAPIC timer and makes its interrupt pending.",
  },
  KVM_HLT: { domain: "kvm", doc: "KVM emulates HLT: skip the instruction, check for events." },
  HALT_POLL: {
    domain: "kvm",
    variable: true,
    doc: "A halted vCPU's thread polls for a wake event before sleeping (halt_poll_ns).",
  },
  KVM_HALT_RESUME: {
    domain: "kvm",
    doc: "A woken halted vCPU leaves kvm_vcpu_halt and goes back towards entry.",
  },
  KVM_WAKE: {
    domain: "kvm",
    doc: "Waking a sleeping host thread (try_to_wake_up), paid by the waker.",
  },
  KVM_IRQ_ACK: {
    domain: "kvm",
    doc: "The host interrupt handler that acknowledges a kick IPI after the target exited.",
  },
  KICK_SEND: {
    domain: "kvm",
    doc: "Sending a kick: an IPI to the pCPU of a vCPU in guest mode.",
  },
  KVM_MMU_FAULT: {
    domain: "kvm",
    doc: "A TDP (EPT/NPT) page fault: walk, find the memslot, pin the host page, install the SPTE.",
  },
  PAGE_ALLOC: { domain: "kvm", doc: "The host allocates a page to back guest memory." },
  PAGE_CLEAR: {
    domain: "kvm",
    doc: "The host zeroes one 4 KiB page before handing it to a guest.",
  },
  IRQFD_SIGNAL: {
    domain: "kvm",
    doc: "An irqfd fires: eventfd signal, irqfd wake-up, MSI delivery to the vCPU.",
  },
  VHOST_TX: {
    domain: "kvm",
    doc: "The in-kernel backend (vhost worker) takes one request off the virtqueue and sends it.",
  },
  VHOST_RX: {
    domain: "kvm",
    doc: "The in-kernel backend puts one response into the virtqueue.",
  },
  SYSCALL: { domain: "kvm", doc: "A system call round trip from host userspace." },
  SRCU_SYNC: {
    domain: "kvm",
    doc: "An expedited SRCU grace period's own work, besides waiting for readers.",
  },
  KVM_VTL_SWITCH: {
    domain: "kvm",
    doc: "Hyper-V VSM in KVM: swap the VTL-private state (RIP, RSP, control registers, " +
      "EFER, PAT, syscall MSRs, descriptor tables, APIC) to the other VTL's.",
  },
  KVM_MMU_VIEW_SWITCH: {
    domain: "kvm",
    doc: "Entering another VTL's memory view on the same vCPU: an MMU role change that " +
      "reuses the view's cached root (load the root, flush the TLB for it).",
  },
  KVM_SYNIC_MESSAGE: {
    domain: "kvm",
    doc: "Hyper-V VSM in KVM: build a secure intercept message in VTL1's SynIC message page " +
      "and raise its SINT.",
  },
  KVM_SET_MEMSLOT: {
    domain: "kvm",
    doc: "One KVM_SET_USER_MEMORY_REGION ioctl: build and install the new memslot set " +
      "(besides its SRCU grace period, zaps and lookups).",
  },
  MEMSLOT_LOOKUP: {
    domain: "kvm",
    doc: "One level of a memslot tree walk (a gfn lookup that misses the vCPU's last-used " +
      "slot, or a memslot update): log2(slots) levels per lookup.",
  },
  // --- host scheduling ---
  CONTEXT_SWITCH: {
    domain: "kvm",
    doc: "The host scheduler switches a thread onto a pCPU that was running another one.",
  },
  CACHE_COLD: {
    domain: "kvm",
    doc: "A thread switched in after an unrelated one (another process) or a cache-flushing " +
      "idle state refills its caches and TLB.",
  },
  IBPB: {
    domain: "kvm",
    doc: "An indirect branch prediction barrier: with mitigations on, KVM issues one when a " +
      "pCPU loads a different vCPU than it last ran (vmx_vcpu_load_vmcs, svm_vcpu_load).",
  },
  VCPU_LOAD: {
    domain: "kvm",
    doc: "KVM loads a vCPU onto a pCPU after it was scheduled out (VMCS/VMCB, host state).",
  },
  VCPU_PUT: {
    domain: "kvm",
    doc: "KVM saves a vCPU's state when its thread is scheduled out or sleeps.",
  },
  // --- the KVM_RUN boundary and the userspace VMM ---
  IOCTL_RET: {
    domain: "kvm",
    doc: "KVM_RUN returns to the userspace VMM: exit to user mode, vCPU state put.",
  },
  IOCTL_ENTER: {
    domain: "kvm",
    doc: "The VMM calls KVM_RUN again: syscall entry, vCPU load, pre-entry checks.",
  },
  STATE_SYNC_GET: {
    domain: "kvm",
    doc: "One ioctl of a full register read-out by the VMM (KVM_GET_REGS, _SREGS, _MSRS...).",
  },
  STATE_SYNC_PUT: {
    domain: "kvm",
    doc: "One ioctl of a full register write-back by the VMM (KVM_SET_REGS, _SREGS, _MSRS...).",
  },
  VMM_PIO: {
    domain: "vmm",
    doc: "The VMM decodes a port-I/O exit and runs the device model's handler.",
  },
  VMM_MAPGPA: {
    domain: "vmm",
    doc: "The VMM handles a MapGPA exit: check the range, call KVM_SET_MEMORY_ATTRIBUTES.",
  },
  VMM_MMIO: {
    domain: "vmm",
    doc: "The VMM dispatches an MMIO exit through its address space to the device model.",
  },
  VMM_VIRTIO_TX: {
    domain: "vmm",
    doc: "A userspace backend takes one request off the virtqueue and writes it to the tap device.",
  },
  VMM_VIRTIO_RX: {
    domain: "vmm",
    doc: "A userspace backend reads one response from the tap device into the virtqueue.",
  },
  VMM_VTL_SWITCH: {
    domain: "vmm",
    doc: "Hyper-V VSM in the VMM: decode a VTL call, return or interrupt and pick the VTL " +
      "to run next.",
  },
  VMM_VTL_COPY: {
    domain: "vmm",
    doc: "Hyper-V VSM in the VMM: copy the state VTLs share (general-purpose and vector " +
      "registers) from one VTL's saved state to the other's.",
  },
  VMM_HYPERCALL: {
    domain: "vmm",
    doc: "The VMM decodes a Hyper-V hypercall exit, reads its input and emulates it (a " +
      "cross-VTL IPI, Get/SetVpRegisters, ...).",
  },
  VMM_PROTECT: {
    domain: "vmm",
    doc: "The VMM decodes HvModifyVtlProtectionMask (its page list) and plans the memory " +
      "attribute or memslot changes.",
  },
  VMM_INTERCEPT: {
    domain: "vmm",
    doc: "The VMM builds a secure intercept message from a memory-fault exit and posts it " +
      "to VTL1's SynIC.",
  },
  VMM_GUEST_READ: {
    domain: "vmm",
    doc: "The VMM reads a few bytes of guest memory (one level of a guest page-table walk, " +
      "or instruction bytes).",
  },
  THREAD_HANDOFF: {
    domain: "vmm",
    doc: "Waking another VMM thread (a futex wake or a signal): the waker's system call and " +
      "try_to_wake_up; the woken thread's switch-in is SCHED_WAKEUP or CONTEXT_SWITCH.",
  },
  // --- waiting and idling ---
  SCHED_WAKEUP: {
    domain: "wait",
    doc: "A sleeping thread woken onto an idle pCPU until it runs: the reschedule IPI (none " +
      "if the idle pCPU polls), the idle loop's way into schedule() and the switch. Its " +
      "duration is drawn from the profile's distribution (median, p99).",
  },
  CSTATE_EXIT: {
    domain: "wait",
    variable: true,
    doc: "The idle pCPU a thread was woken onto leaves the C-state it had entered (the " +
      "profile's idle-state table, as deep as the idle time allowed and the host permits).",
  },
  WAIT_PCPU: {
    domain: "wait",
    variable: true,
    doc: "A runnable host thread waits for a free pCPU.",
  },
  WAIT_VMM_LOCK: {
    domain: "wait",
    variable: true,
    doc: "A VMM thread waits for the VMM's global device lock (QEMU's BQL).",
  },
  WAIT_MMU_LOCK: {
    domain: "wait",
    variable: true,
    doc: "Waiting for kvm->mmu_lock (read for faults, write for zaps).",
  },
  WAIT_SLOTS_LOCK: {
    domain: "wait",
    variable: true,
    doc: "Waiting for kvm->slots_lock (memslot and memory-attribute changes).",
  },
  WAIT_SRCU: {
    domain: "wait",
    variable: true,
    doc: "Waiting for an SRCU grace period: readers that started before it must finish.",
  },
  WAIT_ACK: {
    domain: "wait",
    variable: true,
    doc: "A kicker waits for the kicked vCPUs to leave guest mode and acknowledge.",
  },
  WAIT_HANDOFF: {
    domain: "wait",
    variable: true,
    doc: "A VMM thread waits for another to hand control back (another VTL runs on that " +
      "thread meanwhile).",
  },
  WAIT_SEPT_ZAP: {
    domain: "wait",
    variable: true,
    doc: "A TD vCPU held out of the TD while KVM retries a busy S-EPT removal SEAMCALL with " +
      "every vCPU out (tdh_do_no_vcpus); it spins in KVM's run loop.",
  },
  WAIT_PAUSED: {
    domain: "wait",
    variable: true,
    doc: "A vCPU thread held in userspace while the VMM has paused every vCPU (QEMU's " +
      "pause_all_vcpus, for a memslot change).",
  },
  WAIT_PSP: {
    domain: "wait",
    variable: true,
    doc: "Waiting for the PSP, which runs one command at a time for every VM on the host.",
  },
  IDLE: {
    domain: "idle",
    variable: true,
    doc: "Nothing to run: a halted vCPU asleep, or a backend thread waiting for work.",
  },
} as const satisfies Record<string, PrimitiveSpec>;

/** Name of a primitive, as it appears in profiles and reports. */
export type PrimitiveName = keyof typeof CATALOGUE;

const indexed = indexNames(CATALOGUE);

/** All primitive names, in id order. */
export const PRIMITIVE_NAMES: readonly PrimitiveName[] = indexed.names;

/** Primitive ids by name: `P.VMEXIT` is the index used by the hot path. */
export const P: { readonly [K in PrimitiveName]: number } = indexed.ids;

/** Declarations by id. */
export const PRIMITIVE_SPECS: readonly PrimitiveSpec[] = PRIMITIVE_NAMES.map((n) => CATALOGUE[n]);

/** Domain index of each primitive, by primitive id. */
export const PRIMITIVE_DOMAIN: Uint8Array = Uint8Array.from(
  PRIMITIVE_SPECS.map((spec) => DOMAINS.indexOf(spec.domain)),
);

/** Number of primitives (length of per-thread accounting arrays). */
export const PRIMITIVE_COUNT = PRIMITIVE_NAMES.length;

/** Names of primitives whose cost comes from a profile. */
export const FIXED_COST_PRIMITIVES: readonly PrimitiveName[] = PRIMITIVE_NAMES.filter(
  (name) => (CATALOGUE[name] as PrimitiveSpec).variable !== true,
);

/** True when `name` is a primitive. */
export function isPrimitiveName(name: string): name is PrimitiveName {
  return Object.hasOwn(CATALOGUE, name);
}
