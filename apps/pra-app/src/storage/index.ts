import type { DatabaseSettings } from "../settings";
import { createPostgresStorage } from "./postgres";
import { createSqliteStorage } from "./sqlite";
import type { Storage } from "./types";

export type { Storage, StoredEvent } from "./types";

export async function openStorage(database: DatabaseSettings): Promise<Storage> {
  if (database.kind === "postgres")
    return createPostgresStorage(database.databaseUrl, database.caFile);
  return createSqliteStorage(database.dbPath);
}
