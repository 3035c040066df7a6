/** An export is trusted once pg_restore lists its contents and reads every data block. */
import { createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { pgTool, runTool } from "./pg-tools";

export type ExportCheck = { ok: true; tables: string[] } | { ok: false; reason: string };

/** Downloads `key` into a temporary file under TMPDIR and checks it with pg_restore; removes the file. */
export async function checkExportObject(
  client: S3Client,
  bucket: string,
  key: string,
): Promise<ExportCheck> {
  const dir = mkdtempSync(join(tmpdir(), "pra-export-check-"));
  const file = join(dir, "export.dump");
  try {
    const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    await pipeline(object.Body as Readable, createWriteStream(file));
    return await checkDumpFile(file);
  } catch (error) {
    return { ok: false, reason: `could not be fetched: ${(error as Error).message}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function checkDumpFile(file: string): Promise<ExportCheck> {
  const listing = await runTool(pgTool("pg_restore"), ["--list", file]);
  if (listing.code !== 0)
    return { ok: false, reason: `pg_restore --list cannot read it: ${firstLine(listing.stderr)}` };
  // --list reads only the table of contents; turning the archive into SQL reads every data block.
  const full = await runTool(pgTool("pg_restore"), ["--file=/dev/null", file]);
  if (full.code !== 0)
    return { ok: false, reason: `pg_restore cannot read all of it: ${firstLine(full.stderr)}` };
  const tables = [...listing.stdout.matchAll(/TABLE DATA \S+ (\S+)/g)].map((match) => match[1]!);
  return { ok: true, tables };
}

function firstLine(text: string): string {
  return text.trim().split("\n")[0] ?? "(no message)";
}
