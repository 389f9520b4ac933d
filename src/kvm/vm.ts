/**
 * A VM on the emulated host: its vCPU threads, guest memory, KVM's per-VM locks, and its
 * userspace VMM's device lock.
 *
 * @module
 */

import { Mutex, RwLock, type Simulator } from "../engine/mod.ts";
import type { CpuPool } from "../host/cpu_pool.ts";
import { GuestMemory, PAGES_PER_2M } from "../host/memory.ts";
import { P } from "../host/primitives.ts";
import { Srcu } from "../host/srcu.ts";
import type { TranslationParams } from "../host/translation.ts";
import type { Flow, HostThread } from "../host/thread.ts";
import type { OutcomeKind } from "../report/recorder.ts";
import type { IrqSource } from "./irq.ts";
import type { VirtioNet } from "./virtio.ts";
import { INSN } from "./platform.ts";
import { TIMER_IRQ, Vcpu, type VcpuHostConfig } from "./vcpu.ts";

/** What building a VM needs from the host. */
export interface HostEnv {
  sim: Simulator;
  /** Cycles by primitive id (the resolved profile). */
  costs: Float64Array;
  pool: CpuPool;
  config: VcpuHostConfig;
  /** Where failures are reported (a host process killed, a guest terminated, ...). */
  outcomes?: OutcomeSink;
  /** The profile's address-translation figures (memory workloads need them). */
  translation?: TranslationParams;
  /** vCPUs of the host that run memory workloads (they share the last-level cache). */
  memoryVcpus?: number;
}

/** Receives what failures did; `panic` also ends the run (the host is gone). */
export interface OutcomeSink {
  record(atCycles: number, kind: OutcomeKind, subject: string, cause: string): void;
  /** The host kernel panicked at `atCycles`: every VM on it is lost. */
  panic(atCycles: number, cause: string): void;
}

/** A guest misbehaviour to inject (see the scenario's `guests[].faults`). */
export interface FaultSpec {
  kind: "dma-to-private" | "convert-during-dma";
  atCycles: number;
  vcpu: number;
}

/** A guest as the host sees it. */
export interface VmSpec {
  name: string;
  vcpus: number;
  memoryMiB: number;
  /** Host pages backing guest memory: 2 MiB lets one fault map a whole region. */
  hostPageSize: "4K" | "2M";
  /** Guest scheduler tick rate (0: no periodic tick). */
  timerHz: number;
  /** Misbehaviour to inject, in any order. */
  faults?: FaultSpec[];
}

/** Interrupt id of every vCPU's IPI vector (registered second). */
export const IPI_IRQ = 1;

/** A guest VM. */
export class Vm {
  readonly name: string;
  readonly spec: VmSpec;
  readonly vcpus: Vcpu[];
  readonly memory: GuestMemory;
  /** The VMM's global device lock (QEMU's BQL): device emulation in userspace takes it. */
  readonly vmmLock: Mutex;
  /** kvm->mmu_lock: read for faults, write for zaps. */
  readonly mmuLock: RwLock;
  /** kvm->slots_lock: memslot and memory-attribute changes. */
  readonly slotsLock: Mutex;
  /** kvm->srcu: protects memslots. */
  readonly srcu: Srcu;
  /** Cycles between guest ticks (0 when the guest has no periodic tick). */
  readonly tickCycles: number;
  /** The VM's virtio-net device, when its workloads use one. */
  net: VirtioNet | undefined;
  /** I/O data goes through shared bounce buffers (a confidential guest's swiotlb). */
  bounceBuffers = false;
  /** Where failures are reported (none in a bare test harness). */
  readonly outcomes: OutcomeSink | undefined;
  /** The host's address-translation figures (absent in a bare test harness). */
  readonly translation: TranslationParams | undefined;
  /** vCPUs of the host that run memory workloads (they share the last-level cache). */
  readonly memoryVcpus: number;
  /** The guest has terminated (or was killed): its vCPUs run nothing more. */
  terminated = false;
  /** Faults not injected yet, per vCPU, earliest last. */
  readonly #faults: FaultSpec[][];
  /** Next page each vCPU touches: vCPU i walks its own slice of memory, wrapping around. */
  readonly #touchNext: Float64Array;
  readonly #chunkNext: Float64Array;
  readonly #shared: number[][];
  readonly #sharedPages: number[][];
  readonly #ipiSenders: Vcpu[][];

