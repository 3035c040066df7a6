/**
 * A missing SQLite database with restore points beside it is a lost data volume, not a first
 * start. Creating an empty database there would serve no data as if all were well, and the next
 * backups would record that emptiness as the newest restore points, which a restore of "the
 * newest valid point" would then bring back. So the service refuses to start instead: its pod
 * fails, the app-down alert fires, and a person restores (or says an empty start is intended).
 */
import { existsSync } from "node:fs";
import { listRestorePoints } from "../backup/points";

export function refuseEmptyStartAfterLoss(
  dbPath: string,
  backupDir: string,
  allowEmpty: boolean,
): void {
  if (allowEmpty || existsSync(dbPath)) return;
  const points = listRestorePoints(backupDir);
  if (points.length === 0) return;
  throw new Error(
    `refusing to create an empty database at ${dbPath}: ${backupDir} holds ${points.length} restore point(s), ` +
      `the newest ${points[0]!.file}, so the data was lost rather than never written. Restore first ` +
      "(pra-app restore; in the lab, npm run restore), or set PRA_ALLOW_EMPTY_DATABASE=true to start empty on purpose.",
  );
}
