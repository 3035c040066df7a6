/**
 * The backup CronJob (`sqlite-backup` in the lab): `pra-app backup` on a schedule derived from
 * the RPO, never two at once, and bounded in time so a late or hung run is gone before the
 * next is due. The consistency of each backup is the app's job (apps/pra-app); this construct
 * owns when it runs and how long it may take.
 */
import { Duration } from "cdk8s";
import * as kplus from "cdk8s-plus-28";
import { Construct } from "constructs";
import { formatDuration, type Timing } from "../../config";
import { appTaskPod, cronOf, SCHEDULE_TIME_ZONE } from "./app-task";
import { placeTask, TASK_NAMES, type TaskDatabase } from "./database";
import type { AppRuntime } from "./runtime";

/**
 * The database to back up, and the app when the database is single-writer (the backup pod then
 * runs on the app's node). The CronJob's name follows the engine (`sqlite-backup`,
 * `postgres-export`), so the alerts and runbooks that name it cannot drift from it.
 */
export type BackupScheduleProps = TaskDatabase & {
  readonly runtime: AppRuntime;
  /** When backups run and how long each may take, from config/schedule.ts. */
  readonly timing: Timing;
  /** Restore points younger than this are kept. */
  readonly keepWithinSeconds: number;
  /** The newest this many restore points are kept whatever their age. */
  readonly keepLast: number;
};

/** Finished Jobs kept for `kubectl logs`: enough to see a pattern, few enough to stay tidy. */
const HISTORY = 3;

export class BackupSchedule extends Construct {
  readonly cronJob: kplus.CronJob;
  /** When it runs and how long a run may take: what the alerts on it are computed from. */
  readonly timing: Timing;

  constructor(scope: Construct, id: string, props: BackupScheduleProps) {
    super(scope, id);
    if (props.keepLast < 1)
      throw new Error(`BackupSchedule: keepLast must be at least 1, got ${props.keepLast}`);
    const { timing } = props;
    this.timing = timing;
    if (timing.startingDeadlineSeconds + timing.activeDeadlineSeconds > timing.intervalSeconds) {
      throw new Error(
        `BackupSchedule: a run may start ${timing.startingDeadlineSeconds}s late ` +
          `and take ${timing.activeDeadlineSeconds}s, ` +
          `longer than the ${timing.intervalSeconds}s between runs`,
      );
    }
    this.cronJob = new kplus.CronJob(this, "cronjob", {
      metadata: { name: TASK_NAMES[props.database.engine].backup },
      schedule: cronOf(timing.schedule),
      timeZone: SCHEDULE_TIME_ZONE,
      concurrencyPolicy: kplus.ConcurrencyPolicy.FORBID,
      startingDeadline: Duration.seconds(timing.startingDeadlineSeconds),
      activeDeadline: Duration.seconds(timing.activeDeadlineSeconds),
      // One retry inside the deadline for a transient failure (a node hiccup); a backup that
      // keeps failing shows up as a failed Job and a firing alert instead.
      backoffLimit: 1,
      successfulJobsRetained: HISTORY,
      failedJobsRetained: HISTORY,
      ...appTaskPod(this, {
        runtime: props.runtime,
        database: props.database,
        args: [
          "backup",
          "--keep-last",
          String(props.keepLast),
          "--keep-within",
          formatDuration(props.keepWithinSeconds),
        ],
      }),
    });
    placeTask("BackupSchedule", this.cronJob, props);
  }
}
