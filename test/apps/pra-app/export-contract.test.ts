/**
 * What the app's contract (apps/pra-app/src/contract.ts) promises about exports, against a real
 * PostgreSQL and a local S3 endpoint: the export and its check stream (no scratch space at all), a
 * copy above S3's single-copy limit goes in parts, and the restore test restores the newest export
 * into a throwaway PostgreSQL (real initdb, pg_ctl, postgres and pg_restore, run as a non-root
 * user as in the image) and reads the rows and the newest row's time back.
 */
import { spawn, spawnSync } from "node:child_process";
import { chownSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "pg";
import { needsOf, invocationOf } from "../../../apps/pra-app/src/contract";
import { copyObject, createExport } from "../../../apps/pra-app/src/export/create";
import { cachedRestoreTestReport } from "../../../apps/pra-app/src/export/restore-test-report";
import { createS3Client } from "../../../apps/pra-app/src/export/s3";
import { createApp } from "../../../apps/pra-app/src/server";
import { createPostgresStorage } from "../../../apps/pra-app/src/storage/postgres";
import { type PostgresServer, startPostgres } from "../../support/postgres";
import { REPO_ROOT, runPraApp } from "../../support/pra-app";
import { type S3Stub, startS3Stub } from "../../support/s3-stub";

const BUCKET = "pra-exports";
const NOBODY = 65534;
const settings = { bucket: BUCKET, prefix: "exports/", kmsKeyId: "arn:aws:kms:eu-west-3:1:key/k" };
let postgres: PostgresServer;
let s3: S3Stub;
let databaseUrl: string;
const savedEnv = { ...process.env };

beforeAll(async () => {
  [postgres, s3] = await Promise.all([startPostgres(), startS3Stub()]);
  Object.assign(process.env, {
    AWS_REGION: "eu-west-3",
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    PG_BIN_DIR: postgres.binDir,
  });
  databaseUrl = await postgres.createDatabase("contract");
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query(
    "CREATE TABLE events (id BIGSERIAL PRIMARY KEY, message TEXT NOT NULL, " +
      "created_at TIMESTAMPTZ NOT NULL DEFAULT now())",
  );
  // 2,000 events, the newest over an hour old: the restore test must report that time.
  await client.query(
    "INSERT INTO events (message, created_at) SELECT 'event-' || g, " +
      "now() - interval '2 hours' + g * interval '1 second' FROM generate_series(1, 2000) g",
  );
  await client.end();
});

afterAll(async () => {
  process.env = savedEnv;
  postgres?.stop();
  await s3?.stop();
});

function runChild(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("error", reject);
    child.once("close", (status) => resolveRun({ status, stdout, stderr }));
  });
}

const exportKeys = () =>
  [...(s3.buckets.get(BUCKET)?.keys() ?? [])].filter((key) => /\/app-\d+\.dump$/.test(key));

test("an export and its check write nothing to scratch space: TMPDIR may be read-only", async () => {
  expect(needsOf(invocationOf(["backup"], "postgres")).scratch.streams).toBe(true);
  // In a process of its own: os.tmpdir() reads the real environment, which jest's sandbox does not.
  const script =
    `const { createExport } = require(${JSON.stringify(
      join(REPO_ROOT, "apps/pra-app/src/export/create.ts"),
    )});` +
    `const { createS3Client } = require(${JSON.stringify(
      join(REPO_ROOT, "apps/pra-app/src/export/s3.ts"),
    )});` +
    "createExport(createS3Client(), { databaseUrl: process.argv[1], caFile: undefined, " +
    "settings: JSON.parse(process.argv[2]) }).then((r) => console.log(JSON.stringify(r)))";
  // A read-only filesystem refuses every write, even root's (CI runs as root; elsewhere mount fails
  // and says why). tsx's cache is turned off: it would write there too.
  const scratch = mkdtempSync(join(tmpdir(), "pra-readonly-"));
  const mount = spawnSync("mount", ["-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", scratch], {
    encoding: "utf8",
  });
  if (mount.status !== 0) throw new Error(`mounting a read-only tmpfs needs root: ${mount.stderr}`);
  let run: { status: number | null; stdout: string; stderr: string };
  try {
    // Not spawnSync: the S3 endpoint answering the child runs in this process.
    run = await runChild(
      ["--require", "tsx/cjs", "-e", script, databaseUrl, JSON.stringify(settings)],
      { ...process.env, TMPDIR: scratch, TSX_DISABLE_CACHE: "1" },
    );
  } finally {
    spawnSync("umount", ["-l", scratch]);
    rmSync(scratch, { recursive: true, force: true });
  }
  expect(run.stderr).not.toMatch(/Error/);
  expect(run.status).toBe(0);
  const lines = run.stdout.trim().split("\n");
  const result = JSON.parse(lines[lines.length - 1]!) as { key: string; tables: string[] };
  expect(result.tables).toEqual(["events"]);
  expect(exportKeys()).toEqual([result.key]);
});

