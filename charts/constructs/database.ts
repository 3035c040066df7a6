/**
 * How a pod reaches the app's database. The app, the backup and the restore test all mount
 * the same thing; this interface is what they share, whatever the backend.
 */
import type * as kplus from "cdk8s-plus-28";
import type { AppWorkload } from "./app-workload";
import { TARGET, WORKSHOP } from "./names";

export interface DatabaseAccess {
  /** Environment the app contract reads (`DB_PATH`, `BACKUP_DIR`, or `DATABASE_URL`). */
  readonly env: Readonly<Record<string, kplus.EnvValue>>;
  /** Volumes to mount, if the database lives on volumes. */
  readonly mounts: readonly kplus.VolumeMount[];
  /**
   * True when only one pod may write at a time (SQLite on a ReadWriteOnce volume): the app
   * runs one replica and is replaced, never rolled, and every other pod that mounts the
   * volumes must run on the app's node.
   */
  readonly singleWriter: boolean;
  /** What `kind` of restore points the backup writes, for names and labels: `sqlite` or `postgres`. */
  readonly engine: "sqlite" | "postgres";
}

/**
 * A scheduled task's database and the app it serves. With a single-writer database (SQLite on
 * ReadWriteOnce volumes) the task mounts the app's volumes, so its pods must run on the app's
 * node: the compiler refuses such a task without the app, and the task is placed there.
 */
export type TaskDatabase =
  | {
      readonly database: DatabaseAccess & { readonly singleWriter: true };
      readonly app: AppWorkload;
    }
  | { readonly database: DatabaseAccess & { readonly singleWriter: false }; readonly app?: never };

/**
 * Pins a task's pods to the app's node when the database is single-writer; throws when the app
 * is missing (a caller that widened `singleWriter` to boolean gets past the compiler).
 */
export function placeTask(owner: string, cronJob: kplus.CronJob, task: TaskDatabase): void {
  if (!task.database.singleWriter) return;
  if (task.app === undefined) {
    throw new Error(
      `${owner}: a single-writer database (${task.database.engine} on ReadWriteOnce volumes) ` +
        "needs the app, whose node the task must run on",
    );
  }
  cronJob.scheduling.colocate(task.app.pods);
}

/** The scheduled tasks' names, from the engine: the workshop's for SQLite, the target's for PostgreSQL. */
export const TASK_NAMES = {
  sqlite: { backup: WORKSHOP.backupCronJob, restoreTest: WORKSHOP.restoreTestCronJob },
  postgres: { backup: TARGET.exportCronJob, restoreTest: TARGET.restoreTestCronJob },
} as const satisfies Record<DatabaseAccess["engine"], { backup: string; restoreTest: string }>;
