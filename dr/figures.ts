/**
 * Figures the recovery model uses that come from outside this project: documented AWS and
 * Kubernetes behaviour, each with its source, and the few estimates AWS does not publish,
 * marked as such. A figure is used by name everywhere, so a reader can audit every number.
 */
import { ALERT_TIMING } from "../charts/constructs/alert-timing";
import { SERVICE_RECORD_TTL_SECONDS } from "../config/dr-design";

export interface Figure {
  readonly seconds: number;
  /** Where the number comes from; "estimate" when no bound is published. */
  readonly source: string;
}

const MINUTE = 60;

/**
 * RDS uploads each instance's transaction logs to S3 every five minutes: the latest restorable
 * time lags by up to that.
 */
export const RDS_PITR_LOG_UPLOAD: Figure = {
  seconds: 5 * MINUTE,
  source: "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIT.html",
};

/** A Multi-AZ DB instance fails over to its synchronous standby, typically within one to two minutes. */
export const RDS_MULTI_AZ_FAILOVER: Figure = {
  seconds: 2 * MINUTE,
  source:
    "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.MultiAZSingleStandby.html",
};

/**
 * Cross-Region automated backups copy snapshots and transaction logs "as soon as they are
 * ready"; AWS publishes no bound on the copy. Estimate: the same 15 minutes S3 Replication
 * Time Control promises for objects.
 */
export const RDS_CROSS_REGION_BACKUP_COPY: Figure = {
  seconds: 15 * MINUTE,
  source:
    "estimate (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReplicateBackups.html publishes no bound)",
};

/** Restoring an RDS instance (point in time, or a snapshot) to a new instance: not published; depends on size. */
export function rdsRestore(allocatedStorageGb: number): Figure {
  return {
    seconds: 20 * MINUTE + Math.ceil(allocatedStorageGb / 10) * MINUTE,
    source:
      "estimate: 20 min plus 1 min per 10 GiB; AWS Backup restore testing measures the real time " +
      "(LatestRestoreExecutionTimeMinutes)",
  };
}

/** Promoting a cross-Region read replica to a standalone instance. */
export const RDS_REPLICA_PROMOTION: Figure = {
  seconds: 10 * MINUTE,
  source:
    'estimate (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReadRepl.Promote.html: "a few minutes")',
};

/** S3 Replication Time Control replicates 99.99% of new objects within 15 minutes. */
export const S3_REPLICATION_TIME_CONTROL: Figure = {
  seconds: 15 * MINUTE,
  source: "https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-time-control.html",
};

/**
 * AWS Backup copies a recovery point to another Region after the backup job; copies of small
 * databases take minutes.
 */
export const AWS_BACKUP_CROSS_REGION_COPY: Figure = {
  seconds: 60 * MINUTE,
  source:
    "estimate (https://docs.aws.amazon.com/aws-backup/latest/devguide/cross-region-backup.html publishes no bound)",
};

/** The node controller marks an unreachable node NotReady after node-monitor-grace-period (40 s by default). */
export const NODE_MONITOR_GRACE: Figure = {
  seconds: 40,
  source:
    "https://kubernetes.io/docs/reference/command-line-tools-reference/kube-controller-manager/ (--node-monitor-grace-period)",
};

/** A managed node group launching a node until it is Ready. */
export const EKS_NODE_LAUNCH: Figure = {
  seconds: 5 * MINUTE,
  source: "estimate (EC2 launch, bootstrap and CNI start)",
};

/** A pod of a cached image starting until its container runs. */
export const POD_START: Figure = { seconds: 15, source: "estimate (image already on the node)" };

/**
 * From a failure to a person's page, beyond the rule's own hold (`for`, which promtool proves in
 * test/alerts): the next scrape sees the change, the next evaluation sees the sample, and
 * Alertmanager holds a new group for its group_wait. The same intervals the deployed
 * configuration uses (charts/constructs/alert-timing.ts).
 */
export const ALERT_PIPELINE: Figure = {
  seconds:
    ALERT_TIMING.scrapeIntervalSeconds +
    ALERT_TIMING.evaluationIntervalSeconds +
    ALERT_TIMING.groupWaitSeconds,
  source:
    `a scrape (${ALERT_TIMING.scrapeIntervalSeconds}s), an evaluation ` +
    `(${ALERT_TIMING.evaluationIntervalSeconds}s) and Alertmanager's group_wait ` +
    `(${ALERT_TIMING.groupWaitSeconds}s), charts/constructs/alert-timing.ts`,
};

/**
 * Nothing in the target watches a Region from outside it: people learn of a Region's loss from
 * AWS Health and users.
 */
export const REGION_OUTAGE_NOTICE: Figure = {
  seconds: 10 * MINUTE,
  source: "estimate (no out-of-Region health check in this design)",
};

/** Re-pointing clients: DNS records with a 60 s TTL, and the app rolled out against the new database. */
export const CUTOVER: Figure = {
  seconds: 5 * MINUTE,
  source: "estimate (60 s DNS TTL plus a rolling restart)",
};

/** Copying a SQLite restore point into place: conservative disk throughput for node-local volumes. */
export const LOCAL_DISK_BYTES_PER_SECOND = 50 * 1024 * 1024;

/**
 * One AWS API call or kubectl command of the failover runbook that returns at once (a describe, a
 * promotion request, a scale): its round trip, with room for a person reading its output.
 */
export const AWS_API_CALL: Figure = {
  seconds: 10,
  source: "estimate (one API round trip and its output read)",
};

/**
 * External Secrets re-reading a secret when told to (the force-sync annotation): one reconcile
 * and one GetSecretValue.
 */
export const EXTERNAL_SECRETS_SYNC: Figure = {
  seconds: 30,
  source:
    "estimate (https://external-secrets.io/latest/introduction/faq/: an annotation change reconciles at once)",
};

/**
 * Switching the service's name: Route 53 propagates a change to its authoritative servers within
 * 60 seconds, then resolvers may keep the old answer for the record's TTL (60 s,
 * config/dr-design.ts).
 */
export const DNS_SWITCH: Figure = {
  seconds: 60 + SERVICE_RECORD_TTL_SECONDS,
  source:
    "https://docs.aws.amazon.com/Route53/latest/APIReference/API_GetChange.html (INSYNC, usually within 60 s) " +
    `plus the record's ${SERVICE_RECORD_TTL_SECONDS} s TTL`,
};

/**
 * RDS's default quota "Manual DB instance snapshots": 100 per account in each Region,
 * adjustable in Service Quotas. AWS Backup's RDS snapshots (snapshot type `awsbackup`) and
 * their cross-Region copies are taken through RDS's snapshot APIs and AWS documents no exemption
 * for them, so this model counts them against it.
 */
export const RDS_MANUAL_SNAPSHOT_QUOTA = {
  count: 100,
  source: "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Limits.html",
} as const;
