/**
 * When a person learns that the app is down: every manual recovery starts there. The app-down
 * rule's hold, rounded up to the evaluation interval it runs at (what promtool proves in
 * test/alerts), plus ALERT_PIPELINE; or no bound at all when no rule exists or no receiver
 * gets the alert (charts/alertmanager-config.ts).
 */
import { alertReceiverOf } from "../charts/alertmanager-config";
import { ALERT_TIMING } from "../charts/constructs/alert-timing";
import { formatDuration, type PraConfig } from "../config";
import type { DesignFacts } from "./facts";
import { ALERT_PIPELINE } from "./figures";
import { type Bound, none, seconds } from "./recovery";

export const NOBODY_ALERTED =
  "nobody is alerted (no PraAppUnavailable rule: set pra:monitoring: true)";

export interface Paging {
  /** From the failure to the page. */
  readonly paged: Bound;
  /** Why, in a sentence. */
  readonly basis: string;
}

/** Seconds from an app-down condition to its alert firing, evaluated every `evaluation` seconds. */
export function firesAfterSeconds(holdSeconds: number, evaluationSeconds: number): number {
  return Math.ceil(holdSeconds / evaluationSeconds) * evaluationSeconds;
}

export function appDownPaging(facts: DesignFacts, config: PraConfig): Paging {
  const hold = facts.alerting.appDownSeconds;
  if (hold === undefined) return { paged: none(NOBODY_ALERTED), basis: NOBODY_ALERTED };
  const receiver = alertReceiverOf(config);
  if (receiver.kind === "none") {
    const why =
      `nobody is paged: ${receiver.why}, so no manual recovery has a bounded start ` +
      "(set pra:alertWebhookUrl)";
    return { paged: none(why), basis: why };
  }
  const fires = firesAfterSeconds(hold, ALERT_TIMING.evaluationIntervalSeconds);
  const to = receiver.kind === "sns" ? "the alarm topic (SNS)" : "pra:alertWebhookUrl";
  return {
    paged: seconds(fires + ALERT_PIPELINE.seconds),
    basis:
      `PraAppUnavailable fires ${formatDuration(fires)} after the app goes down ` +
      `(+${ALERT_PIPELINE.seconds}s: ${ALERT_PIPELINE.source}) and reaches ${to}`,
  };
}