test("a copy above the single-copy limit goes in byte-range parts, keeping the bytes and the encryption", async () => {
  const body = Buffer.from(Array.from({ length: 10_000 }, (_, i) => i % 251));
  s3.buckets.get(BUCKET)!.set("exports/.staging/big", {
    body,
    headers: {},
    lastModified: new Date(),
  });
  const before = s3.requests.length;
  const encryption = { ServerSideEncryption: "aws:kms" as const, SSEKMSKeyId: settings.kmsKeyId };
  await copyObject(
    createS3Client(),
    {
      bucket: BUCKET,
      from: "exports/.staging/big",
      to: "exports/big",
      sizeBytes: body.length,
      encryption,
    },
    4_000,
    3_000,
  );
  const copied = s3.buckets.get(BUCKET)!.get("exports/big")!;
  expect(copied.body.equals(body)).toBe(true);
  expect(copied.headers["x-amz-server-side-encryption-aws-kms-key-id"]).toBe(settings.kmsKeyId);
  const calls = s3.requests.slice(before).map((request) => request.split(" ")[0]);
  // Create, four part copies (3,000 bytes each, the last 1,000), complete.
  expect(calls).toEqual(["POST", "PUT", "PUT", "PUT", "PUT", "POST"]);
  s3.buckets.get(BUCKET)!.delete("exports/big");
  s3.buckets.get(BUCKET)!.delete("exports/.staging/big");
});

/** The bytes of an export of the test database (taken once). */
async function anExport(): Promise<Buffer> {
  let [key] = exportKeys();
  if (!key)
    key = (await createExport(createS3Client(), { databaseUrl, caFile: undefined, settings })).key;
  return s3.buckets.get(BUCKET)!.get(key)!.body;
}

/**
 * restoreIntoThrowaway run as `nobody`, the way the image runs it (a non-root user): PostgreSQL
 * refuses to start as root, which the test process is in CI.
 */
