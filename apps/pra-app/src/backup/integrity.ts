/** The one check every restore point passes before it is trusted: SQLite's integrity check and a query. */
import Database from "better-sqlite3";
import { errorMessage } from "../log";

/** SQLite's compiled-in ceiling for mmap_size in better-sqlite3's build (about 2 GiB). */
export const MMAP_BYTES = 0x7fff0000;

export type CheckResult = { ok: true; lastEventId: number } | { ok: false; reason: string };

/**
 * Opens `path` read-only (it is never modified), runs `PRAGMA integrity_check` (every page is read) and
 * queries the events table the service would serve from. The query asks for the newest event id, not a
 * count: a count reads the whole table a second time, and ids are never reused (AUTOINCREMENT).
 */
export function checkDatabaseFile(path: string): CheckResult {
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    // Reading pages through a memory map makes the check about 3x faster. Safe here: the connection is
    // read-only and nothing truncates a restore point or a staged copy while it is checked.
    db.pragma(`mmap_size = ${MMAP_BYTES}`);
    const problems = db.pragma("integrity_check", { simple: false }) as {
      integrity_check: string;
    }[];
    const messages = problems.map((row) => row.integrity_check);
    if (messages.length !== 1 || messages[0] !== "ok") {
      return { ok: false, reason: `integrity check failed: ${messages.slice(0, 3).join("; ")}` };
    }
    const row = db.prepare("SELECT max(id) AS id FROM events").get() as { id: number | null };
    return { ok: true, lastEventId: row.id ?? 0 };
  } catch (error) {
    return { ok: false, reason: `cannot be read as the app's database: ${errorMessage(error)}` };
  } finally {
    db?.close();
  }
}
