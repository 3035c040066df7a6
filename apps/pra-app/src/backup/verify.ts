/** The restore test: the newest restore point exists, is recent enough, and opens and answers a query. */
import { checkDatabaseFile } from "./integrity";
import { listRestorePoints, nowSeconds } from "./points";

export interface VerifyResult {
  readonly file: string;
  readonly timestamp: number;
  readonly ageSeconds: number;
  readonly lastEventId: number;
}

export class VerifyFailed extends Error {}

export function verifyNewest(backupDir: string, maxAgeSeconds: number): VerifyResult {
  const newest = listRestorePoints(backupDir)[0];
  if (!newest) throw new VerifyFailed(`no restore point in ${backupDir}`);
  const ageSeconds = nowSeconds() - newest.timestamp;
  if (ageSeconds > maxAgeSeconds) {
    throw new VerifyFailed(
      `newest restore point ${newest.file} is ${ageSeconds} s old, ` +
        `older than the allowed ${maxAgeSeconds} s: backups have stopped`,
    );
  }
  const check = checkDatabaseFile(newest.path);
  if (!check.ok) throw new VerifyFailed(`newest restore point ${newest.file} ${check.reason}`);
  return {
    file: newest.file,
    timestamp: newest.timestamp,
    ageSeconds,
    lastEventId: check.lastEventId,
  };
}
