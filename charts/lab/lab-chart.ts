/**
 * The workshop's topology: the app on SQLite with its two volumes, the backup CronJob and the
 * restore test, all in one namespace. The restore Job is in LabOpsChart, never synced.
 */
import { Chart, type ChartProps } from "cdk8s";
import type { Construct } from "constructs";
import type { LabConfig } from "../../config";
import { AppWorkload } from "../constructs/app-workload";
import { BackupMonitoring } from "../constructs/backup-monitoring";
import { BackupSchedule } from "../constructs/backup-schedule";
import { NetworkRules } from "../constructs/network-rules";
import { RestoreJob } from "../constructs/restore-job";
import { RestoreTestSchedule } from "../constructs/restore-test-schedule";
import { SqliteAccess, SqliteStorage } from "../constructs/sqlite-storage";

export interface LabChartProps extends ChartProps {
  readonly config: LabConfig;
}

export class LabChart extends Chart {
  readonly storage: SqliteStorage;
  readonly app: AppWorkload;
  readonly backup: BackupSchedule;
  readonly restoreTest: RestoreTestSchedule;

  constructor(scope: Construct, id: string, props: LabChartProps) {
    const { config, ...chartProps } = props;
    super(scope, id, { namespace: config.namespace, ...chartProps });
    this.storage = new SqliteStorage(this, "storage", {
      data: config.volumes.data,
      backup: config.volumes.backup,
    });
    const runtime = { image: config.image };
    this.app = new AppWorkload(this, "app", { runtime, database: this.storage.access });
    // SQLite on ReadWriteOnce volumes: both tasks need the app, and run on its node.
    this.backup = new BackupSchedule(this, "backup", {
      runtime,
      database: this.storage.access,
      app: this.app,
      timing: config.backup.timing,
      keepWithinSeconds: config.backup.keepWithinSeconds,
      keepLast: config.backup.keepLast,
    });
    this.restoreTest = new RestoreTestSchedule(this, "restore-test", {
      runtime,
      database: this.storage.access,
      app: this.app,
      schedule: config.restoreTest.schedule,
      maxAgeSeconds: config.restoreTest.maxAgeSeconds,
    });
    // Nothing in or out but DNS and the app's port: the lab's pods need no other network.
    new NetworkRules(this, "network", { app: this.app });
    if (config.monitoring) {
      new BackupMonitoring(this, "monitoring", {
        app: this.app,
        namespace: config.namespace,
        stack: config.stack,
        backup: this.backup,
        restoreTest: this.restoreTest,
        rpoSeconds: config.objectives.rpoSeconds,
        policy: config.backup,
      });
    }
  }
}

export interface LabOpsChartProps extends ChartProps {
  readonly config: LabConfig;
  /** A restore point's file name. @default the newest valid point */
  readonly point?: string;
  /** Unix seconds: the newest valid point taken at or before then. Not with `point`. */
  readonly before?: number;
}

/** Run-once operations: the restore Job. Written to dist/<stack>/ops/, applied by a person. */
export class LabOpsChart extends Chart {
  readonly restore: RestoreJob;

  constructor(scope: Construct, id: string, props: LabOpsChartProps) {
    const { config, point, before, ...chartProps } = props;
    super(scope, id, { namespace: config.namespace, ...chartProps });
    // The claims already exist (the synced chart owns them); only their names are needed here.
    const storage = new SqliteAccess(this, "storage");
    this.restore = new RestoreJob(this, "restore", {
      runtime: { image: config.image },
      database: storage,
      ...(point !== undefined ? { point } : {}),
      ...(before !== undefined ? { before } : {}),
    });
  }
}
