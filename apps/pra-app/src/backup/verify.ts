/**
 * The restore test: the newest restore point exists, is recent enough, and opens and answers a query.
 * Points dated in the future (beyond the clock-skew allowance) are not counted as the newest: they are
 * reported, so a clock that ran ahead cannot make stopped backups look fresh.
 */
import { checkDatabaseFile } from "./integrity";
import { ageSeconds, listRestorePoints, nowSeconds, splitByDate } from "./points";

export interface VerifyResult {
  readonly file: string;
  readonly timestamp: number;
  readonly ageSeconds: number;
  readonly lastEventId: number;
  /** Points dated in the future: suspect, not counted. */
  readonly futurePoints: string[];
}

export class VerifyFailed extends Error {}

export function verifyNewest(backupDir: string, maxAgeSeconds: number): VerifyResult {
  const now = nowSeconds();
  const { current, future } = splitByDate(listRestorePoints(backupDir), now);
  const futurePoints = future.map((point) => point.file);
  const [newest] = current;
  if (!newest) {
    const suspects = futurePoints.map((file) => `; ${file} is dated in the future`).join("");
    throw new VerifyFailed(`no restore point in ${backupDir}${suspects}`);
  }
  const age = ageSeconds(newest.timestamp, now);
  if (age > maxAgeSeconds) {
    throw new VerifyFailed(
      `newest restore point ${newest.file} is ${age} s old, ` +
        `older than the allowed ${maxAgeSeconds} s: backups have stopped`,
    );
  }
  const check = checkDatabaseFile(newest.path);
  if (!check.ok) throw new VerifyFailed(`newest restore point ${newest.file} ${check.reason}`);
  return {
    file: newest.file,
    timestamp: newest.timestamp,
    ageSeconds: age,
    lastEventId: check.lastEventId,
    futurePoints,
  };
}
