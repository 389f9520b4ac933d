/**
 * A run's timeline as `trace-cmd report -t` text of KVM's trace events (kvm_exit,
 * kvm_entry, kvm_userspace_exit and the kvm_pio, kvm_mmio, kvm_msr and kvm_hypercall detail
 * events), so that `import` can read back what cvmsim simulated, and tools made for real
 * traces can read cvmsim's. Per vCPU lane: an exit at each exit instant, its entry at the
 * first guest step after it, its details from the operation and the steps in between.
 * Outcomes (SIGBUS, a guest terminated) have no kvm event; they are header comments.
 *
 * @module
 */

import { INSTANT_EXIT } from "./timeline.ts";
import type { TimelineData } from "./timeline_file.ts";

/** KVM's SVM_EXIT_REASONS spelling of the reasons cvmsim names (VMX names are the same). */
const SVM_NAMES: Record<string, string> = {
  IOIO: "io",
  MSR: "msr",
  NPF: "npf",
  VMMCALL: "hypercall",
  INTR: "interrupt",
  CPUID: "cpuid",
  HLT: "hlt",
  VMGEXIT: "vmgexit",
};
/** VMX_EXIT_REASONS spells a TD's TDG.VP.VMCALL exit TDCALL. */
const VMX_NAMES: Record<string, string> = { TDVMCALL: "TDCALL" };

const USERSPACE_REASON: Record<string, string> = {
  IO_INSTRUCTION: "KVM_EXIT_IO (2)",
  IOIO: "KVM_EXIT_IO (2)",
  EPT_MISCONFIG: "KVM_EXIT_MMIO (6)",
  EPT_VIOLATION: "KVM_EXIT_MMIO (6)",
  NPF: "KVM_EXIT_MMIO (6)",
};

/** An MSR index for plain intercepted MSR accesses (IA32_MISC_ENABLE). */
const PLAIN_MSR = "1a0";

interface VcpuLane {
  lane: number;
  vcpu: number;
  exits: number[];
  steps: number[];
}

