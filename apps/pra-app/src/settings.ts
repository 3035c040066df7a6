/** The app contract's environment, read in one place. */
import { resolve } from "node:path";

export interface Settings {
  readonly port: number;
  /** Set when the SQLite backend is chosen. */
  readonly dbPath: string | undefined;
  /** Set when the PostgreSQL backend is chosen; contains a password: never log it. */
  readonly databaseUrl: string | undefined;
  /** A CA bundle for the PostgreSQL server's certificate, when the URL does not name one. */
  readonly databaseCaFile: string | undefined;
  readonly backupDir: string;
  /** PRA_ALLOW_EMPTY_DATABASE: start on an empty SQLite database even though restore points exist. */
  readonly allowEmptyDatabase: boolean;
}

export const DEFAULT_DB_PATH = "/data/app.db";
export const DEFAULT_BACKUP_DIR = "/backup";

export function readSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const port = Number(env.PORT ?? "8080");
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`PORT must be a port number (0-65535); found "${env.PORT}"`);
  }
  const databaseUrl = env.DATABASE_URL || undefined;
  const allowEmpty = env.PRA_ALLOW_EMPTY_DATABASE ?? "false";
  if (allowEmpty !== "true" && allowEmpty !== "false") {
    throw new Error(`PRA_ALLOW_EMPTY_DATABASE must be true or false; found "${allowEmpty}"`);
  }
  return {
    port,
    // DATABASE_URL wins; without either, the contract's default SQLite path.
    dbPath: databaseUrl ? undefined : resolve(env.DB_PATH || DEFAULT_DB_PATH),
    databaseUrl,
    databaseCaFile: env.DATABASE_CA_FILE || undefined,
    backupDir: resolve(env.BACKUP_DIR || DEFAULT_BACKUP_DIR),
    allowEmptyDatabase: allowEmpty === "true",
  };
}
