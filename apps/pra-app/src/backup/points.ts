/** Restore points on disk: `BACKUP_DIR/app-<unix-seconds>.db`, and nothing else looks like one. */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

export interface RestorePoint {
  readonly file: string;
  readonly path: string;
  /** Unix seconds at which the snapshot began: every write acknowledged before it is in the point. */
  readonly timestamp: number;
  readonly sizeBytes: number;
}

const POINT_NAME = /^app-(\d{1,12})\.db$/;

export function pointFileName(timestamp: number): string {
  return `app-${timestamp}.db`;
}

export function timestampOfPointFile(file: string): number | undefined {
  const match = POINT_NAME.exec(file);
  return match ? Number(match[1]) : undefined;
}

/** Restore points in `backupDir`, newest first; an absent directory holds none. */
export function listRestorePoints(backupDir: string): RestorePoint[] {
  let names: string[];
  try {
    names = readdirSync(backupDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const points: RestorePoint[] = [];
  for (const file of names) {
    const timestamp = timestampOfPointFile(file);
    if (timestamp === undefined) continue;
    const path = join(backupDir, file);
    const stats = statSync(path, { throwIfNoEntry: false });
    if (!stats?.isFile()) continue;
    points.push({ file, path, timestamp, sizeBytes: stats.size });
  }
  return points.sort((a, b) => b.timestamp - a.timestamp);
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
