/**
 * The dashboard's front page data: the reports grouped by scenario (and seed), each group
 * with its question (the description's first sentence), its baseline and the headline metric
 * of every design (src/report/headline.ts).
 *
 * @module
 */

import { firstSentence } from "../report/format.ts";
import { headlineOf, outcomeText } from "../report/headline.ts";
import type { Summary } from "../report/summary.ts";
import type { ReportStore } from "./reports.ts";

/** One design's run on a scenario card. */
export interface CardRun {
  id: string;
  design: string;
  /** The headline metric's value (null where it does not apply). */
  value: number | null;
  /** What went wrong, in a few words ("" when nothing did). */
  outcome: string;
}

/** A scenario card: one scenario and seed, every design's run of it. */
export interface ScenarioCard {
  scenario: string;
  seed: number;
  question: string;
  description: string;
  /** The design the others are measured against: the scenario's, else its first run's. */
  baseline: string;
  headline: { metric: string; unit: string; lowerIsBetter: boolean };
  /** In the scenario's design order. */
  runs: CardRun[];
}

/** Groups every report in `store` into scenario cards, in scenario-name order. */
export function scenarioCards(store: ReportStore): ScenarioCard[] {
  const groups = new Map<string, { id: string; summary: Summary }[]>();
  for (const listing of store.list()) {
    const key = `${listing.scenario}\u0000${listing.seed}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push({ id: listing.id, summary: store.summary(listing.id) });
  }
  const cards: ScenarioCard[] = [];
  for (const runs of groups.values()) {
    const order = runs[0].summary.scenario.designs;
    const rank = (design: string) => {
      const at = order.indexOf(design);
      return at < 0 ? order.length : at;
    };
    runs.sort((a, b) =>
      rank(a.summary.design.name) - rank(b.summary.design.name) || a.id.localeCompare(b.id)
    );
    const named = runs[0].summary.scenario.baseline ?? order[0];
    const baselineIndex = Math.max(0, runs.findIndex((r) => r.summary.design.name === named));
    const headline = headlineOf(runs.map((r) => r.summary), baselineIndex);
    const first = runs[0].summary;
    cards.push({
      scenario: first.scenario.name,
      seed: first.seed,
      question: firstSentence(first.scenario.description ?? "", 240),
      description: first.scenario.description ?? "",
      baseline: runs[baselineIndex].summary.design.name,
      headline: {
        metric: headline.metric,
        unit: headline.unit,
        lowerIsBetter: headline.lowerIsBetter,
      },
      runs: runs.map((r, i) => ({
        id: r.id,
        design: r.summary.design.name,
        value: headline.values[i],
        outcome: outcomeText(r.summary),
      })),
    });
  }
  return cards.sort((a, b) => a.scenario.localeCompare(b.scenario) || a.seed - b.seed);
}
