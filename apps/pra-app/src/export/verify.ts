/**
 * The restore test for PostgreSQL exports: the newest export exists, is recent, and restores into a
 * throwaway PostgreSQL (throwaway.ts) whose rows are counted; the newest event restored gives the RPO
 * the export achieves (now minus that event's time).
 */
import type { S3Client } from "@aws-sdk/client-s3";
import { ageSeconds as ageOf, nowSeconds, splitByDate } from "../backup/points";
import { VerifyFailed } from "../backup/verify";
import { writeRestoreTestReport } from "./restore-test-report";
import { type ExportSettings, listExports } from "./s3";
import { restoreTestExport } from "./throwaway";

export interface ExportVerifyResult {
  readonly file: string;
  readonly key: string;
  readonly timestamp: number;
  readonly ageSeconds: number;
  readonly tables: string[];
  /** Rows restored, by table. */
  readonly rows: Readonly<Record<string, number>>;
  /** Unix seconds of the newest event restored; undefined when the table is empty. */
  readonly newestEventSeconds: number | undefined;
  /** Now minus the newest event's time: the data a disaster now would lose at most, if writes went on. */
  readonly achievedRpoSeconds: number | undefined;
  /** Exports dated in the future: suspect, not counted. */
  readonly futureExports: string[];
}

export async function verifyNewestExport(
  client: S3Client,
  settings: ExportSettings,
  maxAgeSeconds: number,
): Promise<ExportVerifyResult> {
  const where = `s3://${settings.bucket}/${settings.prefix}`;
  const now = nowSeconds();
  // As for SQLite points: an export dated in the future is suspect and never counts as the newest.
  const { current, future } = splitByDate(await listExports(client, settings), now);
  const futureExports = future.map((object) => object.file);
  const [newest] = current;
  if (!newest) {
    const suspects = futureExports.map((file) => `; ${file} is dated in the future`).join("");
    throw new VerifyFailed(`no export in ${where}${suspects}`);
  }
  const ageSeconds = ageOf(newest.timestamp, now);
  if (ageSeconds > maxAgeSeconds) {
    throw new VerifyFailed(
      `newest export ${newest.file} is ${ageSeconds} s old, ` +
        `older than the allowed ${maxAgeSeconds} s: backups have stopped`,
    );
  }
  const check = await restoreTestExport(client, settings.bucket, newest.key);
  if (!check.ok) throw new VerifyFailed(`newest export ${newest.file} ${check.reason}`);
  if (!check.tables.includes("events")) {
    throw new VerifyFailed(`newest export ${newest.file} holds no data for the events table`);
  }
  const verifiedAt = nowSeconds();
  const achievedRpoSeconds =
    check.newestEventSeconds === undefined ? undefined : verifiedAt - check.newestEventSeconds;
  // Recorded for the service's metrics. A test that passed but could not say so fails: the
  // metric would otherwise age as if the restore tests had stopped, without a failed Job to show.
  try {
    await writeRestoreTestReport(client, settings, {
      export: newest.file,
      verifiedAt,
      achievedRpoSeconds: achievedRpoSeconds ?? null,
      newestEventSeconds: check.newestEventSeconds ?? null,
      rows: check.rows,
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `the restore of ${newest.file} passed, but its report was not written: ${reason}`,
    );
  }
  return {
    file: newest.file,
    key: newest.key,
    timestamp: newest.timestamp,
    ageSeconds,
    tables: check.tables,
    rows: check.rows,
    newestEventSeconds: check.newestEventSeconds,
    achievedRpoSeconds,
    futureExports,
  };
}
