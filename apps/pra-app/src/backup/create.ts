/**
 * Consistent backups of the live SQLite database, safe while the service keeps writing.
 *
 * The copy is made with SQLite's online backup API copying every page in ONE step: a step holds one read
 * transaction on the source, so the copy is the database exactly as some commit left it, writers are
 * never blocked (WAL), and they cannot make it start over. (In small steps, the API restarts whenever
 * another connection writes between steps and may never finish under load, unless one read transaction
 * is held across the steps: that is how a paced copy, --max-copy-rate, stays consistent. `VACUUM INTO`
 * is also consistent but rebuilds every b-tree, which costs more CPU.) The copy is written under a
 * hidden run-owned name (run-files.ts), switched out of WAL mode so it is one self-contained file,
 * integrity- and schema-checked, fsynced, then linked into place under its final name, which fails
 * instead of overwriting when that name exists; the directory is fsynced last. A failed or interrupted
 * (SIGTERM) run removes its temporary file, and a killed run's is reclaimed by the next one, so nothing
 * that looks like a restore point is ever partial. A volume too full for the copy gets room first from
 * the retention policy, or the run fails before writing.
 */
import {
  accessSync,
  closeSync,
  constants,
  fdatasyncSync,
  openSync,
  existsSync,
  linkSync,
  mkdirSync,
  renameSync,
  rmSync,
  statfsSync,
  statSync,
} from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { onInterrupt } from "../interrupt";
import { errorMessage } from "../log";
import { BUSY_TIMEOUT_MS } from "../storage/sqlite";
import { pauseHereIfAsked } from "../test-hook";
import { fsyncPath } from "./durable";
import { checkDatabaseFile, MMAP_BYTES } from "./integrity";
import {
  isErrno,
  isFutureDated,
  listRestorePoints,
  nowSeconds,
  pointFileName,
  type RestorePoint,
} from "./points";
import { hasPolicy, pointsToDelete, type RetentionPolicy } from "./retention";
import { keepFresh, reclaimDeadRunFiles, removeRunFile, runFileName } from "./run-files";

export interface BackupOptions {
  readonly dbPath: string;
  readonly backupDir: string;
  readonly retention?: RetentionPolicy;
  /** Pace the copy to at most this many bytes per second (undefined: as fast as it goes). */
  readonly maxCopyBytesPerSecond?: number | undefined;
}

export interface BackupResult {
  readonly file: string;
  readonly path: string;
  readonly timestamp: number;
  readonly sizeBytes: number;
  /** The newest event in the point: every event up to it is there. */
  readonly lastEventId: number;
  readonly deleted: string[];
  /** Points the retention policy allowed to go, deleted first because the volume was full. */
  readonly deletedToMakeRoom: string[];
  /** Partial files of dead runs removed before this one started. */
  readonly reclaimed: string[];
}

const TEMPORARY_PREFIX = ".tmp-";
/** Room kept free beyond the copy's estimated size: the copy's rollback journal and metadata. */
const SPACE_MARGIN_BYTES = 64 * 1024;

export async function createBackup(options: BackupOptions): Promise<BackupResult> {
  const { dbPath, backupDir } = options;
  const policy = options.retention ?? {};
  const source = statSync(dbPath, { throwIfNoEntry: false });
  if (!source) throw new Error(`no database at ${dbPath}: nothing to back up`);
  if (source.isDirectory()) throw new Error(`${dbPath} is a directory, not a database file`);
  mkdirSync(backupDir, { recursive: true });
  requireWritable(backupDir);
  const reclaimed = reclaimDeadRunFiles(backupDir, TEMPORARY_PREFIX);
  const deletedToMakeRoom = makeRoom(backupDir, estimatedCopyBytes(dbPath), policy);

  // Taken before the snapshot starts, so every write acknowledged before `timestamp` is in the point.
  const timestamp = nowSeconds();
  const file = pointFileName(timestamp);
  const finalPath = join(backupDir, file);
  if (existsSync(finalPath)) throw sameSecondError(file);
  const temporary = join(backupDir, runFileName(`${TEMPORARY_PREFIX}${file}`));
  const fresh = keepFresh(temporary);
  const forget = onInterrupt(() => removeRunFile(temporary));

  try {
    await snapshot(dbPath, temporary, backupDir, options.maxCopyBytesPerSecond);
    await pauseHereIfAsked("backup:copied");
    const check = checkDatabaseFile(temporary);
    if (!check.ok)
      throw new Error(`the new copy failed its check (${check.reason}); no restore point was made`);
    fsyncPath(temporary);
    publish(temporary, finalPath, file);
    fsyncPath(backupDir);
    let deleted: string[];
    try {
      deleted = applyRetention(backupDir, policy, file);
    } catch (error) {
      throw new Error(
        `restore point ${file} was made, but applying retention failed: ${errorMessage(error)}`,
      );
    }
    return {
      file,
      path: finalPath,
      timestamp,
      sizeBytes: statSync(finalPath).size,
      lastEventId: check.lastEventId,
      deleted,
      deletedToMakeRoom,
      reclaimed,
    };
  } finally {
    fresh.stop();
    forget();
    removeRunFile(temporary);
  }
}

/** Pages per backup step: all of them (better-sqlite3 caps the number at 2^31-1). */
const ALL_PAGES = 0x7fffffff;
/** A paced copy moves this much per step, then waits for its schedule. */
const PACED_STEP_BYTES = 1024 * 1024;
/** ... and flushes what it wrote every this many bytes. */
const PACED_SYNC_BYTES = 8 * 1024 * 1024;

