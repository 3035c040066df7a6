/**
 * `pra-app backup` for PostgreSQL: `pg_dump --format=custom` streamed to S3 (a multipart upload, so the
 * export never has to fit on local disk), under a staging key; checked with pg_restore; then copied to
 * its final name `<prefix>app-<unix-seconds>.dump` (with the same encryption) and the staging object
 * removed. A failed run removes its staging object, so it leaves nothing that looks like an export.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { CopyObjectCommand, HeadObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { nowSeconds } from "../backup/points";
import { pointsToDelete, type RetentionPolicy } from "../backup/retention";
import { checkExportObject } from "./check";
import { libpqConnection, pgTool } from "./pg-tools";
import { deleteObject, type ExportSettings, exportFileName, listExports, STAGING_DIR } from "./s3";

export interface ExportOptions {
  readonly databaseUrl: string;
  readonly caFile: string | undefined;
  readonly settings: ExportSettings;
  readonly retention?: RetentionPolicy;
}

/** SSE-KMS when EXPORT_KMS_KEY_ID is set; otherwise the bucket's default encryption applies. */
interface Encryption {
  ServerSideEncryption?: "aws:kms";
  SSEKMSKeyId?: string;
}

export interface ExportResult {
  readonly file: string;
  readonly key: string;
  readonly bucket: string;
  readonly timestamp: number;
  readonly sizeBytes: number;
  readonly tables: string[];
  readonly deleted: string[];
}

export async function createExport(
  client: S3Client,
  options: ExportOptions,
): Promise<ExportResult> {
  const { settings } = options;
  const timestamp = nowSeconds();
  const file = exportFileName(timestamp);
  const key = `${settings.prefix}${file}`;
  if (await objectExists(client, settings.bucket, key)) {
    throw new Error(
      `export ${key} already exists (another backup ran in the same second); nothing was overwritten`,
    );
  }
  const stagingKey = `${settings.prefix}${STAGING_DIR}${file}.${randomBytes(4).toString("hex")}`;
  const encryption: Encryption = settings.kmsKeyId
    ? { ServerSideEncryption: "aws:kms", SSEKMSKeyId: settings.kmsKeyId }
    : {};
  try {
    await streamDump(client, options, stagingKey, encryption);
    const check = await checkExportObject(client, settings.bucket, stagingKey);
    if (!check.ok)
      throw new Error(`the new export failed its check (${check.reason}); no export was made`);
    if (await objectExists(client, settings.bucket, key)) {
      throw new Error(
        `export ${key} already exists (another backup ran in the same second); nothing was overwritten`,
      );
    }
    await client.send(
      new CopyObjectCommand({
        Bucket: settings.bucket,
        Key: key,
        CopySource: `${settings.bucket}/${encodeURIComponent(stagingKey).replace(/%2F/g, "/")}`,
        ...encryption,
      }),
    );
    const head = await client.send(new HeadObjectCommand({ Bucket: settings.bucket, Key: key }));
    const deleted = await applyRetention(client, settings, options.retention ?? {}, file);
    return {
      file,
      key,
      bucket: settings.bucket,
      timestamp,
      sizeBytes: head.ContentLength ?? 0,
      tables: check.tables,
      deleted,
    };
  } finally {
    await deleteObject(client, settings.bucket, stagingKey).catch(() => undefined);
  }
}

async function streamDump(
  client: S3Client,
  options: ExportOptions,
  key: string,
  encryption: Encryption,
): Promise<void> {
  const connection = libpqConnection(options.databaseUrl, options.caFile);
  const dump = spawn(
    pgTool("pg_dump"),
    ["--format=custom", "--no-owner", `--dbname=${connection.url}`],
    {
      env: connection.env,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stderr = "";
  dump.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolveExit, reject) => {
    dump.once("error", reject);
    dump.once("close", (code) => resolveExit(code));
  });
  const upload = new Upload({
    client,
    params: { Bucket: options.settings.bucket, Key: key, Body: dump.stdout, ...encryption },
  });
  const [uploaded, code] = await Promise.allSettled([upload.done(), exited]);
  if (code.status === "rejected")
    throw new Error(`pg_dump could not run: ${(code.reason as Error).message}`);
  if (code.value !== 0)
    throw new Error(`pg_dump failed (exit ${code.value}): ${stderr.trim().split("\n")[0]}`);
  if (uploaded.status === "rejected")
    throw new Error(`upload failed: ${(uploaded.reason as Error).message}`);
}

async function objectExists(client: S3Client, bucket: string, key: string): Promise<boolean> {
  try {
    await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 404) return false;
    throw error;
  }
}

async function applyRetention(
  client: S3Client,
  settings: ExportSettings,
  policy: RetentionPolicy,
  newFile: string,
): Promise<string[]> {
  const doomed = pointsToDelete(await listExports(client, settings), policy, nowSeconds(), newFile);
  for (const object of doomed) await deleteObject(client, settings.bucket, object.key);
  return doomed.map((object) => object.file);
}
