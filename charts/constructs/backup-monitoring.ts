/**
 * Alerting on what breaks recovery, with thresholds computed from the objectives: a backup
 * older than the RPO, failed backup or restore-test Jobs, the app down, and the newest restore
 * point's age as the app itself reports it. Plus the ServiceMonitor that scrapes the app and a
 * Grafana dashboard (picked up by the Grafana sidecar through its label).
 */
import { ApiObject } from "cdk8s";
import * as kplus from "cdk8s-plus-28";
import { Construct } from "constructs";
import { formatDuration } from "../../config";
import type { AppWorkload } from "./app-workload";

export interface BackupMonitoringProps {
  readonly app: AppWorkload;
  readonly namespace: string;
  /** The backup CronJob's name. */
  readonly backupCronJob: string;
  /** The restore test CronJob's name. */
  readonly restoreTestCronJob: string;
  /** The RPO: a restore point older than this means data written since would be lost. */
  readonly rpoSeconds: number;
  /** The oldest the newest restore point gets when every backup runs on time (schedule plus deadlines). */
  readonly backupMaxAgeSeconds: number;
  /** How long a failed Job keeps its alert firing. @default one hour */
  readonly failureWindowSeconds?: number;
}

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels: { readonly severity: "warning" | "critical" };
  readonly annotations: { readonly summary: string; readonly description: string };
}

export class BackupMonitoring extends Construct {
  readonly rules: readonly AlertRule[];

  constructor(scope: Construct, id: string, props: BackupMonitoringProps) {
    super(scope, id);
    if (props.backupMaxAgeSeconds > props.rpoSeconds) {
      throw new Error(
        `BackupMonitoring: backups on time leave restore points up to ${props.backupMaxAgeSeconds}s old, more than the RPO (${props.rpoSeconds}s)`,
      );
    }
    this.rules = alertRules(props);
    new ApiObject(this, "rules", {
      apiVersion: "monitoring.coreos.com/v1",
      kind: "PrometheusRule",
      metadata: { name: `${props.app.name}-recovery` },
      spec: { groups: [{ name: "pra.recovery", rules: this.rules }] },
    });
    new ApiObject(this, "service-monitor", {
      apiVersion: "monitoring.coreos.com/v1",
      kind: "ServiceMonitor",
      metadata: { name: props.app.name },
      spec: {
        selector: { matchLabels: { ...props.app.selectorLabels } },
        endpoints: [{ port: "http", path: "/metrics", interval: "30s" }],
      },
    });
    new kplus.ConfigMap(this, "dashboard", {
      metadata: { name: `${props.app.name}-dashboard`, labels: { grafana_dashboard: "1" } },
      data: { "pra-recovery.json": JSON.stringify(dashboard(props), null, 1) },
    });
  }
}

function alertRules(props: BackupMonitoringProps): AlertRule[] {
  const ns = props.namespace;
  const rpo = props.rpoSeconds;
  const late = props.backupMaxAgeSeconds;
  const window = props.failureWindowSeconds ?? 3600;
  const lastSuccess = `kube_cronjob_status_last_successful_time{namespace="${ns}", cronjob="${props.backupCronJob}"}`;
  const failedJob = (cronJob: string) =>
    `kube_job_failed{namespace="${ns}", job_name=~"${cronJob}-[0-9]+", condition="true"} == 1` +
    ` and on (namespace, job_name) (time() - kube_job_created{namespace="${ns}"}) < ${window}`;
  return [
    {
      alert: "PraBackupLate",
      expr: `time() - ${lastSuccess} > ${late}`,
      labels: { severity: "warning" },
      annotations: {
        summary: "The last successful backup is later than the schedule allows",
        description: `No backup of ${ns} has succeeded for more than ${formatDuration(late)} (schedule plus deadlines); the RPO of ${formatDuration(rpo)} is at risk.`,
      },
    },
    {
      alert: "PraRpoBreached",
      expr: `time() - ${lastSuccess} > ${rpo} or absent(${lastSuccess})`,
      for: "1m",
      labels: { severity: "critical" },
      annotations: {
        summary: "The newest backup is older than the RPO",
        description: `A disaster now would lose more than the RPO of ${formatDuration(rpo)} of ${ns}'s data.`,
      },
    },
    {
      alert: "PraRestorePointTooOld",
      expr: `max by (namespace) (pra_restore_point_newest_age_seconds{namespace="${ns}"}) > ${rpo}`,
      for: "1m",
      labels: { severity: "critical" },
      annotations: {
        summary: "The app reports its newest restore point older than the RPO",
        description: `The newest restore point the app of ${ns} can see is older than ${formatDuration(rpo)}.`,
      },
    },
    {
      alert: "PraBackupJobFailed",
      expr: failedJob(props.backupCronJob),
      labels: { severity: "warning" },
      annotations: {
        summary: "A backup Job failed",
        description: `Job {{ $labels.job_name }} in ${ns} failed: kubectl -n ${ns} logs job/{{ $labels.job_name }}`,
      },
    },
    {
      alert: "PraRestoreTestFailed",
      expr: failedJob(props.restoreTestCronJob),
      labels: { severity: "critical" },
      annotations: {
        summary: "A restore test failed: the newest restore point may not restore",
        description: `Job {{ $labels.job_name }} in ${ns} failed: kubectl -n ${ns} logs job/{{ $labels.job_name }}`,
      },
    },
    {
      alert: "PraAppUnavailable",
      expr: `kube_deployment_status_replicas_available{namespace="${ns}", deployment="${props.app.name}"} < 1`,
      for: "2m",
      labels: { severity: "critical" },
      annotations: {
        summary: "The app has no available pod",
        description: `Deployment ${props.app.name} in ${ns} has had no ready pod for 2 minutes.`,
      },
    },
  ];
}

/** A Grafana dashboard: the newest restore point's age against the RPO, and the backups' health. */
function dashboard(props: BackupMonitoringProps) {
  const ns = props.namespace;
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
        `Newest restore point age (red line: RPO ${formatDuration(props.rpoSeconds)})`,
        `max by (namespace) (pra_restore_point_newest_age_seconds{namespace="${ns}"})`,
        0,
        "s",
        props.rpoSeconds,
      ),
      panel(
        2,
        "Time since the last successful backup",
        `time() - kube_cronjob_status_last_successful_time{namespace="${ns}", cronjob="${props.backupCronJob}"}`,
        8,
        "s",
        props.rpoSeconds,
      ),
      panel(
        3,
        "Failed backup and restore-test Jobs",
        `sum by (namespace) (kube_job_failed{namespace="${ns}", condition="true", job_name=~"(${props.backupCronJob}|${props.restoreTestCronJob})-[0-9]+"})`,
        16,
        "short",
      ),
      panel(4, "Events stored", `max by (namespace) (pra_events{namespace="${ns}"})`, 24, "short"),
    ],
  };
}
