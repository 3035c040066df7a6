/**
 * The intervals that decide how long an alert takes to reach a person, in one place. Prometheus
 * scrapes its targets (the app's ServiceMonitor, kube-state-metrics at the Prometheus default
 * set from here), evaluates the rule group, and Alertmanager waits before it sends a new group.
 *
 * Every consumer reads them here: the PrometheusRule's group interval and the ServiceMonitor
 * (charts/constructs/backup-monitoring.ts), the Prometheus stack's values
 * (infra/kubernetes/platform-addons.ts), the Alertmanager configuration
 * (charts/alertmanager-config.ts), the promtool tests (test/alerts/) and the DR model's
 * time-to-alert (dr/figures.ts). A change here moves them together; a change anywhere else
 * fails a test.
 */

export const ALERT_TIMING = {
  /** Prometheus scrapes every target this often: a changed state shows up at most this late. */
  scrapeIntervalSeconds: 30,
  /** The rule group runs this often: a new sample is seen at most this late. */
  evaluationIntervalSeconds: 30,
  /** Alertmanager holds a new group this long before its first notification. */
  groupWaitSeconds: 30,
  /** Alertmanager sends changes to a group (a new alert, a resolved one) at most this often. */
  groupIntervalSeconds: 60,
} as const;
