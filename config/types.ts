import type { ScenarioId } from "./scenarios";
import type { Timing } from "./schedule";
import type { DR_STRATEGIES } from "./settings";

/** What the stack promises, in seconds. */
export interface Objectives {
  /** Recovery point objective: the most data, in time, a disaster may lose. */
  readonly rpoSeconds: number;
  /** Recovery time objective: the longest the service may be down. */
  readonly rtoSeconds: number;
  /** How far back restore points reach: the longest an operator error may go unnoticed and be undone. */
  readonly retentionSeconds: number;
  /** How long an operator error may go unnoticed and still be undone: restore points must reach that far. */
  readonly errorDetectionSeconds: number;
  /** How soon a person acts on an alert: part of every manual recovery's RTO. */
  readonly onCallResponseSeconds: number;
  /** The failures these objectives must hold for; the DR check (dr/) refuses a design that cannot. */
  readonly scenarios: readonly ScenarioId[];
}

export interface BackupPolicy {
  readonly timing: Timing;
  /** True when `pra:backupSchedule` set the schedule instead of `pra:rpo`. */
  readonly scheduleIsExplicit: boolean;
  /** Restore points younger than this are kept. */
  readonly keepWithinSeconds: number;
  /** The newest this many restore points are kept whatever their age. */
  readonly keepLast: number;
  /**
   * Whether the RPO counts on these backups: in the lab they are its restore points, so their
   * schedule is derived from the RPO; in the target RDS point-in-time recovery and AWS Backup hold
   * the RPO, and the exports (the restore test's source, a portable copy) are timed by the
   * database's size.
   */
  readonly holdsRpo: boolean;
  /**
   * The newest backup is overdue past this age, and its critical alerts fire: the RPO where the
   * backups hold it, else their own schedule's worst case on time (timing.worstCaseAgeSeconds).
   */
  readonly overdueAfterSeconds: number;
}

export interface RestoreTestPolicy {
  readonly schedule: string;
  readonly intervalSeconds: number;
  /** A newest restore point older than this fails the test: the backups have stopped. */
  readonly maxAgeSeconds: number;
}

interface CommonConfig {
  /** The stack's name: `lab` for `Pulumi.lab.yaml`. */
  readonly stack: string;
  /** The stack file the settings came from, for messages. */
  readonly file: string;
  readonly namespace: string;
  readonly image: string;
  readonly objectives: Objectives;
  readonly backup: BackupPolicy;
  readonly restoreTest: RestoreTestPolicy;
  /** Prometheus rules, ServiceMonitor and dashboard. */
  readonly monitoring: boolean;
  /**
   * Whether `pulumi up` deploys the workload charts (`pra:deployWorkloads`); false leaves them,
   * as synth writes them to dist/<stack>/, to a GitOps tool. The add-ons are deployed either way.
   */
  readonly deployWorkloads: boolean;
}

export interface VolumeSettings {
  /** A Kubernetes quantity, exactly as configured (`200Mi`). */
  readonly size: string;
  readonly storageClass?: string;
}

export interface LabConfig extends CommonConfig {
  readonly topology: "lab";
  /** The size the SQLite database may reach (`pra:databaseSize`), as configured. */
  readonly databaseSize: string;
  readonly volumes: { readonly data: VolumeSettings; readonly backup: VolumeSettings };
  /** Where Alertmanager sends the lab's alerts (`pra:alertWebhookUrl`); none: nobody is paged. */
  readonly alerts: { readonly webhookUrl?: string };
}

export type DrStrategy = (typeof DR_STRATEGIES)[number];

export interface TargetConfig extends CommonConfig {
  readonly topology: "target";
  /** The primary AWS region (`aws:region`). */
  readonly region: string;
  readonly dr: { readonly region: string; readonly strategy: DrStrategy };
  readonly network: {
    readonly availabilityZones: number;
    readonly natGateways: "per-zone" | "single";
  };
  readonly cluster: {
    readonly kubernetesVersion: string;
    readonly nodeInstanceType: string;
    readonly nodesPerZone: number;
    readonly maxNodesPerZone: number;
    /** Ranges that may reach the EKS API from the internet (`pra:apiAccessCidrs`); none: private. */
    readonly apiAccessCidrs: readonly string[];
  };
  readonly database: {
    readonly instanceClass: string;
    readonly engineVersion: string;
    readonly allocatedStorageGb: number;
    readonly maxAllocatedStorageGb: number;
    /** Automated backups (point-in-time recovery) kept this many days; derived from retention. */
    readonly backupRetentionDays: number;
    /** The account's raised 'Manual DB instance snapshots' quota (`pra:rdsSnapshotQuota`), if declared. */
    readonly snapshotQuota?: number;
  };
  readonly app: { readonly replicas: number };
  /** The public domain the service's name and certificate are under (`pra:serviceDomain`). */
  readonly serviceDomain?: string;
  readonly alerts: { readonly email?: string };
}

/** A stack's settings, typed and with every default filled in. */
export type PraConfig = LabConfig | TargetConfig;
