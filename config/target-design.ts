/**
 * The target architecture's figures as plain data: every number or choice the AWS components
 * use that matters for recovery (retention, schedules, replication promises, capacity per
 * region). The components read their figures from here, and so can a DR scenario model,
 * so the two cannot drift apart.
 */
import { VPC_CIDRS } from "./cloud-names";
import { type DrPart, drDesignOf } from "./dr-design";
import type { DrStrategy, TargetConfig } from "./types";

const DAY = 86_400;
const HOUR = 3_600;

/** RDS keeps automated backups (point-in-time recovery) for at most 35 days. */
export const RDS_MAX_BACKUP_RETENTION_DAYS = 35;
/**
 * Every PostgreSQL the stack runs (the primary, the DR region's restores and replica) accepts TLS
 * only, 1.2 or later: the app's DATABASE_URL says verify-full and the parameter groups enforce it.
 */
export const TLS_ONLY_PARAMETERS: readonly { readonly name: string; readonly value: string }[] = [
  { name: "rds.force_ssl", value: "1" },
  { name: "ssl_min_protocol_version", value: "TLSv1.2" },
];

/**
 * Days between rotations of the app's database password (alternating users): frequent enough to
 * bound a leaked password's life, rare enough that a pod restarted at least monthly never meets
 * rejected credentials.
 */
export const CREDENTIAL_ROTATION_DAYS = 30;
/** AWS Backup runs a backup rule at most once an hour. */
export const AWS_BACKUP_MIN_INTERVAL_HOURS = 1;
/** Backup rule intervals that divide a day evenly, so a cron expression keeps them evenly spaced. */
const BACKUP_INTERVAL_HOURS = [1, 2, 3, 4, 6, 8, 12, 24] as const;
/** S3 Replication Time Control replicates 99.99% of objects within this many minutes. */
export const S3_RTC_MINUTES = 15;
/** Smallest changeable window AWS Backup accepts for a compliance-mode vault lock. */
export const VAULT_LOCK_GRACE_DAYS = 3;
/** Upper bound of the DR vault's retention: stops a typo from keeping copies (and paying) for years. */
export const VAULT_LOCK_MAX_RETENTION_DAYS = 365;

/**
 * How fast one pg_dump or pg_restore stream moves data between PostgreSQL and S3 (custom format,
 * compressed, one process). An estimate, not an AWS figure: a run's own duration_seconds in its
 * summary line is the measurement to replace it with.
 */
export const LOGICAL_COPY_BYTES_PER_SECOND = 50 * 1024 ** 2;
/** What a Job needs before its first byte moves (image pull, volume attach, a server's start). */
const JOB_START_SECONDS = 120;

/** The database's provisioned storage (pra:dbAllocatedStorage, GiB) in bytes: what the jobs are sized for. */
export function provisionedDataBytes(allocatedStorageGb: number): number {
  return allocatedStorageGb * 1024 ** 3;
}

function logicalCopySeconds(dataBytes: number): number {
  return Math.ceil(dataBytes / LOGICAL_COPY_BYTES_PER_SECOND);
}

/**
 * How long the export of `dataBytes` may take: pg_dump streamed to S3, then a second streamed read
 * that checks it (pg_restore --list). Its CronJob's active deadline, and so its cadence
 * (config/parse.ts), come from this.
 */
export function exportSecondsFor(dataBytes: number): number {
  return JOB_START_SECONDS + 2 * logicalCopySeconds(dataBytes);
}

/** How long the restore test may take: the newest export streamed into a throwaway server. */
export function restoreTestSecondsFor(dataBytes: number): number {
  return JOB_START_SECONDS + logicalCopySeconds(dataBytes);
}

export interface NodeCapacity {
  readonly min: number;
  readonly desired: number;
  readonly max: number;
}

