/**
 * A missing SQLite database with restore points beside it is a lost data volume, not a first
 * start. So is an empty one: a 0-byte file (a volume recreated, a file truncated) or a SQLite file
 * without the app's table. Starting there would serve no data as if all were well, and the next
 * backups would record that emptiness as the newest restore points, which retention would then
 * keep instead of the good ones and a restore of "the newest valid point" would bring back. So
 * the service refuses to start instead: its pod fails, the app-down alert fires, and a person
 * restores (or says an empty start is intended).
 */
import { statSync } from "node:fs";
import Database from "better-sqlite3";
import { missingSchema } from "../backup/integrity";
import { listRestorePoints } from "../backup/points";

export function refuseEmptyStartAfterLoss(
  dbPath: string,
  backupDir: string,
  allowEmpty: boolean,
): void {
  const stats = statSync(dbPath, { throwIfNoEntry: false });
  if (stats?.isDirectory())
    throw new Error(`DB_PATH ${dbPath} is a directory, not a database file`);
  if (allowEmpty) return;
  const emptiness = stats ? whyEmpty(dbPath, stats.size) : "missing";
  if (emptiness === undefined) return;
  const points = listRestorePoints(backupDir);
  const [newest] = points;
  if (!newest) return;
  const found =
    `${backupDir} holds ${points.length} restore point(s), the newest ${newest.file}, ` +
    "so the data was lost rather than never written. Restore first (pra-app restore; in the lab, " +
    "npm run restore), or set PRA_ALLOW_EMPTY_DATABASE=true to start empty on purpose.";
  if (emptiness === "missing")
    throw new Error(`refusing to create an empty database at ${dbPath}: ${found}`);
  throw new Error(`refusing to start on the empty database ${dbPath} (${emptiness}): ${found}`);
}

/** Why the file at `dbPath` holds no app data (0 bytes, no events table), or undefined if it may. */
function whyEmpty(dbPath: string, sizeBytes: number): string | undefined {
  if (sizeBytes === 0) return "0 bytes";
  let db: Database.Database | undefined;
  try {
    db = new Database(dbPath, { readonly: true, fileMustExist: true });
    return missingSchema(db);
  } catch {
    // Not readable as SQLite: opening it for service fails next, with SQLite's own reason.
    return undefined;
  } finally {
    db?.close();
  }
}
