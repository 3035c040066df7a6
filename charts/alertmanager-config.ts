/**
 * The Alertmanager configuration of a stack, derived from it: where its `pra` alerts go (the
 * target: the SNS topic its CloudWatch alarms use, signed with SigV4 by Alertmanager's Pod
 * Identity role; the lab: the webhook of `pra:alertWebhookUrl`, or nobody), and how often they
 * repeat (from the objectives). kube-prometheus-stack takes it as `alertmanager.config`
 * (infra/kubernetes/platform-addons.ts); `cdk8s synth` writes it to
 * dist/<stack>/alertmanager/ for GitOps users (docs/deploying.md).
 *
 * Every alert of charts/constructs/backup-monitoring.ts carries `pra_stack` and `severity`;
 * routes match on them. Alerts of other apps and of the Prometheus stack itself keep
 * kube-prometheus-stack's default: the `null` receiver.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { cloudNames, formatDuration, type PraConfig, type TargetConfig } from "../config";
import { ALERT_TIMING } from "./constructs/alert-timing";

/** Where a stack's alerts go. */
export type AlertReceiver =
  | { readonly kind: "sns"; readonly topicArn: string; readonly region: string }
  | { readonly kind: "webhook"; readonly url: string }
  | { readonly kind: "none"; readonly why: string };

/** Stands for the AWS account id in the topic ARN that `cdk8s synth` writes (it runs without credentials). */
export const ACCOUNT_ID_PLACEHOLDER = "ACCOUNT_ID";

/** The SNS topic of the stack's alarms in a region: the one the CloudWatch alarms notify. */
export function alarmTopicArn(config: TargetConfig, accountId: string, region: "primary" | "dr") {
  const names = cloudNames(config.stack);
  return region === "primary"
    ? `arn:aws:sns:${config.region}:${accountId}:${names.alarmTopic}`
    : `arn:aws:sns:${config.dr.region}:${accountId}:${names.drAlarmTopic}`;
}

/** The lab's receiver from its settings; the target's from its topic's ARN. */
export function alertReceiverOf(config: PraConfig, topicArn?: string): AlertReceiver {
  if (config.topology === "lab") {
    return config.alerts.webhookUrl !== undefined
      ? { kind: "webhook", url: config.alerts.webhookUrl }
      : {
          kind: "none",
          why: `${config.file} sets no pra:alertWebhookUrl: Alertmanager sends the lab's alerts to nobody`,
        };
  }
  return {
    kind: "sns",
    topicArn: topicArn ?? alarmTopicArn(config, ACCOUNT_ID_PLACEHOLDER, "primary"),
    region: topicArn?.split(":")[3] ?? config.region,
  };
}

/** How often an unresolved alert is sent again, by severity. */
export interface RepeatIntervals {
  readonly criticalSeconds: number;
  readonly warningSeconds: number;
}

/**
 * A critical alert is sent again once on-call's response time has passed, and at least four
 * times within the RTO: a missed page must not cost the recovery. A warning repeats once per
 * RTO. Never below the group interval, which is how often Alertmanager looks again.
 */
export function repeatIntervals(config: PraConfig): RepeatIntervals {
  const { rtoSeconds, onCallResponseSeconds } = config.objectives;
  const floor = ALERT_TIMING.groupIntervalSeconds;
  const minutes = (seconds: number) => Math.max(floor, Math.floor(seconds / 60) * 60);
  return {
    criticalSeconds: minutes(Math.min(onCallResponseSeconds, rtoSeconds / 4)),
    warningSeconds: minutes(rtoSeconds),
  };
}

/** The receiver's name in the configuration. */
export function receiverName(config: PraConfig): string {
  return `pra-${config.stack}`;
}

