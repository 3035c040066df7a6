/**
 * Alarms on what breaks recovery, to an encrypted SNS topic in each region: AWS Backup job,
 * copy and restore failures (EventBridge), S3 replication failures and latency, database free
 * storage, (warm standby) the cross-region replica's lag, and restore tests whose validation
 * does not pass in time (failed, or never reported).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { VALIDATION_METRIC } from "./restore-validator/settings";

export interface AlarmsArgs {
  readonly baseName: string;
  readonly drProvider: aws.Provider;
  readonly keys: { readonly primary: pulumi.Input<string>; readonly dr: pulumi.Input<string> };
  /** E-mail subscribed to both topics (confirmation needed). @default none */
  readonly email?: string;
  readonly exportBucket: {
    readonly name: pulumi.Input<string>;
    readonly replicaName: pulumi.Input<string>;
    readonly ruleId: string;
    /** Alarm above this replication latency (the RTC promise). */
    readonly latencyAlarmSeconds: number;
  };
  readonly database: {
    readonly identifier: pulumi.Input<string>;
    readonly freeStorageAlarmBytes: number;
  };
  /** The DR replica, when there is one (warm standby). */
  readonly replica?: {
    readonly identifier: pulumi.Input<string>;
    readonly lagAlarmSeconds: number;
  };
  /** How often the AWS Backup restore test runs (TargetDesign.restoreTesting), in hours: 24 or 168. */
  readonly restoreTestIntervalHours: number;
}

const DAY_SECONDS = 86_400;

/**
 * The restore-validation alarm's window: daily periods (the test's own cadence, or a seventh of a
 * weekly one), one more than an interval holds, all of them without a passing validation. The
 * extra day covers a test that validates a little later than the last (its start window, a slow
 * restore) and the day still in progress, which has no datapoint yet. CloudWatch allows at most
 * seven days of evaluation, so a weekly test is watched over seven days: one run must pass.
 */
export function restoreValidationWindow(intervalHours: number): {
  periodSeconds: number;
  evaluationPeriods: number;
} {
  const days = Math.max(1, Math.ceil(intervalHours / 24));
  return { periodSeconds: DAY_SECONDS, evaluationPeriods: Math.min(7, days + 1) };
}

const FAILED_STATES = ["FAILED", "ABORTED", "EXPIRED"];

/** The EventBridge pattern of AWS Backup job failures: backups, cross-region copies, restores (restore tests too). */
export function backupFailurePattern(): string {
  return JSON.stringify({
    source: ["aws.backup"],
    "detail-type": ["Backup Job State Change", "Copy Job State Change", "Restore Job State Change"],
    // Backup and copy events carry `state`, restore events `status` (as in the AWS Backup API).
    detail: { $or: [{ state: FAILED_STATES }, { status: FAILED_STATES }] },
  });
}

export class Alarms extends pulumi.ComponentResource {
  public readonly topicArn: pulumi.Output<string>;
  public readonly drTopicArn: pulumi.Output<string>;

