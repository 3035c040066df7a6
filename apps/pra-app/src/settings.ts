/** The app contract's environment, read in one place. */
import { resolve } from "node:path";

/** The service's database: a SQLite file (the lab) or a PostgreSQL server (the target). */
export type DatabaseSettings =
  | { readonly kind: "sqlite"; readonly dbPath: string }
  | {
      readonly kind: "postgres";
      /** Contains a password: never log it. */
      readonly databaseUrl: string;
      /** A CA bundle for the PostgreSQL server's certificate, when the URL does not name one. */
      readonly caFile: string | undefined;
    };

/** The S3 bucket holding PostgreSQL exports: `<prefix>app-<unix-seconds>.dump`. */
export interface ExportSettings {
  readonly bucket: string;
  /** Ends with "/" unless empty. */
  readonly prefix: string;
  readonly kmsKeyId: string | undefined;
}

export interface Settings {
  readonly port: number;
  readonly database: DatabaseSettings;
  /** SQLite restore points. */
  readonly backupDir: string;
  /** PostgreSQL exports, when EXPORT_BUCKET is set. */
  readonly exports: ExportSettings | undefined;
  /** PRA_ALLOW_EMPTY_DATABASE: start on an empty SQLite database even though restore points exist. */
  readonly allowEmptyDatabase: boolean;
}

export const DEFAULT_DB_PATH = "/data/app.db";
export const DEFAULT_BACKUP_DIR = "/backup";

export function readSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const portText = env.PORT ?? "8080";
  // Digits only: Number("") is 0 (a random port) and Number(" 80 ") is 80.
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : Number.NaN;
  if (!(port >= 0 && port <= 65535)) {
    throw new Error(`PORT must be a port number (0-65535); found "${portText}"`);
  }
  const allowEmpty = env.PRA_ALLOW_EMPTY_DATABASE ?? "false";
  if (allowEmpty !== "true" && allowEmpty !== "false") {
    throw new Error(`PRA_ALLOW_EMPTY_DATABASE must be true or false; found "${allowEmpty}"`);
  }
  // DATABASE_URL wins; without either, the contract's default SQLite path.
  const database: DatabaseSettings = env.DATABASE_URL
    ? { kind: "postgres", databaseUrl: env.DATABASE_URL, caFile: env.DATABASE_CA_FILE || undefined }
    : { kind: "sqlite", dbPath: resolve(env.DB_PATH || DEFAULT_DB_PATH) };
  return {
    port,
    database,
    backupDir: resolve(env.BACKUP_DIR || DEFAULT_BACKUP_DIR),
    exports: readExportSettings(env),
    allowEmptyDatabase: allowEmpty === "true",
  };
}

export function readExportSettings(
  env: NodeJS.ProcessEnv = process.env,
): ExportSettings | undefined {
  const bucket = env.EXPORT_BUCKET;
  if (!bucket) return undefined;
  let prefix = env.EXPORT_PREFIX ?? "exports/";
  if (prefix !== "" && !prefix.endsWith("/")) prefix += "/";
  return { bucket, prefix, kmsKeyId: env.EXPORT_KMS_KEY_ID || undefined };
}
