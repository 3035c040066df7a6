/** The restore test for PostgreSQL exports: the newest export exists, is recent, and pg_restore reads it. */
import type { S3Client } from "@aws-sdk/client-s3";
import { nowSeconds } from "../backup/points";
import { VerifyFailed } from "../backup/verify";
import { checkExportObject } from "./check";
import { type ExportSettings, listExports } from "./s3";

export interface ExportVerifyResult {
  readonly file: string;
  readonly key: string;
  readonly timestamp: number;
  readonly ageSeconds: number;
  readonly tables: string[];
}

export async function verifyNewestExport(
  client: S3Client,
  settings: ExportSettings,
  maxAgeSeconds: number,
): Promise<ExportVerifyResult> {
  const where = `s3://${settings.bucket}/${settings.prefix}`;
  const newest = (await listExports(client, settings))[0];
  if (!newest) throw new VerifyFailed(`no export in ${where}`);
  const ageSeconds = nowSeconds() - newest.timestamp;
  if (ageSeconds > maxAgeSeconds) {
    throw new VerifyFailed(
      `newest export ${newest.file} is ${ageSeconds} s old, ` +
        `older than the allowed ${maxAgeSeconds} s: backups have stopped`,
    );
  }
  const check = await checkExportObject(client, settings.bucket, newest.key);
  if (!check.ok) throw new VerifyFailed(`newest export ${newest.file} ${check.reason}`);
  if (!check.tables.includes("events")) {
    throw new VerifyFailed(`newest export ${newest.file} holds no data for the events table`);
  }
  return {
    file: newest.file,
    key: newest.key,
    timestamp: newest.timestamp,
    ageSeconds,
    tables: check.tables,
  };
}