  constructor(name: string, args: AlarmsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pra:aws:Alarms", name, {}, opts);
    const parent = { parent: this };
    const inDr = { parent: this, provider: args.drProvider };
    const topic = this.topic(
      `${name}-topic`,
      `${args.baseName}-alarms`,
      args.keys.primary,
      args.email,
      parent,
    );
    const drTopic = this.topic(
      `${name}-dr-topic`,
      `${args.baseName}-dr-alarms`,
      args.keys.dr,
      args.email,
      inDr,
    );

    const failures = new aws.cloudwatch.EventRule(
      `${name}-backup-failures`,
      {
        description: "AWS Backup backup, copy or restore job failed",
        eventPattern: backupFailurePattern(),
      },
      parent,
    );
    new aws.cloudwatch.EventTarget(
      `${name}-backup-failures`,
      { rule: failures.name, arn: topic.arn },
      parent,
    );

    // Every alarm tells its region's topic when it fires and when it clears; five-minute periods
    // and "above the threshold" unless an alarm says otherwise.
    const alarm = (
      alarmName: string,
      notify: aws.sns.Topic,
      alarmArgs: Omit<aws.cloudwatch.MetricAlarmArgs, "alarmActions" | "okActions">,
      alarmOpts: pulumi.CustomResourceOptions,
    ) =>
      new aws.cloudwatch.MetricAlarm(
        `${name}-${alarmName}`,
        {
          name: `${args.baseName}-${alarmName}`,
          period: 300,
          evaluationPeriods: 1,
          comparisonOperator: "GreaterThanThreshold",
          treatMissingData: "notBreaching",
          ...alarmArgs,
          alarmActions: [notify.arn],
          okActions: [notify.arn],
        },
        alarmOpts,
      );
    const s3Dimensions = {
      SourceBucket: args.exportBucket.name,
      DestinationBucket: args.exportBucket.replicaName,
      RuleId: args.exportBucket.ruleId,
    };
    alarm(
      "s3-replication-failed",
      topic,
      {
        alarmDescription: "Objects of the export bucket failed to replicate to the DR region",
        namespace: "AWS/S3",
        metricName: "OperationsFailedReplication",
        dimensions: s3Dimensions,
        statistic: "Sum",
        threshold: 0,
      },
      parent,
    );
    alarm(
      "s3-replication-latency",
      topic,
      {
        alarmDescription:
          "Export bucket replication is slower than Replication Time Control promises",
        namespace: "AWS/S3",
        metricName: "ReplicationLatency",
        dimensions: s3Dimensions,
        statistic: "Maximum",
        evaluationPeriods: 2,
        threshold: args.exportBucket.latencyAlarmSeconds,
      },
      parent,
    );
    alarm(
      "db-free-storage",
      topic,
      {
        alarmDescription: "The database is running out of storage (autoscaling at its ceiling?)",
        namespace: "AWS/RDS",
        metricName: "FreeStorageSpace",
        dimensions: { DBInstanceIdentifier: args.database.identifier },
        statistic: "Minimum",
        evaluationPeriods: 2,
        threshold: args.database.freeStorageAlarmBytes,
        comparisonOperator: "LessThanThreshold",
        treatMissingData: "breaching",
      },
      parent,
    );
    if (args.replica) {
      alarm(
        "db-replica-lag",
        drTopic,
        {
          alarmDescription:
            "The DR read replica lags: a failover now would lose more than the RPO allows",
          namespace: "AWS/RDS",
          metricName: "ReplicaLag",
          dimensions: { DBInstanceIdentifier: args.replica.identifier },
          statistic: "Maximum",
          period: 60,
          evaluationPeriods: 5,
          threshold: args.replica.lagAlarmSeconds,
          treatMissingData: "breaching",
        },
        inDr,
      );
    }

    // The validator emits 1 per passing validation (restore-validator/settings.ts): none in the
    // window, whether the tests failed or never reported, breaches.
    const validation = restoreValidationWindow(args.restoreTestIntervalHours);
    alarm(
      "restore-validation-missing",
      topic,
      {
        alarmDescription:
          "No AWS Backup restore test passed its validation in time (failed, or never reported)",
        namespace: VALIDATION_METRIC.namespace,
        metricName: VALIDATION_METRIC.name,
        dimensions: { [VALIDATION_METRIC.dimension]: args.baseName },
        statistic: "Sum",
        period: validation.periodSeconds,
        evaluationPeriods: validation.evaluationPeriods,
        datapointsToAlarm: validation.evaluationPeriods,
        threshold: 1,
        comparisonOperator: "LessThanThreshold",
        treatMissingData: "breaching",
      },
      parent,
    );

    this.topicArn = topic.arn;
    this.drTopicArn = drTopic.arn;
    this.registerOutputs({ topicArn: this.topicArn, drTopicArn: this.drTopicArn });
  }

  private topic(
    name: string,
    topicName: string,
    keyArn: pulumi.Input<string>,
    email: string | undefined,
    opts: pulumi.CustomResourceOptions,
  ): aws.sns.Topic {
    const topic = new aws.sns.Topic(name, { name: topicName, kmsMasterKeyId: keyArn }, opts);
    new aws.sns.TopicPolicy(
      name,
      {
        arn: topic.arn,
        policy: topic.arn.apply((arn) =>
          JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Sid: "AlarmSourcesPublish",
                Effect: "Allow",
                Principal: { Service: ["events.amazonaws.com", "cloudwatch.amazonaws.com"] },
                Action: "sns:Publish",
                Resource: arn,
              },
              {
                Sid: "DenyInsecureTransport",
                Effect: "Deny",
                Principal: "*",
                Action: "sns:Publish",
                Resource: arn,
                Condition: { Bool: { "aws:SecureTransport": "false" } },
              },
            ],
          }),
        ),
      },
      opts,
    );
    if (email) {
      new aws.sns.TopicSubscription(
        name,
        { topic: topic.arn, protocol: "email", endpoint: email },
        opts,
      );
    }
    return topic;
  }
}
