/**
 * Shipped cost profiles, by name.
 *
 * @module
 */

import type { ProfileSpec } from "../host/profile.ts";
import { AMD_SNP } from "./amd_snp.ts";
import { AMD_SVM } from "./amd_svm.ts";
import { INTEL_TDX } from "./intel_tdx.ts";
import { INTEL_VMX, INTEL_VMX_MITIGATIONS } from "./intel_vmx.ts";
import { INTEL_VSM } from "./intel_vsm.ts";

/** Every shipped profile. */
export const SHIPPED_PROFILES: readonly ProfileSpec[] = [
  INTEL_VMX,
  INTEL_VMX_MITIGATIONS,
  INTEL_TDX,
  AMD_SVM,
  AMD_SNP,
  INTEL_VSM,
];

/** The profile used when a scenario names none. */
export const DEFAULT_PROFILE = INTEL_VMX.name;

/** Finds a shipped profile by name. */
export function shippedProfile(name: string): ProfileSpec | undefined {
  return SHIPPED_PROFILES.find((profile) => profile.name === name);
}
