/**
 * The restore test's proof that an export holds the data: a throwaway PostgreSQL server in the
 * scratch directory (TMPDIR, a volume the charts size from the database: contract.ts), the export
 * streamed from S3 into it by pg_restore, then queried: rows per table and the newest event's time.
 * The server listens on a Unix socket in its own directory only (no network, no password), runs as
 * the container's user, and is stopped and removed afterwards whatever happened.
 *
 * PostgreSQL refuses to run as root. The image never runs as root; run as root anyway (a developer's
 * shell, CI), the server runs as `nobody`, owning the throwaway directory.
 */
import { chownSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import type { S3Client } from "@aws-sdk/client-s3";
import { Client } from "pg";
import { exportBody, firstError, streamInto, tablesRead } from "./check";
import { pgTool, runTool } from "./pg-tools";

const USER = "pra_restore_test";
const NOBODY = 65534;
const asRoot = () => process.getuid?.() === 0;

/** The server's programs as a user PostgreSQL accepts (see above). */
function serverCommand(name: "initdb" | "pg_ctl", args: readonly string[]): [string, string[]] {
  if (!asRoot()) return [pgTool(name), [...args]];
  return [
    "setpriv",
    [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", pgTool(name), ...args],
  ];
}
const DATABASE = "restored";
/** The app's table; its newest row's time is the point the export restores to. */
const EVENTS = "events";

export interface RestoredData {
  /** Rows in each restored table, by name. */
  readonly rows: Readonly<Record<string, number>>;
  /** Unix seconds of the newest event restored; undefined when there is none. */
  readonly newestEventSeconds: number | undefined;
}

/**
 * A server that loads fast and keeps nothing: no fsync, minimal WAL (its size bounded, which the
 * contract's scratch estimate counts on), no replication, reachable only through its socket; small
 * memory settings, since it shares the restore test's container with the app and pg_restore.
 */
const SERVER_OPTIONS = [
  "-c listen_addresses=''",
  "-c shared_buffers=32MB",
  "-c maintenance_work_mem=32MB",
  "-c work_mem=4MB",
  "-c fsync=off",
  "-c synchronous_commit=off",
  "-c full_page_writes=off",
  "-c wal_level=minimal",
  "-c max_wal_senders=0",
  "-c max_wal_size=128MB",
].join(" ");

export type ExportRestoreTest =
  | ({ ok: true; readonly tables: string[] } & RestoredData)
  | { ok: false; reason: string };

/**
 * The restore test of one export: streamed from S3 into a throwaway server, then read back. Its
 * `tables` are the tables whose data pg_restore loaded, like a check's (check.ts).
 */
export async function restoreTestExport(
  client: S3Client,
  bucket: string,
  key: string,
  scratchDir: string = tmpdir(),
): Promise<ExportRestoreTest> {
  let body: Readable;
  try {
    body = await exportBody(client, bucket, key);
  } catch (error) {
    return failed(
      `could not be fetched: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return restoreIntoThrowaway(body, scratchDir);
}

/** Restores `body` (a custom-format export) into a throwaway server and reads it back. */
export async function restoreIntoThrowaway(
  body: Readable,
  scratchDir: string = tmpdir(),
): Promise<ExportRestoreTest> {
  const dir = mkdtempSync(join(scratchDir, "pra-restore-test-"));
  const data = join(dir, "data");
  // Only this server: no PGHOST, PGPASSWORD or PGDATABASE from the pod's environment.
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, PGHOST: dir, PGUSER: USER };
  let started = false;
  if (asRoot()) chownSync(dir, NOBODY, NOBODY);
  try {
    const init = await runTool(
      ...serverCommand("initdb", [
        "--pgdata",
        data,
        "--username",
        USER,
        "--auth=trust",
        "--encoding=UTF8",
        "--no-sync",
      ]),
      env,
    );
    if (init.code !== 0) return failed(`initdb failed: ${firstError(init.stderr)}`);
    const start = await runTool(
      ...serverCommand("pg_ctl", [
        "--pgdata",
        data,
        "--log",
        join(dir, "server.log"),
        "--wait",
        "-o",
        `${SERVER_OPTIONS} -k '${dir}'`,
        "start",
      ]),
      env,
    );
    if (start.code !== 0)
      return failed(`the throwaway server did not start: ${firstError(start.stderr)}`);
    started = true;
    await withClient(dir, "postgres", (client) => client.query(`CREATE DATABASE ${DATABASE}`));

    const restore = await streamInto(
      body,
      pgTool("pg_restore"),
      ["--verbose", "--dbname", DATABASE, "--no-owner", "--no-privileges", "--exit-on-error"],
      env,
    );
    if (restore.fetchError) return failed(`could not be fetched: ${restore.fetchError}`);
    if (restore.code !== 0)
      return failed(`pg_restore cannot read all of it: ${firstError(restore.stderr)}`);
    const tables = tablesRead(restore.stderr);
    return { ok: true, tables, ...(await withClient(dir, DATABASE, readBack)) };
  } finally {
    if (started)
      await runTool(
        ...serverCommand("pg_ctl", ["--pgdata", data, "--mode=immediate", "stop"]),
        env,
      );
    rmSync(dir, { recursive: true, force: true });
  }
}

function failed(reason: string): ExportRestoreTest {
  return { ok: false, reason };
}

async function withClient<T>(
  socketDir: string,
  database: string,
  use: (client: Client) => Promise<T>,
): Promise<T> {
  const client = new Client({ host: socketDir, user: USER, database });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/** Exact row counts (not the planner's estimates) and the newest event's time. */
async function readBack(client: Client): Promise<RestoredData> {
  const tables = await client.query<{ schema: string; name: string }>(
    "SELECT schemaname AS schema, relname AS name FROM pg_stat_user_tables ORDER BY relname",
  );
  const rows: Record<string, number> = {};
  for (const table of tables.rows) {
    const quoted = `${client.escapeIdentifier(table.schema)}.${client.escapeIdentifier(table.name)}`;
    const counted = await client.query<{ count: string }>(
      `SELECT count(*) AS count FROM ${quoted}`,
    );
    rows[table.name] = Number(counted.rows[0]?.count ?? 0);
  }
  let newestEventSeconds: number | undefined;
  if (EVENTS in rows) {
    const newest = await client.query<{ newest: string | null }>(
      `SELECT floor(extract(epoch FROM max(created_at)))::text AS newest FROM ${EVENTS}`,
    );
    const text = newest.rows[0]?.newest;
    newestEventSeconds = text === null || text === undefined ? undefined : Number(text);
  }
  return { rows, newestEventSeconds };
}
