/**
 * Reads the text of `trace-cmd report` and `perf script` for KVM's trace events, per vCPU
 * thread: each exit with its reason, timestamp, the detail events between it and the next
 * entry (kvm_pio, kvm_mmio, kvm_msr, kvm_hypercall), whether it went to userspace
 * (kvm_userspace_exit) and when the vCPU entered the guest again (kvm_entry).
 *
 * Line layouts (the event text after the colon is each event's TP_printk in
 * arch/x86/kvm/trace.h):
 *
 * ```text
 * trace-cmd report:  CPU 0/KVM-4711  [002]  5162.123456: kvm_exit: vcpu 0 reason CPUID rip 0x...
 * perf script:       CPU 0/KVM  4711 [002]  5162.123456: kvm:kvm_exit: vcpu 0 reason CPUID rip 0x...
 * ```
 *
 * trace-cmd may print latency flags (`d..1`) before the timestamp; older kernels print
 * kvm_exit without `vcpu N` (then the thread names the vCPU, as kvm_entry tells it).
 *
 * @module
 */

import type { ExitDetail } from "./exit_map.ts";
import type { LineProblem } from "./perf_kvm_stat.ts";

/** One recorded exit of one vCPU. */
export interface TracedExit {
  reason: string;
  /** Line of its kvm_exit event. */
  line: number;
  exitNs: number;
  /** When the vCPU entered the guest again; NaN when the trace ends first. */
  entryNs: number;
  /** Guest time before this exit (since the previous entry); NaN for a vCPU's first exit. */
  guestNs: number;
  detail: ExitDetail;
  /** The kvm_userspace_exit reason (e.g. KVM_EXIT_IO) when the exit went to userspace. */
  userspace?: string;
}

/** One vCPU's exits. */
export interface TracedVcpu {
  /** The vCPU id when the trace prints it, else the thread id. */
  id: number;
  idIsThread: boolean;
  exits: TracedExit[];
}

/** What a trace holds. */
export interface TraceText {
  format: "trace-cmd" | "perf-script";
  vcpus: TracedVcpu[];
  firstNs: number;
  lastNs: number;
  /** KVM events read, by name. */
  events: Record<string, number>;
  /** Lines of other events (sched_switch, ...) skipped, by event name. */
  otherEvents: Record<string, number>;
  problems: LineProblem[];
}

// comm, tid, [cpu], optional trace-cmd latency flags, seconds: [system:]event: body
const LINE =
  /^\s*(.*?)[-\s](\d+)\s+(?:\(\s*\d+\)\s+)?\[(\d+)\]\s+(?:[\w.]{4,6}\s+)?(\d+\.\d+):\s+(?:(\w+):)?(\w+):\s*(.*)$/;
const EXIT = /^(?:vcpu (\d+) )?reason (.+?)(?: \(failed vmentry\))?(?: rip 0x[0-9a-f]+(.*))?$/i;
const INFO1 = /info1? (0x[0-9a-f]+|\d+)/i;
const ENTRY = /^vcpu (\d+)/;
const PIO = /^pio_(read|write) at 0x([0-9a-f]+)/i;
const MMIO = /^mmio (read|write|unsatisfied-read) len/i;
const MSR = /^msr_(read|write) ([0-9a-f]+) =/i;
const USERSPACE = /^reason (\S+)/;

const KVM_EVENTS = new Set([
  "kvm_exit",
  "kvm_entry",
  "kvm_userspace_exit",
  "kvm_pio",
  "kvm_mmio",
  "kvm_msr",
  "kvm_hypercall",
]);

/** True when `text` looks like trace-cmd or perf script output of kvm events. */
export function isTraceText(text: string): boolean {
  return /\bkvm_(exit|entry):/.test(text.slice(0, 200_000));
}

interface ThreadState {
  vcpu: TracedVcpu;
  open: TracedExit | undefined;
  lastEntryNs: number;
  /** Time of the thread's last event: a thread's events must not go back in time. */
  lastNs: number;
}

/** Latest timestamp read (seconds of uptime): beyond it a line is not believed. */
const MAX_SECONDS = 1e9;

