/**
 * Restore: puts a checked restore point in place of the current database.
 *
 * The point is copied next to the database under a temporary name and that copy (the bytes that will go
 * live) is integrity-checked before the current database is touched. Then the current `-wal`, `-shm`
 * and `-journal` files are moved aside before the database itself, so that no stale WAL is ever left
 * next to a database file it does not belong to, and the checked copy is renamed into place. Nothing is
 * deleted: the previous database keeps its own WAL under the moved-aside name. Run it with the service
 * stopped (the Kubernetes restore scales the Deployment to zero first).
 */
import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, realpathSync, renameSync, rmSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fsyncInBackground, fsyncPath } from "./durable";
import { checkDatabaseFile } from "./integrity";
import { listRestorePoints, nowSeconds, type RestorePoint, timestampOfPointFile } from "./points";

export interface RestoreOptions {
  readonly dbPath: string;
  readonly backupDir: string;
  /** A point's file name (`app-<ts>.db`) or a path to it inside `backupDir`. */
  readonly point?: string | undefined;
  /** Restore the newest valid point taken at or before this unix time. */
  readonly beforeSeconds?: number | undefined;
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
}

/** A restore that refused to run; nothing was changed. */
export class RestoreRefused extends Error {}

export async function restore(options: RestoreOptions): Promise<RestoreResult> {
  const dbPath = resolve(options.dbPath);
  const candidates = chooseCandidates(options);
  const dataDir = dirname(dbPath);
  mkdirSync(dataDir, { recursive: true });

  const skipped: SkippedPoint[] = [];
  for (const point of candidates) {
    const staged = join(
      dataDir,
      `.restore-${basename(dbPath)}.${process.pid}.${randomBytes(4).toString("hex")}`,
    );
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
      const movedAside = swapIn(staged, dbPath);
      return {
        file: point.file,
        timestamp: point.timestamp,
        lastEventId: check.lastEventId,
        dbPath,
        skipped,
        movedAside,
      };
    } finally {
      rmSync(staged, { force: true });
    }
  }
  const why = skipped.map((entry) => `${entry.file}: ${entry.reason}`).join("; ");
  throw new RestoreRefused(`no valid restore point to restore (${why}); nothing was changed`);
}

function chooseCandidates(options: RestoreOptions): RestorePoint[] {
  const points = listRestorePoints(options.backupDir);
  if (options.point !== undefined) return [namedPoint(options.point, options.backupDir, points)];
  const eligible =
    options.beforeSeconds === undefined
      ? points
      : points.filter((point) => point.timestamp <= options.beforeSeconds!);
  if (eligible.length === 0) {
    const when =
      options.beforeSeconds === undefined ? "" : ` taken at or before ${options.beforeSeconds}`;
    throw new RestoreRefused(
      `no restore point${when} in ${options.backupDir}; nothing was changed`,
    );
  }
  return eligible;
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

/**
 * Moves the current database files aside (WAL and shared memory first) and renames the staged copy into
 * place; if that fails, moves everything back. Returns the moved-aside paths.
 */
function swapIn(staged: string, dbPath: string): string[] {
  const aside = freeAsideName(dbPath);
  const moves: [from: string, to: string][] = [];
  try {
    for (const suffix of ["-wal", "-shm", "-journal", ""]) {
      const from = `${dbPath}${suffix}`;
      if (!existsSync(from)) continue;
      const to = `${aside}${suffix}`;
      renameSync(from, to);
      moves.push([from, to]);
    }
    renameSync(staged, dbPath);
  } catch (error) {
    for (const [from, to] of moves.reverse()) renameSync(to, from);
    throw error;
  }
  fsyncPath(dirname(dbPath));
  return moves.map(([, to]) => to);
}

function freeAsideName(dbPath: string): string {
  const base = `${dbPath}.pre-restore-${nowSeconds()}`;
  let candidate = base;
  for (let n = 1; existsSync(candidate) || existsSync(`${candidate}-wal`); n++)
    candidate = `${base}.${n}`;
  return candidate;
}
