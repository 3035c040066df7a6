import type { Settings } from "../settings";
import { createPostgresStorage } from "./postgres";
import { createSqliteStorage } from "./sqlite";
import type { Storage } from "./types";

export type { Storage, StoredEvent } from "./types";

/** PostgreSQL when DATABASE_URL is set, otherwise SQLite at DB_PATH. */
export async function openStorage(settings: Settings): Promise<Storage> {
  if (settings.databaseUrl)
    return createPostgresStorage(settings.databaseUrl, settings.databaseCaFile);
  return createSqliteStorage(settings.dbPath!);
}
