/** What the model says about one failure scenario: the recovery the design provides. */
import type { ScenarioId } from "../config";

/** A duration the design guarantees, or the reason it guarantees none. */
export type Bound = { readonly seconds: number } | { readonly none: string };

export interface Recovery {
  readonly scenario: ScenarioId;
  /** The failure, in a few words. */
  readonly title: string;
  /** Data lost at worst. */
  readonly rpo: Bound;
  /** Time until the service is back, at worst, counted from the failure. */
  readonly rto: Bound;
  readonly mode: "automatic" | "manual" | "not survived";
  /** How the design recovers, in one sentence. */
  readonly mechanism: string;
  /** Hands-on time of the people involved, in person-minutes (0 when nothing needs a person). */
  readonly peopleMinutes: number;
  /** How each figure was derived, one line each. */
  readonly basis: readonly string[];
  /** The settings that would change the figures, for messages. */
  readonly fix: string;
  /** The exact commands a person runs, with this stack's names (empty when automatic). */
  readonly runbook: readonly string[];
}

export const seconds = (value: number): Bound => ({ seconds: Math.ceil(value) });
export const none = (reason: string): Bound => ({ none: reason });

/** The sum of `parts`, or the first part that has no bound (a chain is as bounded as its weakest link). */
export function plus(...parts: Bound[]): Bound {
  let total = 0;
  for (const part of parts) {
    if ("none" in part) return part;
    total += part.seconds;
  }
  return seconds(total);
}