export interface TargetDesign {
  readonly regions: { readonly primary: string; readonly dr: string };
  readonly drStrategy: DrStrategy;
  /**
   * What the DR region holds (config/dr-design.ts): infra/aws/dr-region.ts builds these parts, and
   * the DR model counts a region loss as recoverable only when the failover needs no other.
   */
  readonly drParts: readonly DrPart[];
  readonly network: {
    readonly availabilityZones: number;
    readonly natGateways: number;
    /** NAT gateways of the DR VPC: one shared in pilot light (little runs there), like the primary in warm standby. */
    readonly drNatGateways: "per-zone" | "single";
    readonly primaryCidr: string;
    readonly drCidr: string;
  };
  readonly cluster: {
    readonly kubernetesVersion: string;
    /** One managed node group per zone, in the zone's private subnet. */
    readonly primaryNodesPerZone: readonly NodeCapacity[];
    readonly drNodesPerZone: readonly NodeCapacity[];
  };
  readonly database: {
    readonly engineVersion: string;
    readonly parameterGroupFamily: string;
    readonly instanceClass: string;
    /** GiB provisioned, and the storage autoscaling ceiling. */
    readonly allocatedStorageGb: number;
    readonly maxAllocatedStorageGb: number;
    /** A standby in another zone: a zone's loss is a failover of a minute or two, not a restore. */
    readonly multiAz: boolean;
    /** The parameter groups' TLS settings (TLS_ONLY_PARAMETERS). */
    readonly tlsParameters: typeof TLS_ONLY_PARAMETERS;
    /** RDS automated backups (point-in-time recovery), in days; never 0. */
    readonly backupRetentionDays: number;
    /** Automated backups replicated to the DR region, kept this many days there. */
    readonly drBackupReplicationRetentionDays: number;
    /** A cross-region read replica exists (warm-standby only). */
    readonly crossRegionReplica: boolean;
    readonly deletionProtection: true;
    /** Alarm when the replica is this many seconds behind. */
    readonly replicaLagAlarmSeconds: number;
    /** Alarm when free storage falls below this many bytes. */
    readonly freeStorageAlarmBytes: number;
    /**
     * The app's database password is rotated every this many days by Secrets Manager, alternating
     * two users: the previous credentials stay valid until the next rotation, so this is also how
     * long a running pod's credentials keep working (the overlap External Secrets must beat).
     */
    readonly credentialRotationDays: number;
  };
  readonly backupPlan: {
    /** AWS Backup schedule, in its six-field cron syntax (UTC). */
    readonly schedule: string;
    readonly intervalHours: number;
    /** Recovery points (primary vault and DR copies) are deleted after this many days. */
    readonly retentionDays: number;
    /** AWS Backup continuous backup for RDS: off, RDS's own PITR does that job (see docs). */
    readonly continuousBackup: false;
    readonly copyToDrRegion: true;
    readonly vaultLock: {
      readonly mode: "compliance";
      readonly changeableForDays: number;
      readonly minRetentionDays: number;
      readonly maxRetentionDays: number;
    };
  };
  readonly restoreTesting: {
    /** AWS Backup restore testing schedule (six-field cron, UTC). */
    readonly schedule: string;
    readonly intervalHours: number;
    readonly algorithm: "LATEST_WITHIN_WINDOW";
    /** Only a recovery point this recent counts: older means the backups stopped. */
    readonly selectionWindowDays: number;
    readonly validationWindowHours: number;
  };
  /** The app's data as its jobs handle it: how much, and how long a full copy takes. */
  readonly workload: {
    /**
     * The database's provisioned storage (pra:dbAllocatedStorage): what the jobs are sized for.
     * Storage autoscaling can grow it to pra:dbMaxAllocatedStorage; data past the provisioned size
     * makes the restore test fail (and alert) until the setting is raised.
     */
    readonly dataBytes: number;
    /** pg_dump of dataBytes streamed to S3, checked by a second streamed read. */
    readonly exportSeconds: number;
    /** The newest export restored into a throwaway server and queried (the restore test). */
    readonly restoreTestSeconds: number;
  };
  readonly exportBucket: {
    readonly replicationTimeControlMinutes: number;
    readonly replicateDeleteMarkers: true;
    /** Old (noncurrent) object versions are deleted this many days after being replaced. */
    readonly noncurrentVersionDays: number;
    readonly replicationLatencyAlarmSeconds: number;
  };
}

/** AWS Backup's six-field cron (minutes hours day-of-month month day-of-week year), UTC. */
export function backupCron(intervalHours: number): string {
  if (intervalHours === 1) return "cron(0 * ? * * *)";
  if (intervalHours === 24) return "cron(0 0 ? * * *)";
  return `cron(0 0/${intervalHours} ? * * *)`;
}

/**
 * The backup rule's interval: the longest even interval that still takes a recovery point
 * within the RPO, and never more often than AWS Backup allows (hourly). Below an hour the RPO
 * is met for the database by RDS point-in-time recovery (transaction logs every 5 minutes,
 * replicated to the DR region), not by snapshots.
 */
export function backupIntervalHours(rpoSeconds: number): number {
  let best: number = AWS_BACKUP_MIN_INTERVAL_HOURS;
  for (const hours of BACKUP_INTERVAL_HOURS) if (hours * HOUR <= rpoSeconds) best = hours;
  return best;
}

/** Whole days covering `seconds`, at least one. */
export function retentionDays(seconds: number): number {
  return Math.max(1, Math.ceil(seconds / DAY));
}

/** `"18"` or `"18.1"` → `"postgres18"`. */
export function parameterGroupFamily(engineVersion: string): string {
  return `postgres${engineVersion.split(".")[0]}`;
}

