/**
 * The restore test's result, kept beside the exports (`<prefix>.restore-tests/latest.json`) so the
 * service reports it as metrics: the RPO the newest export achieved (verified at, minus its newest
 * event's time) and when a restore last proved data. No Pushgateway: the Job writes, the long-lived
 * service (already scraped) reads. Nothing under the folder is an export (s3.ts lists app-*.dump).
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { RESTORE_TEST_REPORT_DIR } from "../contract";
import { errorMessage, log } from "../log";
import type { LatestRestoreTest, RestoreTestSummary } from "../restore-points";
import type { ExportSettings } from "../settings";

export const REPORT_LISTING_TTL_MS = 60_000;

export interface RestoreTestReport extends RestoreTestSummary {
  /** The export restored. */
  readonly export: string;
  readonly rows: Readonly<Record<string, number>>;
  readonly newestEventSeconds: number | null;
}

export function reportKey(settings: ExportSettings): string {
  return `${settings.prefix}${RESTORE_TEST_REPORT_DIR}latest.json`;
}

/** Writes the report, with the exports' encryption. */
export async function writeRestoreTestReport(
  client: S3Client,
  settings: ExportSettings,
  report: RestoreTestReport,
): Promise<void> {
  await client.send(
    new PutObjectCommand({
      Bucket: settings.bucket,
      Key: reportKey(settings),
      Body: JSON.stringify(report),
      ContentType: "application/json",
      ...(settings.kmsKeyId
        ? { ServerSideEncryption: "aws:kms", SSEKMSKeyId: settings.kmsKeyId }
        : {}),
    }),
  );
}

/** The newest report, or undefined when no restore test has passed yet. */
export async function readRestoreTestReport(
  client: S3Client,
  settings: ExportSettings,
): Promise<RestoreTestSummary | undefined> {
  let text: string;
  try {
    const object = await client.send(
      new GetObjectCommand({ Bucket: settings.bucket, Key: reportKey(settings) }),
    );
    text = (await object.Body?.transformToString()) ?? "";
  } catch (error) {
    if (httpStatusOf(error) === 404) return undefined;
    throw error;
  }
  const parsed: unknown = JSON.parse(text);
  if (
    typeof parsed === "object" &&
    parsed !== null &&
    "verifiedAt" in parsed &&
    typeof parsed.verifiedAt === "number" &&
    "achievedRpoSeconds" in parsed &&
    (typeof parsed.achievedRpoSeconds === "number" || parsed.achievedRpoSeconds === null)
  )
    return { verifiedAt: parsed.verifiedAt, achievedRpoSeconds: parsed.achievedRpoSeconds };
  throw new Error(`${reportKey(settings)} is not a restore test report`);
}

function httpStatusOf(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null || !("$metadata" in error)) return undefined;
  const metadata: unknown = error.$metadata;
  return typeof metadata === "object" &&
    metadata !== null &&
    "httpStatusCode" in metadata &&
    typeof metadata.httpStatusCode === "number"
    ? metadata.httpStatusCode
    : undefined;
}

/** The report as the service reads it: at most once per TTL (each read costs a request). */
export function cachedRestoreTestReport(
  client: S3Client,
  settings: ExportSettings,
  ttlMs = REPORT_LISTING_TTL_MS,
): LatestRestoreTest {
  let value: RestoreTestSummary | undefined;
  let fetchedAt = Number.NEGATIVE_INFINITY;
  let failed: Error | undefined;
  return async () => {
    if (Date.now() - fetchedAt >= ttlMs) {
      fetchedAt = Date.now();
      try {
        value = await readRestoreTestReport(client, settings);
        failed = undefined;
      } catch (error) {
        // The last report stands; the metrics say the source failed.
        log.warn("reading the restore test report failed", { error: errorMessage(error) });
        failed = error instanceof Error ? error : new Error(errorMessage(error));
      }
    }
    if (failed !== undefined) throw failed;
    return value;
  };
}
