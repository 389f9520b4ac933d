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

/** The default AMD profile. */
export const AMD_SVM: ProfileSpec = {
  name: "amd-svm",
  description: "AMD EPYC Genoa class, SVM on KVM; Intel cycle counts until measured",
  platform: "svm",
  clockGHz: 2.7,
  clockBasis: "EPYC 9334 base clock (the CVM_eval figures in calibration.md were taken there)",
  costs: Object.fromEntries(
    Object.entries(INTEL_VMX.costs).map(([name, cost]) => [
      name,
      {
        cycles: cost!.cycles,
        kind: "estimate",
        basis: `no published SVM figure: the intel-vmx value (${cost!.kind}) in cycles, ` +
          "assuming VMRUN/#VMEXIT and KVM's SVM paths cost about what VMX's do",
      } satisfies CostSpec,
    ]),
  ),
};
