/**
 * Everything a scenario can name: platforms, designs, profiles. This is the one place that
 * knows every model module; models themselves never import each other.
 *
 * @module
 */

import type { DesignSpec, PlatformSpec } from "../kvm/platform.ts";
import { SVM_DESIGNS, SVM_PLATFORM, VMX_DESIGNS, VMX_PLATFORM } from "../kvm/x86.ts";
import { SNP_DESIGNS, SNP_PLATFORM } from "../snp/platform.ts";
import { TDX_DESIGNS, TDX_PLATFORM } from "../tdx/platform.ts";
import { VSM_DESIGNS, VSM_PLATFORM } from "../vsm/platform.ts";
import { DEFAULT_PROFILE, SHIPPED_PROFILES, shippedProfile } from "../profiles/mod.ts";

/** Every platform. */
export const PLATFORMS: readonly PlatformSpec[] = [
  VMX_PLATFORM,
  SVM_PLATFORM,
  TDX_PLATFORM,
  SNP_PLATFORM,
  VSM_PLATFORM,
];

/** Every design, grouped by platform in catalogue order. */
export const DESIGNS: readonly DesignSpec[] = [
  ...VMX_DESIGNS,
  ...SVM_DESIGNS,
  ...TDX_DESIGNS,
  ...SNP_DESIGNS,
  ...VSM_DESIGNS,
];

/** Every choice id of any platform (a scenario's `choices` may override them). */
export const CHOICE_IDS: readonly string[] = [
  ...new Set(PLATFORMS.flatMap((platform) => platform.choices.map((choice) => choice.id))),
];

/** `design` with `overrides` applied to the choices its platform has. */
export function withChoices(design: DesignSpec, overrides: Record<string, string>): DesignSpec {
  const platform = findPlatform(design.platform);
  const applied = Object.entries(overrides).filter(([id]) =>
    platform?.choices.some((choice) => choice.id === id)
  );
  if (applied.length === 0) return design;
  return { ...design, choices: { ...design.choices, ...Object.fromEntries(applied) } };
}

/** Design names. */
export const DESIGN_NAMES: readonly string[] = DESIGNS.map((design) => design.name);

/** The design a scenario runs when it names none. */
export const DEFAULT_DESIGN = VMX_DESIGNS[0].name;

/** Finds a design by name. */
export function findDesign(name: string): DesignSpec | undefined {
  return DESIGNS.find((design) => design.name === name);
}

/** Platform names. */
export const PLATFORM_NAMES: readonly string[] = PLATFORMS.map((platform) => platform.name);

/** The design a guest of `platform` runs when the scenario's design is for another platform. */
export function defaultDesignOf(platform: string): DesignSpec | undefined {
  return DESIGNS.find((design) => design.platform === platform);
}

/**
 * The platform and choices a guest runs under `design`: the design's own, unless the
 * guest pins another platform, which then runs that platform's default design.
 */
export function guestDesign(design: DesignSpec, guestPlatform: string | undefined): DesignSpec {
  if (guestPlatform === undefined || guestPlatform === design.platform) return design;
  const fallback = defaultDesignOf(guestPlatform);
  if (fallback === undefined) throw new Error(`No design for platform ${guestPlatform}`);
  return fallback;
}

/** Finds a platform by name. */
export function findPlatform(name: string): PlatformSpec | undefined {
  return PLATFORMS.find((platform) => platform.name === name);
}

export { DEFAULT_PROFILE, SHIPPED_PROFILES, shippedProfile };