async function snapshot(
  dbPath: string,
  temporary: string,
  backupDir: string,
  maxBytesPerSecond: number | undefined,
): Promise<void> {
  const source = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    source.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // Pages read through a memory map are not copied into SQLite's cache first: a faster backup.
    source.pragma(`mmap_size = ${MMAP_BYTES}`);
    if (maxBytesPerSecond === undefined) {
      // better-sqlite3's first step only opens the backup; from then on each step copies every page.
      await source.backup(temporary, { progress: () => ALL_PAGES });
    } else {
      await pacedCopy(source, temporary, maxBytesPerSecond);
    }
  } catch (error) {
    if (isErrno(error, "SQLITE_FULL", "ENOSPC"))
      throw new Error(
        `not enough free space in ${backupDir} for the copy; no restore point was made`,
      );
    throw error;
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

/**
 * The copy in small steps at a bounded rate, leaving CPU and disk to the service between them. The
 * read transaction opened first and held to the end pins one snapshot: every step copies from the
 * same commit, so the copy is as consistent as the one-step copy, writers still never wait, and their
 * commits cannot make it start over (the backup API restarts only when it sees the source change, and
 * inside one read transaction it never does).
 */
async function pacedCopy(
  source: Database.Database,
  temporary: string,
  maxBytesPerSecond: number,
): Promise<void> {
  source.exec("BEGIN");
  try {
    source.prepare("SELECT count(*) FROM sqlite_schema").get(); // starts the read transaction
    const pageSize = Number(source.pragma("page_size", { simple: true }));
    const pagesPerStep = Math.max(1, Math.floor(PACED_STEP_BYTES / pageSize));
    const started = performance.now();
    let fd: number | undefined;
    let syncedBytes = 0;
    try {
      await source.backup(temporary, {
        progress: ({ totalPages, remainingPages }) => {
          const copiedBytes = (totalPages - remainingPages) * pageSize;
          // Written pages are flushed as the copy goes, so the final fsync has little left to do
          // and the service's commits never queue behind a whole database's write-back at once.
          if (copiedBytes - syncedBytes >= PACED_SYNC_BYTES) {
            fd ??= openSync(temporary, "r");
            fdatasyncSync(fd);
            syncedBytes = copiedBytes;
          }
          const dueMs = (copiedBytes / maxBytesPerSecond) * 1000;
          sleepSync(dueMs - (performance.now() - started));
          return pagesPerStep;
        },
      });
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  } finally {
    source.exec("COMMIT");
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Waits without spinning; signal handlers run between the copy's steps, not during this wait. */
function sleepSync(ms: number): void {
  if (ms > 0) Atomics.wait(sleeper, 0, 0, ms);
}

/** Gives the checked copy its final name without ever replacing an existing point. */
function publish(temporary: string, finalPath: string, file: string): void {
  try {
    linkSync(temporary, finalPath);
  } catch (error) {
    if (isErrno(error, "EEXIST")) throw sameSecondError(file);
    // Some volumes have no hard links; there a rename after the existence check is the best we have.
    if (!isErrno(error, "EPERM", "ENOTSUP", "EOPNOTSUPP")) throw error;
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
  return remove(backupDir, doomed);
}

function remove(backupDir: string, doomed: readonly RestorePoint[]): string[] {
  for (const point of doomed) rmSync(point.path, { force: true });
  if (doomed.length > 0) fsyncPath(backupDir);
  return doomed.map((point) => point.file);
}

/** The copy is at most the database and its WAL's committed pages. */
function estimatedCopyBytes(dbPath: string): number {
  const walBytes = statSync(`${dbPath}-wal`, { throwIfNoEntry: false })?.size ?? 0;
  return statSync(dbPath).size + walBytes + SPACE_MARGIN_BYTES;
}

export function freeBytes(dir: string): number {
  const stats = statfsSync(dir);
  return stats.bavail * stats.bsize;
}

/**
 * When the volume cannot hold the copy, deletes (oldest first) the points the retention policy lets
 * go once this run's point exists, until it can. The newest point that passes its check is never
 * deleted; without a policy nothing is. Throws when the room cannot be made, before anything is
 * written.
 */
function makeRoom(backupDir: string, neededBytes: number, policy: RetentionPolicy): string[] {
  if (freeBytes(backupDir) >= neededBytes) return [];
  const now = nowSeconds();
  const points = listRestorePoints(backupDir);
  const newestValid = points.find(
    (point) => !isFutureDated(point.timestamp, now) && checkDatabaseFile(point.path).ok,
  );
  // The point about to be made counts among the newest, as it will once it exists.
  const upcoming = { file: pointFileName(now), path: "", timestamp: now, sizeBytes: 0 };
  const allowed = pointsToDelete([upcoming, ...points], policy, now, upcoming.file)
    .filter((point) => point.file !== newestValid?.file)
    .reverse();
  const deleted: RestorePoint[] = [];
  for (const point of allowed) {
    if (freeBytes(backupDir) >= neededBytes) break;
    remove(backupDir, [point]);
    deleted.push(point);
  }
  const free = freeBytes(backupDir);
  if (free < neededBytes) {
    const done =
      deleted.length > 0
        ? `after deleting ${deleted.map((point) => point.file).join(", ")} (all the retention policy allows)`
        : hasPolicy(policy)
          ? "and the retention policy allows deleting no point"
          : "and without --keep-last or --keep-within no point may be deleted to make room";
    throw new Error(
      `not enough free space in ${backupDir}: the copy needs about ${neededBytes} bytes, ${free} are free ` +
        `${done}; no restore point was made`,
    );
  }
  return deleted.map((point) => point.file);
}

function requireWritable(dir: string): void {
  try {
    accessSync(dir, constants.W_OK);
  } catch (error) {
    throw new Error(`cannot write in ${dir}: ${errorMessage(error)}`);
  }
}