/** The text, one event per line, in time order. */
export function traceCmdText(data: TimelineData, isa: "vmx" | "svm"): string {
  const { meta, steps, instants } = data;
  const nsPerCycle = 1 / meta.clockGHz;
  const vcpuLanes = new Map<number, VcpuLane>();
  meta.lanes.forEach((lane, index) => {
    if (lane.kind !== "vcpu") return;
    const vcpu = Number(/(\d+)$/.exec(lane.name)?.[1] ?? index);
    vcpuLanes.set(index, { lane: index, vcpu, exits: [], steps: [] });
  });
  for (let i = 0; i < meta.counts.instants; i++) {
    if (instants.kind[i] === INSTANT_EXIT) vcpuLanes.get(instants.lane[i])?.exits.push(i);
  }
  for (let i = 0; i < meta.counts.steps; i++) vcpuLanes.get(steps.lane[i])?.steps.push(i);
  const guestPrim = meta.primitives.map((p) => p.domain === "guest");
  const vmmPrim = meta.primitives.map((p) => p.domain === "vmm");
  const primName = meta.primitives.map((p) => p.name);
  const events: { ns: number; order: number; text: string }[] = [];
  let order = 0;
  for (const lane of vcpuLanes.values()) {
    const tid = 10_000 + lane.vcpu;
    const prefix = (ns: number) =>
      `  CPU ${lane.vcpu}/KVM-${tid}  [${String(lane.vcpu).padStart(3, "0")}]  ${
        (ns / 1e9).toFixed(9)
      }: `;
    lane.exits.sort((a, b) => instants.time[a] - instants.time[b]);
    lane.steps.sort((a, b) => steps.start[a] - steps.start[b]);
    let s = 0;
    lane.exits.forEach((exit, k) => {
      const at = instants.time[exit];
      const nextExit = k + 1 < lane.exits.length ? instants.time[lane.exits[k + 1]] : Infinity;
      const name = meta.exitReasons[instants.detail[exit]];
      const reason = isa === "svm"
        ? (SVM_NAMES[name] ?? name.toLowerCase())
        : (VMX_NAMES[name] ?? name);
      while (s < lane.steps.length && steps.start[lane.steps[s]] < at) s++;
      // The handling: steps from the exit to the first guest step (or the next exit).
      let entry = NaN;
      let op = -1;
      let userspace = false;
      const prims = new Set<string>();
      for (let j = s; j < lane.steps.length; j++) {
        const step = lane.steps[j];
        const start = steps.start[step];
        if (start >= nextExit) break;
        if (guestPrim[steps.prim[step]]) {
          entry = start;
          break;
        }
        if (op < 0) op = steps.op[step];
        if (vmmPrim[steps.prim[step]]) userspace = true;
        prims.add(primName[steps.prim[step]]);
        entry = start + steps.duration[step];
      }
      const exitNs = at * nsPerCycle;
      const operation = op >= 0 ? meta.operations[op] : "";
      const detail = detailEvent(name, operation, prims);
      // SVM's EXITINFO1 tells an MSR write (1) from a read (0).
      const info1 = reason === "msr" && detail?.includes("msr_write") ? 1 : 0;
      events.push({
        ns: exitNs,
        order: order++,
        text: `${prefix(exitNs)}kvm_exit: vcpu ${lane.vcpu} reason ${reason} rip ` +
          `0xffffffff81000000 info1 0x${info1.toString(16).padStart(16, "0")} info2 ` +
          "0x0000000000000000 intr_info 0x00000000 error_code 0x00000000",
      });
      if (detail !== undefined) {
        events.push({ ns: exitNs, order: order++, text: `${prefix(exitNs)}${detail}` });
      }
      if (userspace && USERSPACE_REASON[name] !== undefined) {
        events.push({
          ns: exitNs,
          order: order++,
          text: `${prefix(exitNs)}kvm_userspace_exit: reason ${USERSPACE_REASON[name]}`,
        });
      }
      if (!Number.isNaN(entry)) {
        const entryNs = entry * nsPerCycle;
        events.push({
          ns: entryNs,
          order: order++,
          text: `${prefix(entryNs)}kvm_entry: vcpu ${lane.vcpu}, rip 0xffffffff81000000`,
        });
      }
    });
  }
  events.sort((a, b) => a.ns - b.ns || a.order - b.order);
  const header = [
    "version = 6",
    `# cvmsim timeline as trace-cmd report -t text (${isa.toUpperCase()}, clock ${meta.clockGHz} GHz)`,
  ];
  if (meta.truncatedAtCycles !== null) {
    header.push(
      `# the timeline stopped at cycle ${meta.truncatedAtCycles} (its span limit): raise ` +
        "--timeline-spans for the whole run",
    );
  }
  // What failures did has no kvm event: comments, which trace-cmd's readers and `import` skip.
  for (const outcome of meta.outcomes) {
    header.push(
      `# outcome at ${(outcome.timeCycles * nsPerCycle / 1e9).toFixed(9)}: ${outcome.label} ` +
        `${outcome.subject} (${outcome.cause})`,
    );
  }
  return [...header, ...events.map((e) => e.text)].join("\n") + "\n";
}

/** The detail event KVM traces for an exit, from the operation and the handling steps. */
function detailEvent(reason: string, operation: string, prims: Set<string>): string | undefined {
  if (prims.has("KVM_TSC_DEADLINE")) return "kvm_msr: msr_write 6e0 = 0x0";
  if (prims.has("KVM_IPI_SEND")) return "kvm_msr: msr_write 830 = 0x0";
  switch (operation) {
    case "pio-read":
      return "kvm_pio: pio_read at 0x70 size 1 count 1 val 0x0 ";
    case "pio-write":
      return "kvm_pio: pio_write at 0x70 size 1 count 1 val 0x0 ";
    case "mmio-read":
      return "kvm_mmio: mmio read len 4 gpa 0xfe000000 val 0x0";
    case "mmio-write":
    case "virtio-rr":
      return reason === "HLT" ? undefined : "kvm_mmio: mmio write len 4 gpa 0xfe000000 val 0x0";
    case "msr-read":
      return `kvm_msr: msr_read ${PLAIN_MSR} = 0x0`;
    case "msr-write":
      return `kvm_msr: msr_write ${PLAIN_MSR} = 0x0`;
    case "hypercall":
      return "kvm_hypercall: nr 0x0 a0 0x0 a1 0x0 a2 0x0 a3 0x0";
  }
  return undefined;
}
