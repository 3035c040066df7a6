/**
 * Alerting on what breaks recovery, with thresholds computed from the objectives: a backup
 * running late (warning) and one older than the RPO (critical), no backup known at all, failed
 * backup or restore-test Jobs, the app down (as kube-state-metrics sees its Deployment, and as
 * Prometheus sees its scrape), and the newest restore point's age as the app itself reports it.
 * Plus the ServiceMonitor that scrapes the app and a Grafana dashboard (picked up by the Grafana
 * sidecar through its label).
 *
 * Two rule groups: `pra.recovery` reads kube-state-metrics, `pra.app` only what the app exports
 * and its own scrape (`up`), so a Prometheus that scrapes nothing but the app (the drill,
 * scripts/drill-alerting.ts) can run it as it is. Both run at ALERT_TIMING's evaluation
 * interval. The expressions use PromQL that Prometheus 2.x (Debian's promtool, which the tests
 * run) and 3.x (kube-prometheus-stack) evaluate alike: no regex `.` subtleties, no
 * `holt_winters`, no experimental functions.
 */
import { ApiObject } from "cdk8s";
import * as kplus from "cdk8s-plus-28";
import { Construct } from "constructs";
import { type BackupPolicy, formatDuration, type Timing } from "../../config";
import type { PrometheusRuleSpec, ServiceMonitorSpec } from "../manifest";
import { ALERT_TIMING } from "./alert-timing";
import type { AppWorkload } from "./app-workload";
import type { BackupSchedule } from "./backup-schedule";
import type { RestoreTestSchedule } from "./restore-test-schedule";

export interface BackupMonitoringProps {
  readonly app: AppWorkload;
  readonly namespace: string;
  /** The stack's name: every alert carries it as `pra_stack`, which Alertmanager routes on. */
  readonly stack: string;
  /** The backup CronJob: the alerts watch it by name and derive their thresholds from its timing. */
  readonly backup: Pick<BackupSchedule, "cronJob" | "timing">;
  /** The restore test CronJob, watched by name. */
  readonly restoreTest: Pick<RestoreTestSchedule, "cronJob">;
  /** The RPO: a restore point older than this means data written since would be lost. */
  readonly rpoSeconds: number;
  /**
   * Whether the RPO counts on these backups, and the age past which the newest is overdue (the
   * critical age alerts' threshold): the RPO in the lab; in the target, where RDS holds the RPO,
   * the exports' own worst case on time (config/parse.ts).
   */
  readonly policy: Pick<BackupPolicy, "holdsRpo" | "overdueAfterSeconds">;
  /** How long a failed Job keeps its alert firing. @default one hour */
  readonly failureWindowSeconds?: number;
}

export type Severity = "warning" | "critical";

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels: {
    readonly severity: Severity;
    readonly pra_stack: string;
    /** Set where the expression cannot carry it (an `absent()` of a comparison). */
    readonly namespace?: string;
  };
  readonly annotations: { readonly summary: string; readonly description: string };
}

/** The rule groups' names: kube-state-metrics rules, and rules on the app's own metrics. */
export const RULE_GROUPS = { cluster: "pra.recovery", app: "pra.app" } as const;

/**
 * How long each condition must hold before its alert fires, where a `for` is wanted. The
 * age thresholds need none: time since a backup only grows until the next one succeeds.
 */
export const ALERT_HOLD_SECONDS = {
  /** A rollout or a rescheduled pod must not page; two minutes without a pod must. */
  appDown: 120,
  /** The app's view of its restore points: one scrape failing to list them must not page. */
  restorePointTooOld: 60,
} as const;

/**
 * When PraBackupLate warns: the next run was due (interval), may start late (starting deadline)
 * and has used half the time it may take (active deadline). A run that slow has probably
 * failed, and the rest of the deadline plus the way to the RPO is the time left to start one
 * by hand. Always below the RPO: the worst case on time (interval plus both deadlines) fits in it.
 */
export function backupLateSeconds(timing: Timing): number {
  return (
    timing.intervalSeconds +
    timing.startingDeadlineSeconds +
    Math.ceil(timing.activeDeadlineSeconds / 2)
  );
}

export class BackupMonitoring extends Construct {
  readonly rules: readonly AlertRule[];