/** Parses a trace; every line that is not understood is a problem with its number. */
export function parseTraceText(text: string): TraceText {
  const trace: TraceText = {
    format: "trace-cmd",
    vcpus: [],
    firstNs: Infinity,
    lastNs: -Infinity,
    events: {},
    otherEvents: {},
    problems: [],
  };
  const threads = new Map<number, ThreadState>();
  let perfStyle = 0;
  let traceCmdStyle = 0;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    const line = i + 1;
    const trimmed = raw.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    // trace-cmd report's header: "version = 6", "cpus=4", "CPU 3 is empty".
    if (/^(version\s*=|cpus=|CPU \d+ is empty)/.test(trimmed)) continue;
    const m = LINE.exec(raw);
    if (m === null) {
      trace.problems.push({ line, text: trimmed, why: "not an event line" });
      continue;
    }
    const [, , tidText, , secondsText, system, event, body] = m;
    if (system !== undefined) perfStyle++;
    else traceCmdStyle++;
    if (!KVM_EVENTS.has(event) || (system !== undefined && system !== "kvm")) {
      const name = system === undefined ? event : `${system}:${event}`;
      trace.otherEvents[name] = (trace.otherEvents[name] ?? 0) + 1;
      continue;
    }
    const seconds = Number(secondsText);
    if (!(seconds <= MAX_SECONDS)) {
      trace.problems.push({ line, text: trimmed, why: `a timestamp beyond ${MAX_SECONDS} s` });
      continue;
    }
    const ns = Math.round(seconds * 1e9);
    const tid = Number(tidText);
    const earlier = threads.get(tid);
    if (earlier !== undefined && ns < earlier.lastNs) {
      // Kept (its exit still counts), but the intervals it bounds count as 0.
      trace.problems.push({
        line,
        text: trimmed,
        why: `earlier than thread ${tid}'s previous event (${
          (earlier.lastNs / 1e9).toFixed(9)
        } s); its interval is taken as 0`,
      });
    }
    let state = threads.get(tid);
    if (state !== undefined) state.lastNs = ns;
    if (event === "kvm_exit") {
      const exit = EXIT.exec(body);
      if (exit === null) {
        trace.problems.push({ line, text: trimmed, why: "a kvm_exit without a reason" });
        continue;
      }
      state ??= newThread(threads, trace, tid, exit[1], ns);
      count(trace, event, ns);
      if (exit[1] !== undefined && state.vcpu.idIsThread) {
        state.vcpu.id = Number(exit[1]);
        state.vcpu.idIsThread = false;
      }
      const info1 = INFO1.exec(exit[3] ?? "");
      const record: TracedExit = {
        reason: exit[2],
        line,
        exitNs: ns,
        entryNs: NaN,
        guestNs: Number.isNaN(state.lastEntryNs) ? NaN : Math.max(0, ns - state.lastEntryNs),
        detail: info1 === null ? {} : { info1: BigInt(info1[1]) },
      };
      state.vcpu.exits.push(record);
      state.open = record;
      continue;
    }
    if (event === "kvm_entry") {
      const entry = ENTRY.exec(body);
      state ??= newThread(threads, trace, tid, entry?.[1], ns);
      count(trace, event, ns);
      if (entry !== null && state.vcpu.idIsThread) {
        state.vcpu.id = Number(entry[1]);
        state.vcpu.idIsThread = false;
      }
      if (state.open !== undefined) state.open.entryNs = Math.max(ns, state.open.exitNs);
      state.open = undefined;
      state.lastEntryNs = ns;
      continue;
    }
    // A detail event: it belongs to the exit this thread is handling.
    const open = state?.open;
    if (open === undefined) {
      trace.problems.push({
        line,
        text: trimmed,
        why: `a ${event} event outside any exit of thread ${tid} (no kvm_exit before it)`,
      });
      continue;
    }
    count(trace, event, ns);
    if (event === "kvm_userspace_exit") {
      open.userspace = USERSPACE.exec(body)?.[1] ?? body;
    } else if (event === "kvm_hypercall") {
      open.detail.event = "hypercall";
    } else {
      const parsed = parseDetail(event, body);
      if (parsed === undefined) {
        trace.problems.push({ line, text: trimmed, why: `an unreadable ${event} event` });
        continue;
      }
      Object.assign(open.detail, parsed);
    }
  }
  trace.format = perfStyle > traceCmdStyle ? "perf-script" : "trace-cmd";
  trace.vcpus.sort((a, b) => a.id - b.id);
  return trace;
}

function count(trace: TraceText, event: string, ns: number): void {
  trace.events[event] = (trace.events[event] ?? 0) + 1;
  trace.firstNs = Math.min(trace.firstNs, ns);
  trace.lastNs = Math.max(trace.lastNs, ns);
}

function newThread(
  threads: Map<number, ThreadState>,
  trace: TraceText,
  tid: number,
  vcpuText: string | undefined,
  ns: number,
): ThreadState {
  const vcpu: TracedVcpu = {
    id: vcpuText === undefined ? tid : Number(vcpuText),
    idIsThread: vcpuText === undefined,
    exits: [],
  };
  trace.vcpus.push(vcpu);
  const state: ThreadState = { vcpu, open: undefined, lastEntryNs: NaN, lastNs: ns };
  threads.set(tid, state);
  return state;
}

function parseDetail(event: string, body: string): ExitDetail | undefined {
  if (event === "kvm_pio") {
    const pio = PIO.exec(body);
    return pio === null ? undefined : { event: "pio", write: pio[1].toLowerCase() === "write" };
  }
  if (event === "kvm_mmio") {
    const mmio = MMIO.exec(body);
    return mmio === null ? undefined : { event: "mmio", write: mmio[1].toLowerCase() === "write" };
  }
  const msr = MSR.exec(body);
  return msr === null ? undefined : {
    event: "msr",
    write: msr[1].toLowerCase() === "write",
    msr: parseInt(msr[2], 16),
  };
}
