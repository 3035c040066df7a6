import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
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
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  // WAL lets backups read a snapshot while the service writes; FULL syncs every commit, so an
  // acknowledged write survives a power loss, not only a process crash.
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.exec(SCHEMA);
  return db;
}

export function createSqliteStorage(path: string): Storage {
  const db = openSqliteDatabase(path);
  const insert = db.prepare<[string], StoredEvent>(
    "INSERT INTO events (message) VALUES (?) RETURNING id, message, created_at",
  );
  const count = db.prepare<[], { count: number }>("SELECT count(*) AS count FROM events");
  const recent = db.prepare<[number], StoredEvent>(
    "SELECT id, message, created_at FROM events ORDER BY id DESC LIMIT ?",
  );
  const ping = db.prepare("SELECT 1");
  return {
    kind: "sqlite",
    addEvent: (message) => settled(() => insert.get(message)!),
    countEvents: () => settled(() => count.get()!.count),
    recentEvents: (limit) => settled(() => recent.all(limit)),
    ping: () =>
      settled(() => {
        ping.get();
      }),
    close: () =>
      settled(() => {
        if (db.open) db.close();
      }),
  };
}

/** better-sqlite3 is synchronous; behind the Storage promises its throw becomes a rejection. */
function settled<T>(work: () => T): Promise<T> {
  return new Promise((resolveWork) => resolveWork(work()));
}