/** Alertmanager's configuration file, as an object (`alertmanager.config` of kube-prometheus-stack). */
export function alertmanagerConfig(config: PraConfig, receiver: AlertReceiver) {
  const name = receiverName(config);
  const repeat = repeatIntervals(config);
  const f = formatDuration;
  const stackMatcher = `pra_stack="${config.stack}"`;
  const pages = receiver.kind === "none" ? "null" : name;
  const route = (severity: "critical" | "warning", repeatSeconds: number) => ({
    receiver: pages,
    matchers: [stackMatcher, `severity="${severity}"`],
    // One group per alert and namespace: a new kind of alert never waits for another's group.
    group_by: ["alertname", "namespace"],
    group_wait: f(ALERT_TIMING.groupWaitSeconds),
    group_interval: f(ALERT_TIMING.groupIntervalSeconds),
    repeat_interval: f(repeatSeconds),
  });
  return {
    global: { resolve_timeout: "5m" },
    route: {
      receiver: "null",
      group_by: ["namespace"],
      group_wait: f(ALERT_TIMING.groupWaitSeconds),
      group_interval: "5m",
      repeat_interval: "12h",
      routes: [
        // kube-prometheus-stack's always-firing heartbeat.
        { receiver: "null", matchers: ['alertname="Watchdog"'] },
        route("critical", repeat.criticalSeconds),
        route("warning", repeat.warningSeconds),
      ],
    },
    // A backup older than the RPO makes "the backup is late" redundant, for the same CronJob.
    inhibit_rules: [
      {
        source_matchers: [stackMatcher, 'alertname="PraRpoBreached"'],
        target_matchers: [stackMatcher, 'alertname="PraBackupLate"'],
        equal: ["namespace", "cronjob"],
      },
    ],
    receivers: [
      { name: "null" },
      ...(receiver.kind === "none" ? [] : [receiverOf(name, receiver)]),
    ],
  };
}

function receiverOf(name: string, receiver: Exclude<AlertReceiver, { kind: "none" }>) {
  if (receiver.kind === "webhook") {
    return { name, webhook_configs: [{ url: receiver.url, send_resolved: true }] };
  }
  return {
    name,
    sns_configs: [
      {
        topic_arn: receiver.topicArn,
        // No keys: the AWS SDK's default chain finds the Pod Identity credentials EKS injects
        // into Alertmanager's pod (its service account's association, infra/aws/workload-identity.ts).
        sigv4: { region: receiver.region },
        // SNS e-mail subjects hold 100 characters: the alert and the stack, not every label.
        subject:
          "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.pra_stack }})",
        send_resolved: true,
      },
    ],
  };
}

export type AlertmanagerConfig = ReturnType<typeof alertmanagerConfig>;

/**
 * Writes dist/<stack>/alertmanager/alertmanager.yaml and, for the target, failover.yaml (the DR
 * region's topic, for the DR cluster's Alertmanager); returns the files written, relative to
 * `outdir`. The target's topic ARNs carry ACCOUNT_ID_PLACEHOLDER: synth runs without credentials.
 */
export function writeAlertmanagerConfig(config: PraConfig, outdir: string): string[] {
  const dir = join(outdir, "alertmanager");
  mkdirSync(dir, { recursive: true });
  const header = (what: string) =>
    `# Generated by cdk8s synth (charts/alertmanager-config.ts): ${what}.\n` +
    "# kube-prometheus-stack's alertmanager.config; docs/deploying.md says how to install it.\n";
  const files: [string, string, AlertReceiver][] =
    config.topology === "lab"
      ? [["alertmanager.yaml", "the lab's Alertmanager", alertReceiverOf(config)]]
      : [
          ["alertmanager.yaml", "the primary cluster's Alertmanager", alertReceiverOf(config)],
          [
            "failover.yaml",
            "the DR cluster's Alertmanager after a failover",
            alertReceiverOf(config, alarmTopicArn(config, ACCOUNT_ID_PLACEHOLDER, "dr")),
          ],
        ];
  return files.map(([file, what, receiver]) => {
    writeFileSync(join(dir, file), header(what) + stringify(alertmanagerConfig(config, receiver)));
    return join("alertmanager", file);
  });
}
