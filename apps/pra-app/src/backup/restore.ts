/**
 * Restore: puts a checked restore point in place of the current database.
 *
 * The point is copied next to the database under a run-owned name (run-files.ts) and that copy, the
 * bytes that will go live, is integrity-checked before the current database is touched; the volume
 * must have room for it first. Then the current database is made whole in one file: SQLite switches
 * it out of WAL mode, which folds its WAL in and succeeds only when no other connection has it open,
 * so a restore under a running service is refused (before anything changes) instead of losing the
 * writes that service keeps making. The whole file gets a second name (a hard link,
 * `<db>.pre-restore-<ts>`) and the checked copy is renamed over the live name: a kill at any moment
 * leaves the live database whole-old or whole-new, and the old one is never deleted, only moved aside
 * (the oldest moved-aside databases beyond --keep-aside are removed). Run it with the service stopped
 * (the Kubernetes restore scales the Deployment to zero first).
 */
import {
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import Database from "better-sqlite3";
import { onInterrupt } from "../interrupt";
import { stopHereIfAsked } from "../test-hook";
import { freeBytes } from "./create";
import { fsyncInBackground, fsyncPath } from "./durable";
import { checkDatabaseFile } from "./integrity";
import {
  futureDatedReason,
  isErrno,
  linkOutside,
  listRestorePoints,
  nowSeconds,
  type RestorePoint,
  splitByDate,
  timestampOfPointFile,
} from "./points";
import { keepFresh, reclaimDeadRunFiles, removeRunFile, runFileName } from "./run-files";

export interface RestoreOptions {
  readonly dbPath: string;
  readonly backupDir: string;
  /** A point's file name (`app-<ts>.db`) or a path to it inside `backupDir`. */
  readonly point?: string | undefined;
  /** Restore the newest valid point taken at or before this unix time. */
  readonly beforeSeconds?: number | undefined;
  /** Restore even while another process uses the database (its later writes are lost to it). */
  readonly force?: boolean;
  /** Moved-aside databases to keep, this restore's included. */
  readonly keepAside?: number;
}

export interface SkippedPoint {
  readonly file: string;
  readonly reason: string;
}

export interface RestoreResult {
  readonly file: string;
  readonly timestamp: number;
  readonly lastEventId: number;
  readonly dbPath: string;
  readonly skipped: SkippedPoint[];
  readonly movedAside: string[];
  /** Older moved-aside files removed to keep at most keepAside. */
  readonly removedAside: string[];
  /** Processes that had the database open when --force overrode the refusal. */
  readonly forcedPast: string[];
}

export const DEFAULT_KEEP_ASIDE = 3;
/** Room kept free beyond the staged copy: SQLite's journal when the copy is opened. */
const SPACE_MARGIN_BYTES = 64 * 1024;

/** A restore that refused to run; nothing was changed. */
export class RestoreRefused extends Error {}

export async function restore(options: RestoreOptions): Promise<RestoreResult> {
  const dbPath = resolve(options.dbPath);
  if (statSync(dbPath, { throwIfNoEntry: false })?.isDirectory())
    throw new RestoreRefused(`${dbPath} is a directory, not a database file; nothing was changed`);
  const { candidates, skipped } = chooseCandidates(options);
  const dataDir = dirname(dbPath);
  mkdirSync(dataDir, { recursive: true });
  const stagedPrefix = `.restore-${basename(dbPath)}`;
  reclaimDeadRunFiles(dataDir, stagedPrefix);

  for (const point of candidates) {
    requireRoom(dataDir, point);
    const staged = join(dataDir, runFileName(stagedPrefix));
    const fresh = keepFresh(staged);
    const forget = onInterrupt(() => removeRunFile(staged));
    try {
      copyFileSync(point.path, staged);
      const synced = fsyncInBackground(staged);
      const check = checkDatabaseFile(staged);
      await synced;
      if (!check.ok) {
        if (options.point !== undefined)
          throw new RestoreRefused(`${point.file} ${check.reason}; nothing was changed`);
        skipped.push({ file: point.file, reason: check.reason });
        continue;
      }
      stopHereIfAsked("restore:staged");
      const { movedAside, forcedPast } = swapIn(staged, dbPath, options.force ?? false);
      const removedAside = pruneAside(dbPath, options.keepAside ?? DEFAULT_KEEP_ASIDE);
      return {
        file: point.file,
        timestamp: point.timestamp,
        lastEventId: check.lastEventId,
        dbPath,
        skipped,
        movedAside,
        removedAside,
        forcedPast,
      };
    } finally {
      fresh.stop();
      forget();
      removeRunFile(staged);
    }
  }
  const why = skipped.map((entry) => `${entry.file}: ${entry.reason}`).join("; ");
  throw new RestoreRefused(`no valid restore point to restore (${why}); nothing was changed`);
}

/** The points to try, best first, and those left out by date (reported as skipped). */
function chooseCandidates(options: RestoreOptions): {
  candidates: RestorePoint[];
  skipped: SkippedPoint[];
} {
  const points = listRestorePoints(options.backupDir);
  if (options.point !== undefined)
    return { candidates: [namedPoint(options.point, options.backupDir, points)], skipped: [] };
  const now = nowSeconds();
  const { current, future } = splitByDate(points, now);
  // Never chosen without being named: a future date says nothing about what the file holds.
  const skipped = future.map((point) => ({
    file: point.file,
    reason: futureDatedReason(point.timestamp, now),
  }));
  const { beforeSeconds } = options;
  const eligible =
    beforeSeconds === undefined
      ? current
      : current.filter((point) => point.timestamp <= beforeSeconds);
  if (eligible.length === 0) {
    const when = beforeSeconds === undefined ? "" : ` taken at or before ${beforeSeconds}`;
    const notes = skipped.map((entry) => `; ${entry.file} is ${entry.reason}`).join("");
    throw new RestoreRefused(
      `no restore point${when} in ${options.backupDir}${notes}; nothing was changed`,
    );
  }
  return { candidates: eligible, skipped };
}

function namedPoint(requested: string, backupDir: string, points: RestorePoint[]): RestorePoint {
  const file = basename(requested);
  const inDirectory =
    requested === file || sameDirectory(dirname(resolve(backupDir, requested)), backupDir);
  if (!inDirectory) {
    throw new RestoreRefused(
      `--point ${requested} is outside the backup directory ${backupDir}; nothing was changed`,
    );
  }
  if (timestampOfPointFile(file) === undefined) {
    throw new RestoreRefused(
      `--point ${requested} is not a restore point name (app-<unix-seconds>.db); nothing was changed`,
    );
  }
  const target = existsSync(backupDir) ? linkOutside(backupDir, file) : undefined;
  if (target !== undefined) {
    throw new RestoreRefused(
      `--point ${requested}: ${file} is a link to ${target}, outside ${backupDir}; nothing was changed`,
    );
  }
  const point = points.find((candidate) => candidate.file === file);
  if (!point)
    throw new RestoreRefused(
      `restore point ${file} not found in ${backupDir}; nothing was changed`,
    );
  return point;
}

function sameDirectory(a: string, b: string): boolean {
  const real = (path: string) => (existsSync(path) ? realpathSync(path) : resolve(path));
  return real(a) === real(b);
}

function requireRoom(dataDir: string, point: RestorePoint): void {
  const needed = point.sizeBytes + SPACE_MARGIN_BYTES;
  const free = freeBytes(dataDir);
  if (free < needed) {
    throw new RestoreRefused(
      `restoring ${point.file} needs ${needed} bytes free in ${dataDir} for the checked copy, ` +
        `${free} are free (remove old ${basename(dataDir)}/*.pre-restore-* files or grow the volume); ` +
        "nothing was changed",
    );
  }
}

/**
 * Puts the staged copy in place of `dbPath`. The live database is first made one self-contained
 * file (`settle`), linked to its moved-aside name, then replaced by one rename. When it cannot be
 * settled (it is unreadable, or --force overrides a process using it), its whole set (-wal, -shm,
 * -journal) is linked aside first, so nothing of it is lost.
 */
function swapIn(
  staged: string,
  dbPath: string,
  force: boolean,
): { movedAside: string[]; forcedPast: string[] } {
  const suffixes = ["", "-wal", "-shm", "-journal"];
  if (!suffixes.some((suffix) => existsSync(`${dbPath}${suffix}`))) {
    renameSync(staged, dbPath);
    fsyncPath(dirname(dbPath));
    return { movedAside: [], forcedPast: [] };
  }
  const users = processesUsing(dbPath);
  const settled = users.length === 0 ? settle(dbPath) : "in use";
  if (settled === "in use" && !force) throw new RestoreRefused(inUseMessage(dbPath, users));
  const forcedPast = settled === "in use" ? describeUsers(users) : [];

  const aside = freeAsideName(dbPath);
  const movedAside: string[] = [];
  for (const suffix of suffixes) {
    if (!existsSync(`${dbPath}${suffix}`)) continue;
    giveSecondName(`${dbPath}${suffix}`, `${aside}${suffix}`);
    movedAside.push(`${aside}${suffix}`);
  }
  stopHereIfAsked("restore:aside");
  // The companions live on under the aside names; at the live names they would belong to no file.
  for (const suffix of suffixes.slice(1)) rmSync(`${dbPath}${suffix}`, { force: true });
  // One rename: before it the live name is the old database, after it the restored one.
  renameSync(staged, dbPath);
  stopHereIfAsked("restore:swapped");
  fsyncPath(dirname(dbPath));
  return { movedAside, forcedPast };
}

/**
 * Switches the database out of WAL mode: SQLite folds the WAL into the file and removes it, which it
 * does only when no other connection has the database open (the lock on the WAL index, released by
 * the kernel when its holder dies, so a crashed service does not count). "unreadable" when the file
 * is not a database SQLite can open: it is moved aside as it is.
 */
function settle(dbPath: string): "settled" | "in use" | "unreadable" {
  let db: Database.Database | undefined;
  try {
    db = new Database(dbPath, { fileMustExist: true });
    db.pragma("busy_timeout = 0");
    const mode = db.pragma("journal_mode = DELETE", { simple: true });
    return mode === "delete" ? "settled" : "in use";
  } catch (error) {
    return isErrno(error, "SQLITE_BUSY", "SQLITE_LOCKED") ? "in use" : "unreadable";
  } finally {
    try {
      db?.close();
    } catch {
      // closing a connection that never opened
    }
  }
}

interface DatabaseUser {
  readonly pid: number;
  readonly command: string;
}

/**
 * Processes of this machine (this PID namespace) that have the database or its WAL open, from
 * /proc: they name who is in the way. A process in another container holds SQLite's lock without
 * being visible here; `settle` catches it.
 */
function processesUsing(dbPath: string): DatabaseUser[] {
  const wanted = new Set(
    [dbPath, `${dbPath}-wal`].filter(existsSync).map((path) => realpathSync(path)),
  );
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
  const users: DatabaseUser[] = [];
  for (const pid of pids) {
    if (Number(pid) === process.pid) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone, or not ours to see
    }
    const holds = fds.some((fd) => {
      try {
        return wanted.has(readlinkSync(`/proc/${pid}/fd/${fd}`));
      } catch {
        return false;
      }
    });
    if (holds) users.push({ pid: Number(pid), command: commandLine(pid) });
  }
  return users;
}

