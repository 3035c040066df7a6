/**
 * Consistent backups of the live SQLite database, safe while the service keeps writing.
 *
 * The copy is made with SQLite's online backup API copying every page in ONE step: a step holds one read
 * transaction on the source, so the copy is the database exactly as some commit left it, writers are
 * never blocked (WAL), and they cannot make it start over. (In small steps, the API restarts whenever
 * another connection writes between steps and may never finish under load. `VACUUM INTO` is also
 * consistent but rebuilds every b-tree, which costs more CPU.) The copy is written under a hidden
 * temporary name, switched out of WAL mode so it is one self-contained file, integrity-checked,
 * fsynced, then linked into place under its final name, which fails instead of overwriting when that
 * name exists; the directory is fsynced last. A failed run removes its temporary file, so it leaves
 * nothing that looks like a restore point.
 */
import { randomBytes } from "node:crypto";
import {
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { BUSY_TIMEOUT_MS } from "../storage/sqlite";
import { fsyncPath } from "./durable";
import { checkDatabaseFile, MMAP_BYTES } from "./integrity";
import { listRestorePoints, nowSeconds, pointFileName, type RestorePoint } from "./points";
import { pointsToDelete, type RetentionPolicy } from "./retention";

export interface BackupOptions {
  readonly dbPath: string;
  readonly backupDir: string;
  readonly retention?: RetentionPolicy;
}

export interface BackupResult {
  readonly file: string;
  readonly path: string;
  readonly timestamp: number;
  readonly sizeBytes: number;
  /** The newest event in the point: every event up to it is there. */
  readonly lastEventId: number;
  readonly deleted: string[];
}

const TEMPORARY_PREFIX = ".tmp-";
/** A temporary file older than this is left over from a killed run (none runs this long). */
const STALE_TEMPORARY_SECONDS = 6 * 3600;

export async function createBackup(options: BackupOptions): Promise<BackupResult> {
  const { dbPath, backupDir } = options;
  if (!existsSync(dbPath)) throw new Error(`no database at ${dbPath}: nothing to back up`);
  mkdirSync(backupDir, { recursive: true });
  removeStaleTemporaries(backupDir);

  // Taken before the snapshot starts, so every write acknowledged before `timestamp` is in the point.
  const timestamp = nowSeconds();
  const file = pointFileName(timestamp);
  const finalPath = join(backupDir, file);
  if (existsSync(finalPath)) throw sameSecondError(file);
  const temporary = join(
    backupDir,
    `${TEMPORARY_PREFIX}${file}.${process.pid}.${randomBytes(4).toString("hex")}`,
  );

  try {
    await snapshot(dbPath, temporary);
    const check = checkDatabaseFile(temporary);
    if (!check.ok)
      throw new Error(`the new copy failed its check (${check.reason}); no restore point was made`);
    fsyncPath(temporary);
    publish(temporary, finalPath, file);
    fsyncPath(backupDir);
    let deleted: string[];
    try {
      deleted = applyRetention(backupDir, options.retention ?? {}, file);
    } catch (error) {
      throw new Error(
        `restore point ${file} was made, but applying retention failed: ${(error as Error).message}`,
      );
    }
    return {
      file,
      path: finalPath,
      timestamp,
      sizeBytes: statSync(finalPath).size,
      lastEventId: check.lastEventId,
      deleted,
    };
  } finally {
    removeTemporary(temporary);
  }
}

/** Pages per backup step: all of them (better-sqlite3 caps the number at 2^31-1). */
const ALL_PAGES = 0x7fffffff;

async function snapshot(dbPath: string, temporary: string): Promise<void> {
  const source = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    source.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // Pages read through a memory map are not copied into SQLite's cache first: a faster backup.
    source.pragma(`mmap_size = ${MMAP_BYTES}`);
    // better-sqlite3's first step only opens the backup; from then on each step copies every page.
    await source.backup(temporary, { progress: () => ALL_PAGES });
  } finally {
    source.close();
  }
  // The copy keeps the source's WAL flag; a point must be one file that opens read-only anywhere.
  const copy = new Database(temporary, { fileMustExist: true });
  try {
    copy.pragma("journal_mode = DELETE");
  } finally {
    copy.close();
  }
}

/** Gives the checked copy its final name without ever replacing an existing point. */
function publish(temporary: string, finalPath: string, file: string): void {
  try {
    linkSync(temporary, finalPath);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") throw sameSecondError(file);
    // Some volumes have no hard links; there a rename after the existence check is the best we have.
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP") throw error;
    if (existsSync(finalPath)) throw sameSecondError(file);
    renameSync(temporary, finalPath);
  }
}

function sameSecondError(file: string): Error {
  return new Error(
    `restore point ${file} already exists (another backup ran in the same second); ` +
      "nothing was overwritten and this run's copy was discarded",
  );
}

function applyRetention(backupDir: string, policy: RetentionPolicy, newFile: string): string[] {
  const doomed: RestorePoint[] = pointsToDelete(
    listRestorePoints(backupDir),
    policy,
    nowSeconds(),
    newFile,
  );
  for (const point of doomed) rmSync(point.path, { force: true });
  if (doomed.length > 0) fsyncPath(backupDir);
  return doomed.map((point) => point.file);
}

function removeTemporary(temporary: string): void {
  for (const suffix of ["", "-wal", "-shm", "-journal"])
    rmSync(`${temporary}${suffix}`, { force: true });
}

function removeStaleTemporaries(backupDir: string): void {
  const cutoffMs = Date.now() - STALE_TEMPORARY_SECONDS * 1000;
  for (const name of readdirSync(backupDir)) {
    if (!name.startsWith(TEMPORARY_PREFIX)) continue;
    const path = join(backupDir, name);
    const stats = statSync(path, { throwIfNoEntry: false });
    if (stats && stats.mtimeMs < cutoffMs) rmSync(path, { force: true });
  }
}