function restoreAsNonRoot(export_: Buffer): {
  result: Record<string, unknown>;
  leftOver: string[];
} {
  const scratch = mkdtempSync(join(tmpdir(), "pra-contract-scratch-"));
  const file = join(scratch, "export.dump");
  writeFileSync(file, export_);
  chownSync(scratch, NOBODY, NOBODY);
  const script =
    `const { restoreIntoThrowaway } = require(${JSON.stringify(
      join(REPO_ROOT, "apps/pra-app/src/export/throwaway.ts"),
    )});` +
    "const fs = require('node:fs');" +
    "restoreIntoThrowaway(fs.createReadStream(process.argv[1]), process.argv[2])" +
    ".then((r) => { fs.unlinkSync(process.argv[1]); console.log(JSON.stringify(r)); })";
  const asRoot = process.getuid?.() === 0;
  const [command, args] = asRoot
    ? ["setpriv", [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", process.execPath]]
    : [process.execPath, []];
  try {
    const run = spawnSync(command, [...args, "--require", "tsx/cjs", "-e", script, file, scratch], {
      encoding: "utf8",
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH, PG_BIN_DIR: postgres.binDir, HOME: scratch },
      timeout: 60_000,
    });
    if (run.status !== 0) throw new Error(`the restore run failed: ${run.stderr}`);
    const lines = run.stdout.trim().split("\n");
    return {
      result: JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>,
      leftOver: readdirSync(scratch),
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

test("the restore test restores the newest export into a throwaway server and reads its rows back", async () => {
  const { result: restored, leftOver } = restoreAsNonRoot(await anExport());
  expect(restored).toMatchObject({ ok: true, tables: ["events"], rows: { events: 2000 } });
  // The newest event's time, as the source database has it.
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  const source = await client.query<{ newest: string }>(
    "SELECT floor(extract(epoch FROM max(created_at)))::text AS newest FROM events",
  );
  await client.end();
  expect(restored.newestEventSeconds).toBe(Number(source.rows[0]!.newest));
  // The throwaway server's files are gone.
  expect(leftOver).toEqual([]);
});

test("an export cut short fails the restore test with pg_restore's reason, leaving nothing behind", async () => {
  const body = await anExport();
  const { result: restored, leftOver } = restoreAsNonRoot(
    body.subarray(0, Math.floor(body.length / 2)),
  );
  expect(restored.ok).toBe(false);
  expect(String(restored.reason)).toMatch(/^pg_restore cannot read all of it: /);
  expect(leftOver).toEqual([]);
});

test("pra-app verify reports the rows restored and the RPO the newest export achieves", async () => {
  await anExport();
  // DATABASE_URL selects the exports; verify never connects to that database.
  const run = await runPraApp(["verify", "--max-age", "5m"], {
    DATABASE_URL: databaseUrl,
    EXPORT_BUCKET: BUCKET,
    EXPORT_PREFIX: settings.prefix,
    EXPORT_KMS_KEY_ID: settings.kmsKeyId,
  });
  expect(run.stderr).toBe("");
  expect(run.status).toBe(0);
  const summary = run.json();
  expect(summary).toMatchObject({ command: "verify", ok: true, rows: { events: 2000 } });
  // The newest event is over an hour old (see beforeAll): so is what a disaster now would lose.
  const rpo = Number(summary.achieved_rpo_seconds);
  expect(rpo).toBeGreaterThan(3600);
  expect(rpo).toBe(Math.floor(Date.now() / 1000) - Number(summary.newest_event_time));

  // Recorded beside the exports (with their encryption), and served by the app as metrics.
  const report = s3.buckets.get(BUCKET)!.get("exports/.restore-tests/latest.json")!;
  expect(report.headers["x-amz-server-side-encryption-aws-kms-key-id"]).toBe(settings.kmsKeyId);
  expect(JSON.parse(report.body.toString())).toMatchObject({
    achievedRpoSeconds: rpo,
    rows: { events: 2000 },
  });
  const storage = await createPostgresStorage(databaseUrl);
  const exportSettings = { bucket: BUCKET, prefix: settings.prefix, kmsKeyId: undefined };
  const app = createApp(
    storage,
    () => Promise.resolve([]),
    cachedRestoreTestReport(createS3Client(), exportSettings),
  );
  await new Promise<void>((resolveListen) =>
    app.server.listen(0, "127.0.0.1", () => resolveListen()),
  );
  try {
    const address = app.server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(text).toMatch(new RegExp(`^pra_restore_test_achieved_rpo_seconds ${rpo}$`, "m"));
    expect(text).toMatch(/^pra_metrics_source_up\{source="restore_test"\} 1$/m);
    const verified = /^pra_restore_test_verified_timestamp_seconds (\d+)$/m.exec(text)?.[1];
    expect(Number(verified)).toBe(Number(summary.newest_event_time) + rpo);
  } finally {
    await app.shutdown();
  }
});
