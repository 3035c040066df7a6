/**
 * An export is trusted once pg_restore reads every data block of it. The object is streamed from S3
 * into pg_restore: nothing is staged on disk, so the check needs no scratch space whatever the
 * export's size (the app's contract, contract.ts, says so and the charts size /tmp on it).
 */
import { spawn } from "node:child_process";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { pgTool } from "./pg-tools";

export type ExportCheck = { ok: true; tables: string[] } | { ok: false; reason: string };

/** The object's body, as a stream. */
export async function exportBody(client: S3Client, bucket: string, key: string): Promise<Readable> {
  const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const body: unknown = object.Body;
  if (!isReadable(body)) throw new Error("S3 returned no readable body");
  return body;
}

function isReadable(value: unknown): value is Readable {
  return typeof value === "object" && value !== null && "pipe" in value && "on" in value;
}

/**
 * Streams `key` into `pg_restore --file=/dev/null`, which reads the whole archive (turning it into
 * SQL reads every data block); its verbose output names each table whose data it read.
 */
export async function checkExportObject(
  client: S3Client,
  bucket: string,
  key: string,
): Promise<ExportCheck> {
  let body: Readable;
  try {
    body = await exportBody(client, bucket, key);
  } catch (error) {
    return { ok: false, reason: `could not be fetched: ${messageOf(error)}` };
  }
  const run = await streamInto(body, pgTool("pg_restore"), ["--verbose", "--file=/dev/null"]);
  if (run.fetchError) return { ok: false, reason: `could not be fetched: ${run.fetchError}` };
  if (run.code !== 0)
    return { ok: false, reason: `pg_restore cannot read all of it: ${firstError(run.stderr)}` };
  return { ok: true, tables: tablesRead(run.stderr) };
}

/** `pg_restore: processing data for table "public.events"` -> `events`. */
export function tablesRead(verboseOutput: string): string[] {
  return [...verboseOutput.matchAll(/processing data for table "(?:[^".]+\.)?([^"]+)"/g)].map(
    (match) => match[1]!,
  );
}

export interface StreamedRun {
  readonly code: number | null;
  readonly stderr: string;
  /** Set when the download failed (then the tool's verdict is not about the export). */
  readonly fetchError?: string;
}

/**
 * Pipes `body` into `command`'s standard input. A tool that exits early (it found the archive
 * broken) ends the download; a download that breaks is reported as such, not as the tool's error.
 */
export function streamInto(
  body: Readable,
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<StreamedRun> {
  return new Promise((resolveRun) => {
    const child = spawn(command, args, { env, stdio: ["pipe", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    let fetchError: string | undefined;
    const fed = pipeline(body, child.stdin).catch((error: unknown) => {
      // EPIPE: the tool stopped reading; its exit code says why.
      const code = error instanceof Error && "code" in error ? error.code : undefined;
      if (code !== "EPIPE" && code !== "ERR_STREAM_PREMATURE_CLOSE") fetchError = messageOf(error);
    });
    child.once("error", (error) => {
      body.destroy();
      resolveRun({ code: null, stderr: `${stderr}${error.message}` });
    });
    child.once("close", (code) => {
      void fed.then(() =>
        resolveRun({ code, stderr, ...(fetchError === undefined ? {} : { fetchError }) }),
      );
    });
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The first line pg_restore marks as an error, else its first line. */
export function firstError(stderr: string): string {
  const lines = stderr.trim().split("\n");
  return (
    lines.find((line) => /error|fatal/i.test(line)) ?? lines.find((line) => line) ?? "(no message)"
  );
}
