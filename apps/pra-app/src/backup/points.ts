/** Restore points on disk: `BACKUP_DIR/app-<unix-seconds>.db`, and nothing else looks like one. */
import { lstatSync, readdirSync, realpathSync, statSync } from "node:fs";
import { dirname, join } from "node:path";

export interface RestorePoint {
  readonly file: string;
  readonly path: string;
  /** Unix seconds at which the snapshot began: every write acknowledged before it is in the point. */
  readonly timestamp: number;
  readonly sizeBytes: number;
}

const POINT_NAME = /^app-(\d{1,12})\.db$/;

/**
 * How far ahead of this machine's clock a point may be dated and still be trusted. Nodes kept by NTP
 * agree within a second; a point dated further ahead comes from a clock that ran ahead or was copied
 * by hand, and its name says nothing about what it holds.
 */
export const CLOCK_SKEW_ALLOWANCE_SECONDS = 60;

export function pointFileName(timestamp: number): string {
  return `app-${timestamp}.db`;
}

export function timestampOfPointFile(file: string): number | undefined {
  const match = POINT_NAME.exec(file);
  return match ? Number(match[1]) : undefined;
}

/**
 * Restore points in `backupDir`, newest first; an absent directory holds none. A symbolic link named
 * like a point counts only when it resolves to a file inside `backupDir` (see `linkOutside`).
 */
export function listRestorePoints(backupDir: string): RestorePoint[] {
  let names: string[];
  try {
    names = readdirSync(backupDir);
  } catch (error) {
    if (isErrno(error, "ENOENT")) return [];
    throw error;
  }
  const points: RestorePoint[] = [];
  for (const file of names) {
    const timestamp = timestampOfPointFile(file);
    if (timestamp === undefined) continue;
    const path = join(backupDir, file);
    if (linkOutside(backupDir, file) !== undefined) continue;
    const stats = statSync(path, { throwIfNoEntry: false });
    if (!stats?.isFile()) continue;
    points.push({ file, path, timestamp, sizeBytes: stats.size });
  }
  return points.sort((a, b) => b.timestamp - a.timestamp);
}

/** Where `file` in `backupDir` leads when it is a symbolic link out of the directory; else undefined. */
export function linkOutside(backupDir: string, file: string): string | undefined {
  const path = join(backupDir, file);
  if (!lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink()) return undefined;
  let target: string;
  try {
    target = realpathSync(path);
  } catch {
    return path; // a dangling link leads nowhere this directory holds
  }
  return dirname(target) === realpathSync(backupDir) ? undefined : target;
}

/** Whether a point's date is beyond the clock-skew allowance ahead of `now`. */
export function isFutureDated(timestamp: number, now: number = nowSeconds()): boolean {
  return timestamp > now + CLOCK_SKEW_ALLOWANCE_SECONDS;
}

/** Points (newest first) whose date can be trusted, and those dated in the future. */
export function splitByDate<Point extends { readonly timestamp: number }>(
  points: readonly Point[],
  now: number = nowSeconds(),
): { current: Point[]; future: Point[] } {
  return {
    current: points.filter((point) => !isFutureDated(point.timestamp, now)),
    future: points.filter((point) => isFutureDated(point.timestamp, now)),
  };
}

/** A point's age; a point dated within the skew allowance ahead counts as just made, never negative. */
export function ageSeconds(timestamp: number, now: number = nowSeconds()): number {
  return Math.max(0, now - timestamp);
}

export function futureDatedReason(timestamp: number, now: number = nowSeconds()): string {
  return (
    `dated ${timestamp - now} s in the future (beyond the ${CLOCK_SKEW_ALLOWANCE_SECONDS} s clock-skew allowance): ` +
    "a clock ran ahead or the file was made by hand, so its name says nothing about what it holds"
  );
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** Whether `error` carries one of `codes` (not `instanceof Error`: errors from another realm fail it). */
export function isErrno(error: unknown, ...codes: string[]): error is NodeJS.ErrnoException {
  return (
    typeof error === "object" &&
    error !== null &&
    "code" in error &&
    typeof error.code === "string" &&
    codes.includes(error.code)
  );
}