  constructor(scope: Construct, id: string, props: BackupMonitoringProps) {
    super(scope, id);
    const worstCase = props.backup.timing.worstCaseAgeSeconds;
    const overdue = props.policy.overdueAfterSeconds;
    if (worstCase > overdue) {
      throw new Error(
        `BackupMonitoring: backups on time leave restore points up to ${worstCase}s old, ` +
          `more than ${props.policy.holdsRpo ? "the RPO" : "their overdue age"} (${overdue}s)`,
      );
    }
    const groups = alertRules(props);
    this.rules = [...groups.cluster, ...groups.app];
    const interval = formatDuration(ALERT_TIMING.evaluationIntervalSeconds);
    new ApiObject(this, "rules", {
      apiVersion: "monitoring.coreos.com/v1",
      kind: "PrometheusRule",
      metadata: { name: `${props.app.name}-recovery` },
      spec: {
        groups: [
          { name: RULE_GROUPS.cluster, interval, rules: groups.cluster },
          { name: RULE_GROUPS.app, interval, rules: groups.app },
        ],
      } satisfies PrometheusRuleSpec,
    });
    new ApiObject(this, "service-monitor", {
      apiVersion: "monitoring.coreos.com/v1",
      kind: "ServiceMonitor",
      metadata: { name: props.app.name },
      spec: {
        selector: { matchLabels: { ...props.app.selectorLabels } },
        endpoints: [
          {
            port: "http",
            path: "/metrics",
            interval: formatDuration(ALERT_TIMING.scrapeIntervalSeconds),
          },
        ],
      } satisfies ServiceMonitorSpec,
    });
    new kplus.ConfigMap(this, "dashboard", {
      metadata: { name: `${props.app.name}-dashboard`, labels: { grafana_dashboard: "1" } },
      data: { "pra-recovery.json": JSON.stringify(dashboard(props), null, 1) },
    });
  }
}

function alertRules(props: BackupMonitoringProps): { cluster: AlertRule[]; app: AlertRule[] } {
  const ns = props.namespace;
  // The age alerts' threshold: the RPO where the backups hold it (the lab), else the exports'
  // own worst case on time (the target, whose RPO RDS point-in-time recovery holds).
  const rpo = props.policy.overdueAfterSeconds;
  const holdsRpo = props.policy.holdsRpo;
  const late = backupLateSeconds(props.backup.timing);
  const window = props.failureWindowSeconds ?? 3600;
  const f = formatDuration;
  const warning = { severity: "warning", pra_stack: props.stack } as const;
  const critical = { severity: "critical", pra_stack: props.stack } as const;
  const cron = props.backup.cronJob.name;
  const name = props.app.name;
  const lastSuccess = `kube_cronjob_status_last_successful_time{namespace="${ns}", cronjob="${cron}"}`;
  const available = `kube_deployment_status_replicas_available{namespace="${ns}", deployment="${name}"}`;
  // kube-prometheus-stack names a ServiceMonitor's job after the Service (no jobLabel is set).
  const scraped = `up{namespace="${ns}", job="${name}"}`;
  const failedJob = (cronJob: string) =>
    `kube_job_failed{namespace="${ns}", job_name=~"${cronJob}-[0-9]+", condition="true"} == 1` +
    ` and on (namespace, job_name) (time() - kube_job_created{namespace="${ns}"}) < ${window}`;
  const cluster: AlertRule[] = [
    {
      alert: "PraBackupLate",
      expr: `time() - ${lastSuccess} > ${late}`,
      labels: warning,
      annotations: {
        summary: "The last successful backup is later than the schedule allows",
        description:
          `No backup of ${ns} has succeeded for more than ${f(late)} (the interval, the starting ` +
          `deadline and half the run's deadline); ` +
          (holdsRpo
            ? `the RPO of ${f(rpo)} is at risk: `
            : `the restore test will soon test an old export (the RPO of ${f(props.rpoSeconds)} ` +
              "is held by RDS point-in-time recovery, not by exports): ") +
          `kubectl -n ${ns} create job --from=cronjob/${cron} ${cron}-manual`,
      },
    },
    {
      alert: "PraRpoBreached",
      expr: `time() - ${lastSuccess} > ${rpo}`,
      labels: critical,
      annotations: {
        summary: holdsRpo
          ? "The newest backup is older than the RPO"
          : "The newest export is older than its schedule allows",
        description: holdsRpo
          ? `A disaster now would lose more than the RPO of ${f(rpo)} of ${ns}'s data.`
          : `No export of ${ns} is younger than ${f(rpo)} (its interval and deadlines): the ` +
            "restore test fails and the portable copy is stale; the RPO is held by RDS " +
            "point-in-time recovery and AWS Backup, not by exports.",
      },
    },
    {
      // A fresh install has no successful backup yet, which is a breach only once the RPO has
      // passed; a renamed CronJob or a missing kube-state-metrics looks the same, and must page.
      alert: "PraBackupNeverSucceeded",
      expr: `absent(${lastSuccess})`,
      for: f(rpo),
      labels: critical,
      annotations: {
        summary: "No successful backup is known",
        description:
          `For ${f(rpo)} (${holdsRpo ? "the RPO" : "the exports' worst case on time"}), ` +
          "kube-state-metrics has reported no successful run of " +
          `CronJob ${cron} in ${ns}: the CronJob is missing or renamed, never succeeded, or ` +
          "kube-state-metrics is down.",
      },
    },
    {
      alert: "PraBackupJobFailed",
      expr: failedJob(props.backup.cronJob.name),
      labels: warning,
      annotations: {
        summary: "A backup Job failed",
        description: `Job {{ $labels.job_name }} in ${ns} failed: kubectl -n ${ns} logs job/{{ $labels.job_name }}`,
      },
    },
    {
      alert: "PraRestoreTestFailed",
      expr: failedJob(props.restoreTest.cronJob.name),
      labels: critical,
      annotations: {
        summary: "A restore test failed: the newest restore point may not restore",
        description: `Job {{ $labels.job_name }} in ${ns} failed: kubectl -n ${ns} logs job/{{ $labels.job_name }}`,
      },
    },
    {
      // A missing series (a renamed Deployment, the Deployment deleted) counts as no pod.
      alert: "PraAppUnavailable",
      expr: `${available} < 1 or absent(${available})`,
      for: f(ALERT_HOLD_SECONDS.appDown),
      labels: critical,
      annotations: {
        summary: "The app has no available pod",
        description: `Deployment ${name} in ${ns} has had no ready pod for ${f(ALERT_HOLD_SECONDS.appDown)}.`,
      },
    },
  ];
  const app: AlertRule[] = [
    {
      alert: "PraRestorePointTooOld",
      expr: `max by (namespace) (pra_restore_point_newest_age_seconds{namespace="${ns}"}) > ${rpo}`,
      for: f(ALERT_HOLD_SECONDS.restorePointTooOld),
      labels: critical,
      annotations: {
        summary: holdsRpo
          ? "The app reports its newest restore point older than the RPO"
          : "The app reports its newest export older than its schedule allows",
        description: `The newest restore point the app of ${ns} can see is older than ${f(rpo)}.`,
      },
    },
    {
      // No target at all (every pod gone from the Service) is as down as every target failing.
      alert: "PraAppNotScraped",
      expr: `absent(${scraped} == 1)`,
      for: f(ALERT_HOLD_SECONDS.appDown),
      labels: { ...critical, namespace: ns },
      annotations: {
        summary: "No pod of the app answers Prometheus",
        description: `For ${f(ALERT_HOLD_SECONDS.appDown)}, no pod of ${name} in ${ns} answered a scrape.`,
      },
    },
  ];
  return { cluster, app };
}