function commandLine(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
  } catch {
    return "?";
  }
}

function describeUsers(users: readonly DatabaseUser[]): string[] {
  return users.length > 0
    ? users.map((user) => `pid ${user.pid} (${user.command})`)
    : ["a process this one cannot see (another container on this node?)"];
}

function inUseMessage(dbPath: string, users: readonly DatabaseUser[]): string {
  return (
    `${dbPath} is in use by ${describeUsers(users).join(", ")}: a restore now would lose every write ` +
    "it makes from here on. Stop it first (in Kubernetes, scale the Deployment to 0), or pass --force " +
    "to restore anyway; nothing was changed"
  );
}

/** A hard link: both names are the same file until the live one is replaced. */
function giveSecondName(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch (error) {
    // A volume without hard links: moving it is the best there is (the live name is briefly absent,
    // and serve refuses to start on a missing database beside restore points).
    if (!isErrno(error, "EPERM", "ENOTSUP", "EOPNOTSUPP")) throw error;
    renameSync(from, to);
  }
}

const ASIDE_NAME = /\.pre-restore-(\d+)(?:\.(\d+))?$/;

function freeAsideName(dbPath: string): string {
  const base = `${dbPath}.pre-restore-${nowSeconds()}`;
  let candidate = base;
  for (let n = 1; existsSync(candidate) || existsSync(`${candidate}-wal`); n++)
    candidate = `${base}.${n}`;
  return candidate;
}

/** Removes moved-aside databases (with their -wal/-shm/-journal) beyond the newest `keep`. */
function pruneAside(dbPath: string, keep: number): string[] {
  const dataDir = dirname(dbPath);
  const prefix = `${basename(dbPath)}.pre-restore-`;
  const databases = readdirSync(dataDir)
    .filter((name) => name.startsWith(prefix) && ASIDE_NAME.test(name))
    .map((name) => {
      const match = ASIDE_NAME.exec(name);
      return { name, seconds: Number(match?.[1] ?? 0), n: Number(match?.[2] ?? 0) };
    })
    .sort((a, b) => b.seconds - a.seconds || b.n - a.n);
  const removed: string[] = [];
  for (const { name } of databases.slice(keep)) {
    for (const suffix of ["", "-wal", "-shm", "-journal"]) {
      const path = join(dataDir, `${name}${suffix}`);
      if (existsSync(path)) {
        rmSync(path, { force: true });
        removed.push(path);
      }
    }
  }
  if (removed.length > 0) fsyncPath(dataDir);
  return removed;
}