function drNodes(config: TargetConfig): NodeCapacity[] {
  const zones = config.network.availabilityZones;
  const max = config.cluster.maxNodesPerZone;
  if (config.dr.strategy === "warm-standby") {
    // Nodes running in every zone, so the app fails over onto warm capacity and scales from there.
    return Array.from({ length: zones }, () => ({ min: 1, desired: 1, max }));
  }
  // Pilot light: one node in the first zone keeps CoreDNS and the CSI driver healthy (a cluster
  // with no node leaves its add-ons degraded); failover is a node-group resize, not a rebuild.
  return Array.from({ length: zones }, (_, zone) => ({ min: 0, desired: zone === 0 ? 1 : 0, max }));
}

export function describeTargetDesign(config: TargetConfig): TargetDesign {
  const keepDays = config.database.backupRetentionDays;
  const intervalHours = backupIntervalHours(config.objectives.rpoSeconds);
  const restoreEveryHours = Math.max(
    24,
    Math.ceil(config.restoreTest.intervalSeconds / HOUR / 24) * 24,
  );
  const perZone = config.cluster.nodesPerZone;
  const dataBytes = provisionedDataBytes(config.database.allocatedStorageGb);
  return {
    regions: { primary: config.region, dr: config.dr.region },
    drStrategy: config.dr.strategy,
    drParts: drDesignOf(config).parts,
    network: {
      availabilityZones: config.network.availabilityZones,
      natGateways: config.network.natGateways === "single" ? 1 : config.network.availabilityZones,
      drNatGateways: config.dr.strategy === "pilot-light" ? "single" : config.network.natGateways,
      primaryCidr: VPC_CIDRS.primary,
      // Different from the primary so the two VPCs can be peered during a failover if needed.
      drCidr: VPC_CIDRS.dr,
    },
    cluster: {
      kubernetesVersion: config.cluster.kubernetesVersion,
      primaryNodesPerZone: Array.from({ length: config.network.availabilityZones }, () => ({
        min: perZone,
        desired: perZone,
        max: config.cluster.maxNodesPerZone,
      })),
      drNodesPerZone: drNodes(config),
    },
    database: {
      engineVersion: config.database.engineVersion,
      parameterGroupFamily: parameterGroupFamily(config.database.engineVersion),
      instanceClass: config.database.instanceClass,
      allocatedStorageGb: config.database.allocatedStorageGb,
      maxAllocatedStorageGb: config.database.maxAllocatedStorageGb,
      multiAz: true,
      tlsParameters: TLS_ONLY_PARAMETERS,
      backupRetentionDays: keepDays,
      drBackupReplicationRetentionDays: keepDays,
      crossRegionReplica: config.dr.strategy === "warm-standby",
      deletionProtection: true,
      replicaLagAlarmSeconds: Math.max(60, Math.floor(config.objectives.rpoSeconds / 2)),
      freeStorageAlarmBytes:
        Math.max(2, Math.ceil(config.database.allocatedStorageGb / 10)) * 1024 ** 3,
      credentialRotationDays: CREDENTIAL_ROTATION_DAYS,
    },
    backupPlan: {
      schedule: backupCron(intervalHours),
      intervalHours,
      retentionDays: keepDays,
      continuousBackup: false,
      copyToDrRegion: true,
      vaultLock: {
        mode: "compliance",
        changeableForDays: VAULT_LOCK_GRACE_DAYS,
        // A copy cannot be deleted before it would expire anyway, and none is kept longer than a year.
        minRetentionDays: keepDays,
        maxRetentionDays: Math.max(keepDays, VAULT_LOCK_MAX_RETENTION_DAYS),
      },
    },
    restoreTesting: {
      // A real RDS restore takes tens of minutes and costs an instance-hour: at most daily, even
      // when the in-cluster restore test (pra:restoreTestEvery) runs hourly.
      schedule: restoreEveryHours >= 7 * 24 ? "cron(0 5 ? * MON *)" : "cron(0 5 ? * * *)",
      intervalHours: restoreEveryHours >= 7 * 24 ? 7 * 24 : 24,
      algorithm: "LATEST_WITHIN_WINDOW",
      selectionWindowDays: 1,
      validationWindowHours: 2,
    },
    workload: {
      dataBytes,
      exportSeconds: exportSecondsFor(dataBytes),
      restoreTestSeconds: restoreTestSecondsFor(dataBytes),
    },
    exportBucket: {
      replicationTimeControlMinutes: S3_RTC_MINUTES,
      replicateDeleteMarkers: true,
      noncurrentVersionDays: keepDays,
      replicationLatencyAlarmSeconds: S3_RTC_MINUTES * 60,
    },
  };
}
