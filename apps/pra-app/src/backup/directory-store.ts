/** Restore points as SQLite files in a directory (BACKUP_DIR): the lab's store. */
import type { Outcome, RestorePointStore } from "../restore-points";
import { createBackup } from "./create";
import { ageSeconds, isFutureDated, listRestorePoints, nowSeconds } from "./points";
import { restore } from "./restore";
import { verifyNewest } from "./verify";

/**
 * `dbPath` is the SQLite database backups copy and restores replace; undefined when the service's
 * database is PostgreSQL and no --db names a file, and then `missingDb` says what to pass.
 */
export function directoryStore(
  backupDir: string,
  dbPath: string | undefined,
  missingDb: (command: string) => string,
): RestorePointStore {
  const database = (command: string) => {
    if (dbPath === undefined) throw new Error(missingDb(command));
    return dbPath;
  };
  return {
    list: () => Promise.resolve(listRestorePoints(backupDir)),
    serviceListing: () => () => Promise.resolve(listRestorePoints(backupDir)),

    async backup(retention, pace): Promise<Outcome> {
      const result = await createBackup({
        dbPath: database("backup"),
        backupDir,
        retention,
        maxCopyBytesPerSecond: pace.maxCopyBytesPerSecond,
      });
      const notes = [
        ...result.reclaimed.map((name) => `removed ${name}, left by a backup that died`),
        ...result.deletedToMakeRoom.map(
          (file) => `deleted ${file} before the copy to make room (the retention policy allows it)`,
        ),
      ];
      return {
        summary: {
          file: result.file,
          path: result.path,
          timestamp: result.timestamp,
          size_bytes: result.sizeBytes,
          last_event_id: result.lastEventId,
          deleted: result.deleted,
          deleted_to_make_room: result.deletedToMakeRoom,
        },
        notes,
      };
    },

    verify(maxAgeSeconds): Promise<Outcome> {
      const result = verifyNewest(backupDir, maxAgeSeconds);
      return Promise.resolve({
        summary: {
          file: result.file,
          timestamp: result.timestamp,
          age_seconds: result.ageSeconds,
          max_age_seconds: maxAgeSeconds,
          last_event_id: result.lastEventId,
          future_points: result.futurePoints,
        },
        notes: result.futurePoints.map(
          (file) => `${file} is dated in the future: not counted (a clock ran ahead?)`,
        ),
      });
    },

    async restore(request): Promise<Outcome> {
      const result = await restore({
        dbPath: database("restore"),
        backupDir,
        point: request.point,
        beforeSeconds: request.beforeSeconds,
        force: request.force,
        keepAside: request.keepAside,
      });
      return {
        summary: {
          restored: result.file,
          timestamp: result.timestamp,
          last_event_id: result.lastEventId,
          db: result.dbPath,
          skipped: result.skipped,
          moved_aside: result.movedAside,
          removed_aside: result.removedAside,
          forced_past: result.forcedPast,
        },
        notes: [
          ...result.skipped.map((entry) => `skipped ${entry.file}: ${entry.reason}`),
          ...result.forcedPast.map(
            (user) => `--force: restored while ${user} had the database open`,
          ),
        ],
      };
    },
  };
}

/** The listing the `backups` command prints, the same for every store. */
export function describePoints(
  points: readonly { file: string; timestamp: number; sizeBytes: number }[],
): Record<string, unknown>[] {
  const now = nowSeconds();
  return points.map((point) => ({
    file: point.file,
    timestamp: point.timestamp,
    size_bytes: point.sizeBytes,
    age_seconds: ageSeconds(point.timestamp, now),
    future_dated: isFutureDated(point.timestamp, now),
  }));
}