/** A Grafana dashboard: the newest restore point's age against its limit, and the backups' health. */
function dashboard(props: BackupMonitoringProps) {
  const ns = props.namespace;
  const overdue = props.policy.overdueAfterSeconds;
  const limit = props.policy.holdsRpo
    ? `RPO ${formatDuration(overdue)}`
    : `overdue past ${formatDuration(overdue)}`;
  const panel = (
    id: number,
    title: string,
    expr: string,
    y: number,
    unit: string,
    threshold?: number,
  ) => ({
    id,
    title,
    type: "timeseries",
    gridPos: { x: 0, y, w: 24, h: 8 },
    // Grafana's own variable syntax, resolved by Grafana to the chosen Prometheus data source.
    datasource: { type: "prometheus", uid: "${datasource}" },
    targets: [{ expr, refId: "A", legendFormat: "{{namespace}}" }],
    fieldConfig: {
      defaults: {
        unit,
        ...(threshold !== undefined
          ? {
              thresholds: {
                mode: "absolute",
                steps: [
                  { color: "green", value: null },
                  { color: "red", value: threshold },
                ],
              },
              custom: { thresholdsStyle: { mode: "line" } },
            }
          : {}),
      },
      overrides: [],
    },
  });
  return {
    title: `PRA recovery (${ns})`,
    uid: `pra-recovery-${ns}`,
    schemaVersion: 39,
    time: { from: "now-6h", to: "now" },
    templating: {
      list: [{ name: "datasource", type: "datasource", query: "prometheus", current: {} }],
    },
    panels: [
      panel(
        1,
        `Newest restore point age (red line: ${limit})`,
        `max by (namespace) (pra_restore_point_newest_age_seconds{namespace="${ns}"})`,
        0,
        "s",
        overdue,
      ),
      panel(
        2,
        "Time since the last successful backup",
        `time() - kube_cronjob_status_last_successful_time{namespace="${ns}", cronjob="${props.backup.cronJob.name}"}`,
        8,
        "s",
        overdue,
      ),
      panel(
        3,
        "Failed backup and restore-test Jobs",
        `sum by (namespace) (kube_job_failed{namespace="${ns}", condition="true", ` +
          `job_name=~"(${props.backup.cronJob.name}|${props.restoreTest.cronJob.name})-[0-9]+"})`,
        16,
        "short",
      ),
      panel(4, "Events stored", `max by (namespace) (pra_events{namespace="${ns}"})`, 24, "short"),
    ],
  };
}
