/**
 * AMD EPYC Genoa-class host, plain SVM guests on KVM. No plain-SVM round trip has been
 * published (calibration.md section 3), so every cost is the Intel profile's cycle count,
 * marked as an estimate, at Genoa's 2.7 GHz base clock. Replace them with your own
 * measurements (`deno task sim calibrate --import`).
 *
 * @module
 */

import type { CostSpec, ProfileSpec } from "../host/profile.ts";
import { INTEL_VMX } from "./intel_vmx.ts";
import { GENOA_TRANSLATION } from "./translation.ts";

/** The default AMD profile. */
const CLOCK_GHZ = 2.7;
/** Cycles at Genoa's clock of a time in nanoseconds. */
const ns = (nanos: number) => Math.round(nanos * CLOCK_GHZ);
/** Zen2 futex wake-ups by the target CPU's idle state (median ns). */
const ZEN2_WAKEUP_NS = { poll: 1071, c1: 1155, c2: 3541 };
const ZEN2 = "Zen2 Threadripper at 4.0 GHz, Linux 5.13-5.14, LKML 2021-10, " +
  "70998f86-74d7-7ced-867e-f17695bc88e7@gmail.com";

export const AMD_SVM: ProfileSpec = {
  name: "amd-svm",
  description: "AMD EPYC Genoa class, SVM on KVM; Intel cycle counts until measured",
  platform: "svm",
  clockGHz: CLOCK_GHZ,
  clockBasis: "EPYC 9334 base clock (the CVM_eval figures in calibration.md were taken there)",
  translation: GENOA_TRANSLATION,
  idleStates: [
    {
      name: "C1",
      exitCycles: ns(ZEN2_WAKEUP_NS.c1 - ZEN2_WAKEUP_NS.poll),
      residencyCycles: ns(2000),
      flushesCaches: false,
      deep: false,
      basis: `MWAIT C1: a wake-up ${ZEN2_WAKEUP_NS.c1 - ZEN2_WAKEUP_NS.poll} ns slower than ` +
        `to a polling CPU (${ZEN2}); target residency 2 us as its _CST declares`,
    },
    {
      name: "C2",
      exitCycles: ns(ZEN2_WAKEUP_NS.c2 - ZEN2_WAKEUP_NS.poll),
      residencyCycles: ns(800_000),
      flushesCaches: true,
      deep: true,
      basis: `IOPORT C2 (core C6): a wake-up ${ZEN2_WAKEUP_NS.c2 - ZEN2_WAKEUP_NS.poll} ns ` +
        `slower than to a polling CPU, though its _CST declares 400 us (${ZEN2}); target ` +
        "residency 800 us as declared; estimate: it powers the core's caches down",
    },
  ],
  costs: {
    ...Object.fromEntries(
      Object.entries(INTEL_VMX.costs).map(([name, cost]) => [
        name,
        {
          ...cost!,
          cycles: cost!.cycles,
          kind: "estimate",
          basis: `no published SVM figure: the intel-vmx value (${cost!.kind}) in cycles, ` +
            "assuming VMRUN/#VMEXIT and KVM's SVM paths cost about what VMX's do",
        } satisfies CostSpec,
      ]),
    ),
    SCHED_WAKEUP: {
      cycles: ns(ZEN2_WAKEUP_NS.poll),
      p99Cycles: ns(ZEN2_WAKEUP_NS.poll * 1.037),
      kind: "measured",
      basis: `a futex wake reaches a thread waiting on another, polling CPU in ` +
        `${ZEN2_WAKEUP_NS.poll} ns (median; the histogram's p99 is ~4% above it) on ${ZEN2}`,
    },
  },
};
