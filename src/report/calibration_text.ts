/**
 * The text report of `calibrate`: every cost of a profile with its source, then the
 * microbenchmarks simulated against the profile's reference figures.
 *
 * @module
 */

import type { MicrobenchmarkResult } from "../calibrate/microbenchmarks.ts";
import type { ResolvedProfile } from "../host/profile.ts";
import { P, PRIMITIVE_SPECS } from "../host/primitives.ts";
import { decimal, integer, table } from "./format.ts";

/** Renders a profile and its microbenchmark comparison. */
export function renderCalibration(
  profile: ResolvedProfile,
  results: MicrobenchmarkResult[],
): string {
  const ghz = profile.clockGHz;
  const out = [
    `Profile ${profile.name}: ${profile.description}`,
    `clock ${ghz} GHz (${profile.clockBasis}); built from ${profile.chain.join(" <- ")}` +
    (profile.platform === undefined ? "" : `; platform ${profile.platform}`),
    "",
    `Costs (cycles; ns at ${ghz} GHz)`,
    table(
      ["primitive", "domain", "cycles", "ns", "kind", "from", "source or derivation"],
      Object.entries(profile.costs).map(([name, cost]) => [
        name,
        PRIMITIVE_SPECS[P[name as keyof typeof P]].domain,
        integer(cost.cycles),
        decimal(cost.cycles / ghz, 1),
        cost.kind,
        cost.from,
        cost.basis,
      ]),
      ["left", "left", "right", "right", "left", "left", "left"],
    ),
    "",
    "kvm-unit-tests vmexit, simulated on this profile (cycles per iteration)",
    table(
      [
        "test",
        "design",
        "simulated",
        "reference",
        "difference",
        "reference kind",
        "reference source",
      ],
      results.map((r) => [
        r.test,
        r.design,
        integer(r.simulatedCycles),
        r.reference === undefined ? "-" : integer(r.reference.cycles),
        r.relativeDifference === undefined
          ? "-"
          : `${r.relativeDifference >= 0 ? "+" : ""}${decimal(100 * r.relativeDifference, 1)}%`,
        r.reference?.kind ?? "no figure",
        r.reference?.source ?? "",
      ]),
      ["left", "left", "right", "right", "right", "left", "left"],
    ),
  ];
  return out.join("\n");
}