  constructor(env: HostEnv, spec: VmSpec, cyclesPerSecond: number) {
    const { sim } = env;
    this.name = spec.name;
    this.spec = spec;
    this.outcomes = env.outcomes;
    this.translation = env.translation;
    this.memoryVcpus = env.memoryVcpus ?? 1;
    this.memory = new GuestMemory(spec.memoryMiB);
    this.vmmLock = new Mutex(sim, `${spec.name}/vmm-lock`);
    this.mmuLock = new RwLock(sim, `${spec.name}/mmu_lock`);
    this.slotsLock = new Mutex(sim, `${spec.name}/slots_lock`);
    this.srcu = new Srcu(sim, `${spec.name}/srcu`);
    this.tickCycles = spec.timerHz > 0 ? Math.round(cyclesPerSecond / spec.timerHz) : 0;
    this.vcpus = Array.from(
      { length: spec.vcpus },
      (_, i) => new Vcpu(sim, env.costs, env.pool, env.config, spec.name, i),
    );
    this.#ipiSenders = this.vcpus.map(() => []);
    this.#touchNext = Float64Array.from(this.vcpus, (_, i) => this.#sliceStart(i));
    this.#chunkNext = Float64Array.from(this.vcpus, (_, i) => i);
    this.#shared = this.vcpus.map(() => []);
    this.#sharedPages = this.vcpus.map(() => []);
    this.#faults = this.vcpus.map((_, i) =>
      (spec.faults ?? []).filter((f) => f.vcpu === i).sort((a, b) => b.atCycles - a.atCycles)
    );
    for (const vcpu of this.vcpus) {
      const timer = vcpu.addIrqSource(this.#timerSource());
      const ipi = vcpu.addIrqSource(this.#ipiSource());
      if (timer !== TIMER_IRQ || ipi !== IPI_IRQ) throw new Error("IRQ ids out of order");
    }
  }

  /**
   * Delivers an IPI from `from` to vCPU `target` (KVM's APIC emulation or the CPU's IPI
   * virtualization); the target's handler sets `from.ipiAck`.
   */
  sendIpi(from: Vcpu, target: number, by?: HostThread): void {
    this.#ipiSenders[target].push(from);
    this.vcpus[target].raiseIrq(IPI_IRQ, by, from);
  }

  /** The 2 MiB chunk `vcpu` works on next (every n-th chunk from its index, wrapping). */
  nextChunk(vcpu: Vcpu): number {
    const chunks = Math.max(1, Math.floor(this.memory.pages / PAGES_PER_2M));
    const chunk = this.#chunkNext[vcpu.index];
    const next = chunk + this.vcpus.length;
    this.#chunkNext[vcpu.index] = next < chunks ? next : vcpu.index % chunks;
    return chunk % chunks;
  }

  /** True when `vcpu` has a fault to inject now ({@linkcode takeFault} would give one). */
  faultDue(vcpu: Vcpu): boolean {
    const pending = this.#faults[vcpu.index];
    return pending.length !== 0 && pending[pending.length - 1].atCycles <= vcpu.cursorCycles;
  }

  /** The fault `vcpu` injects now, if one is due (each is injected once). */
  takeFault(vcpu: Vcpu): FaultSpec | undefined {
    const pending = this.#faults[vcpu.index];
    return this.faultDue(vcpu) ? pending.pop() : undefined;
  }

  /** Chunks `vcpu` made shared, most recent last (convert-private undoes them). */
  sharedChunks(vcpu: Vcpu): number[] {
    return this.#shared[vcpu.index];
  }

  /** 4 KiB pages `vcpu` made shared, most recent last (convert-page-private undoes them). */
  sharedPages(vcpu: Vcpu): number[] {
    return this.#sharedPages[vcpu.index];
  }

  /** The page `vcpu` touches next (its own slice of memory, sequentially, wrapping). */
  nextTouch(vcpu: Vcpu): number {
    const page = this.#touchNext[vcpu.index];
    const next = page + 1;
    this.#touchNext[vcpu.index] = next < this.#sliceStart(vcpu.index + 1)
      ? next
      : this.#sliceStart(vcpu.index);
    return page;
  }

  #sliceStart(index: number): number {
    return Math.floor((index * this.memory.pages) / this.vcpus.length);
  }

  /** Arms `vcpu`'s first tick (the guest's timer setup at boot). */
  startTick(vcpu: Vcpu): void {
    if (this.tickCycles > 0) vcpu.timer.arm(this.#nextTick(vcpu));
  }

  #timerSource(): IrqSource {
    return {
      name: "lapic-timer",
      guestHandler: (vcpu: Vcpu): Flow | void => {
        if (this.tickCycles === 0) {
          vcpu.step(P.GUEST_ISR);
          return;
        }
        // A tick: the guest's handler runs, then re-arms the deadline for the next tick.
        vcpu.step(P.GUEST_TICK);
        return vcpu.platform.execute(vcpu, INSN.TSC_DEADLINE, this.#nextTick(vcpu));
      },
    };
  }

  /** The next tick boundary after the vCPU's local time (ticks are aligned across vCPUs). */
  #nextTick(vcpu: Vcpu): number {
    return (Math.floor(vcpu.cursorCycles / this.tickCycles) + 1) * this.tickCycles;
  }

  #ipiSource(): IrqSource {
    const senders = this.#ipiSenders;
    return {
      name: "ipi",
      *guestHandler(vcpu: Vcpu): Flow {
        vcpu.step(P.GUEST_ISR);
        const waiting = senders[vcpu.index];
        if (waiting.length === 0) return;
        if (vcpu.lagCycles > 0) yield vcpu.lagCycles; // the acknowledgement is a store other vCPUs observe
        for (const sender of waiting) sender.ipiAck.set();
        waiting.length = 0;
      },
    };
  }
}
