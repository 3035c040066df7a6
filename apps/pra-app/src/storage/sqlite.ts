import { mkdirSync, statSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { errorMessage } from "../log";
import { MAX_MESSAGE_LENGTH } from "../validation";
import type { Storage, StoredEvent } from "./types";

/** How long a statement waits for another connection's lock (a backup, a restore test) before failing. */
export const BUSY_TIMEOUT_MS = 5000;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    message TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
  );
  -- count(*) reads the smallest index instead of every page of the table (messages are large): /count
  -- and the pra_events gauge stay cheap as the database grows.
  CREATE INDEX IF NOT EXISTS events_created_at ON events (created_at)`;

/** Opens (creating when missing) the service's database in WAL mode with the schema in place. */
export function openSqliteDatabase(path: string): Database.Database {
  if (statSync(path, { throwIfNoEntry: false })?.isDirectory())
    throw new Error(`DB_PATH ${path} is a directory, not a database file`);
  mkdirSync(dirname(path), { recursive: true });
  let db: Database.Database;
  try {
    db = new Database(path);
  } catch (error) {
    throw new Error(`cannot open the database ${path}: ${errorMessage(error)}`);
  }
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  // WAL lets backups read a snapshot while the service writes; FULL syncs every commit, so an
  // acknowledged write survives a power loss, not only a process crash.
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  // SQLite leaves declared constraints unchecked unless asked; a schema that declares one means it.
  db.pragma("foreign_keys = ON");
  db.exec(SCHEMA);
  return db;
}

/** The Storage over an open connection (tests set per-connection limits such as max_page_count). */
export function sqliteStorage(db: Database.Database): Storage {
  const insert = db.prepare<[string], StoredEvent>(
    "INSERT INTO events (message) VALUES (?) RETURNING id, message, created_at",
  );
  const count = db.prepare<[], { count: number }>("SELECT count(*) AS count FROM events");
  const recent = db.prepare<[number], StoredEvent>(
    "SELECT id, message, created_at FROM events ORDER BY id DESC LIMIT ?",
  );
  const ping = db.prepare("SELECT 1");
  const probeInsert = db.prepare<[string]>("INSERT INTO events (message) VALUES (?)");
  const probeDelete = db.prepare<[number | bigint]>("DELETE FROM events WHERE id = ?");
  const sequence = db.prepare<[], { seq: number }>(
    "SELECT seq FROM sqlite_sequence WHERE name = 'events'",
  );
  const setSequence = db.prepare<[number]>(
    "UPDATE sqlite_sequence SET seq = ? WHERE name = 'events'",
  );
  const dropSequence = db.prepare("DELETE FROM sqlite_sequence WHERE name = 'events'");
  // The largest event, inserted and deleted in one committed transaction that also puts the id
  // sequence back: it needs the pages and the commit an event needs, so it fails while events
  // would, and leaves the table and its ids (no gap) as they were.
  const probe = db.transaction(() => {
    const before = sequence.get()?.seq;
    probeDelete.run(probeInsert.run("p".repeat(MAX_MESSAGE_LENGTH)).lastInsertRowid);
    if (before === undefined) dropSequence.run();
    else setSequence.run(before);
  });
  return {
    kind: "sqlite",
    addEvent: (message) =>
      settled(() => {
        // all(), not get(): with RETURNING, get() hands back the row after the first step and leaves
        // the statement's implicit COMMIT to the reset that follows, where better-sqlite3 drops its
        // error, so a commit that failed (a full volume) would be acknowledged. all() runs the
        // statement to its end, and a failed commit throws here.
        const [row] = insert.all(message);
        if (!row) throw new Error("the insert returned no row");
        return row;
      }),
    countEvents: () => settled(() => count.get()?.count ?? 0),
    recentEvents: (limit) => settled(() => recent.all(limit)),
    ping: () =>
      settled(() => {
        ping.get();
      }),
    probeWrite: () => settled(() => probe.immediate()),
    close: () =>
      settled(() => {
        if (db.open) db.close();
      }),
  };
}

export function createSqliteStorage(path: string): Storage {
  return sqliteStorage(openSqliteDatabase(path));
}

/** better-sqlite3 is synchronous; behind the Storage promises its throw becomes a rejection. */
function settled<T>(work: () => T): Promise<T> {
  return new Promise((resolveWork) => resolveWork(work()));
}
