/**
 * Files a run writes before it publishes them (a backup's copy, a restore's staged copy), and how a
 * later run tells a live writer's file from a dead one's.
 *
 * The name carries the writer's host and pid: `<prefix>.<host>.<pid>.<random>`. A file from this
 * host whose pid is gone belongs to a dead run (SIGKILL, OOM) and is reclaimed at once. A file from
 * another host (in Kubernetes every Job run is a pod of its own) cannot be checked that way, so the
 * writer keeps its modification time fresh (every 5 s, and every write of the copy does too), and a
 * file untouched for STALE_RUN_FILE_SECONDS is reclaimed. The only time a live writer does not touch
 * its file is the integrity check of the copy, about 1 s per 100 MB here.
 */
import { randomBytes } from "node:crypto";
import { readdirSync, rmSync, statSync, utimesSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { isErrno } from "./points";

export const STALE_RUN_FILE_SECONDS = 600;
const REFRESH_MS = 5000;
/** SQLite's companions of a database file, removed with it. */
const COMPANIONS = ["", "-wal", "-shm", "-journal"];

export function runFileName(prefix: string): string {
  return `${prefix}.${thisHost()}.${process.pid}.${randomBytes(4).toString("hex")}`;
}

/** The host part of a run file's name: dots would make the name ambiguous. */
function thisHost(): string {
  return hostname().replace(/[^A-Za-z0-9-]/g, "_");
}

/** Removes the files under `prefix` in `dir` whose writer is dead; returns their names. */
export function reclaimDeadRunFiles(dir: string, prefix: string): string[] {
  const owner = /\.([A-Za-z0-9_-]+)\.(\d+)\.[0-9a-f]{8}(?:-wal|-shm|-journal)?$/;
  const reclaimed: string[] = [];
  const staleBeforeMs = Date.now() - STALE_RUN_FILE_SECONDS * 1000;
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(prefix)) continue;
    const match = owner.exec(name);
    const deadHere = match !== null && match[1] === thisHost() && !processAlive(Number(match[2]));
    const stats = statSync(join(dir, name), { throwIfNoEntry: false });
    if (!stats) continue;
    if (deadHere || stats.mtimeMs < staleBeforeMs) {
      rmSync(join(dir, name), { force: true });
      reclaimed.push(name);
    }
  }
  return reclaimed;
}

/** Keeps `path`'s modification time fresh while the run works on it; stop() when done. */
export function keepFresh(path: string): { stop(): void } {
  const timer = setInterval(() => {
    const now = new Date();
    try {
      utimesSync(path, now, now);
    } catch {
      // Not created yet, or already published or removed: nothing to keep fresh.
    }
  }, REFRESH_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/** Removes a database file this run wrote and SQLite's companions of it. */
export function removeRunFile(path: string): void {
  for (const suffix of COMPANIONS) rmSync(`${path}${suffix}`, { force: true });
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return isErrno(error, "EPERM");
  }
}
