/**
 * `pra-app backup` for PostgreSQL: `pg_dump --format=custom` streamed to S3 (a multipart upload, so the
 * export never has to fit on local disk), under a staging key; checked by streaming it back into
 * pg_restore; then copied to its final name `<prefix>app-<unix-seconds>.dump` (with the same
 * encryption; in parts above S3's 5 GB single-copy limit) and the staging object removed. A failed run
 * removes its staging object, so it leaves nothing that looks like an export.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  type S3Client,
  UploadPartCopyCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { nowSeconds } from "../backup/points";
import { EXPORT_UPLOAD, S3_SINGLE_COPY_MAX_BYTES } from "../contract";
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
export interface Encryption {
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
    const staged = await client.send(
      new HeadObjectCommand({ Bucket: settings.bucket, Key: stagingKey }),
    );
    await copyObject(client, {
      bucket: settings.bucket,
      from: stagingKey,
      to: key,
      sizeBytes: staged.ContentLength ?? 0,
      encryption,
    });
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
  // Parts of EXPORT_UPLOAD.partSizeBytes: S3's 10,000 parts then hold the largest export the
  // contract plans for, in a bounded amount of memory (part size times queue size).
  const upload = new Upload({
    client,
    partSize: EXPORT_UPLOAD.partSizeBytes,
    queueSize: EXPORT_UPLOAD.queueSize,
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

export interface CopyRequest {
  readonly bucket: string;
  readonly from: string;
  readonly to: string;
  readonly sizeBytes: number;
  readonly encryption: Encryption;
}

/** Copies `size` bytes in parts of at least this size: 10,000 of them reach S3's 5 TB maximum. */
const COPY_PART_MIN_BYTES = 512 * 1024 ** 2;

/**
 * One CopyObject up to S3's single-copy limit; above it a multipart copy (UploadPartCopy by byte
 * range), aborted if any part fails so no incomplete upload lingers.
 */
export async function copyObject(
  client: S3Client,
  request: CopyRequest,
  singleCopyMaxBytes = S3_SINGLE_COPY_MAX_BYTES,
  partBytes = Math.max(COPY_PART_MIN_BYTES, Math.ceil(request.sizeBytes / EXPORT_UPLOAD.maxParts)),
): Promise<void> {
  const source = `${request.bucket}/${encodeURIComponent(request.from).replace(/%2F/g, "/")}`;
  if (request.sizeBytes <= singleCopyMaxBytes) {
    await client.send(
      new CopyObjectCommand({
        Bucket: request.bucket,
        Key: request.to,
        CopySource: source,
        ...request.encryption,
      }),
    );
    return;
  }
  const { UploadId } = await client.send(
    new CreateMultipartUploadCommand({
      Bucket: request.bucket,
      Key: request.to,
      ...request.encryption,
    }),
  );
  if (!UploadId) throw new Error(`S3 started no multipart copy for ${request.to}`);
  try {
    const parts: { ETag: string; PartNumber: number }[] = [];
    for (let start = 0, part = 1; start < request.sizeBytes; start += partBytes, part++) {
      const end = Math.min(start + partBytes, request.sizeBytes) - 1;
      const copied = await client.send(
        new UploadPartCopyCommand({
          Bucket: request.bucket,
          Key: request.to,
          UploadId,
          PartNumber: part,
          CopySource: source,
          CopySourceRange: `bytes=${start}-${end}`,
        }),
      );
      const etag = copied.CopyPartResult?.ETag;
      if (!etag) throw new Error(`S3 returned no ETag for part ${part} of ${request.to}`);
      parts.push({ ETag: etag, PartNumber: part });
    }
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: request.bucket,
        Key: request.to,
        UploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
  } catch (error) {
    await client
      .send(new AbortMultipartUploadCommand({ Bucket: request.bucket, Key: request.to, UploadId }))
      .catch(() => undefined);
    throw error;
  }
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
