/**
 * How a pod reaches the app's database. The app, the backup and the restore test all mount
 * the same thing; this interface is what they share, whatever the backend.
 */
import type * as kplus from "cdk8s-plus-28";

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
