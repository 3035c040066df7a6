/** The S3 bucket holding PostgreSQL exports: `<prefix>app-<unix-seconds>.dump`. */
import { DeleteObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import type { ExportSettings } from "../settings";

// Read with the rest of the environment (settings.ts); re-exported for the modules that list exports.
export { type ExportSettings, readExportSettings } from "../settings";

export interface ExportObject {
  readonly file: string;
  readonly key: string;
  readonly timestamp: number;
  readonly sizeBytes: number;
}

const EXPORT_NAME = /^app-(\d{1,12})\.dump$/;
/** Uploads in progress live here until checked; nothing under it is an export. */
export const STAGING_DIR = ".staging/";

export function exportFileName(timestamp: number): string {
  return `app-${timestamp}.dump`;
}

/**
 * Region and credentials come from the SDK's usual sources (AWS_REGION, IRSA, ...), and so does
 * AWS_ENDPOINT_URL_S3. A custom endpoint (a local S3-compatible server) gets path-style addressing,
 * which such servers expect.
 */
export function createS3Client(env: NodeJS.ProcessEnv = process.env): S3Client {
  const customEndpoint = Boolean(env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL);
  return new S3Client({ forcePathStyle: customEndpoint });
}

/** Exports in the bucket, newest first. */
export async function listExports(
  client: S3Client,
  settings: ExportSettings,
): Promise<ExportObject[]> {
  const found: ExportObject[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({
        Bucket: settings.bucket,
        Prefix: settings.prefix,
        ContinuationToken: token,
      }),
    );
    for (const object of page.Contents ?? []) {
      const file = object.Key?.slice(settings.prefix.length) ?? "";
      const match = EXPORT_NAME.exec(file);
      if (!match) continue;
      found.push({
        file,
        key: object.Key!,
        timestamp: Number(match[1]),
        sizeBytes: object.Size ?? 0,
      });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return found.sort((a, b) => b.timestamp - a.timestamp);
}

export async function deleteObject(client: S3Client, bucket: string, key: string): Promise<void> {
  await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
}
