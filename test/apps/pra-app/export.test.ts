/**
 * PostgreSQL exports (DATABASE_URL + EXPORT_BUCKET): `pra-app backup` streams pg_dump to S3, `verify`
 * and `backups` read the bucket, and /metrics reports the newest export. A real PostgreSQL server and a
 * local S3 endpoint (test/support/s3-stub.ts).
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { Client } from "pg";
import { cachedExportListing } from "../../../apps/pra-app/src/export/cache";
import { createS3Client, readExportSettings } from "../../../apps/pra-app/src/export/s3";
import { createApp } from "../../../apps/pra-app/src/server";
import { createPostgresStorage } from "../../../apps/pra-app/src/storage/postgres";
import { type PostgresServer, startPostgres } from "../../support/postgres";
import { runPraApp, type TempDir, tempDir } from "../../support/pra-app";
import { type S3Stub, startS3Stub } from "../../support/s3-stub";

const BUCKET = "pra-exports";
const KMS_KEY = "arn:aws:kms:eu-west-3:111122223333:key/0000-test";
let postgres: PostgresServer;
let s3: S3Stub;
let dir: TempDir;
let databaseUrl: string;
let databases = 0;
const savedEnv = { ...process.env };

beforeAll(async () => {
  dir = tempDir();
  [postgres, s3] = await Promise.all([startPostgres(), startS3Stub()]);
  Object.assign(process.env, {
    AWS_REGION: "eu-west-3",
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    PG_BIN_DIR: postgres.binDir,
  });
});

afterAll(async () => {
  process.env = savedEnv;
  postgres?.stop();
  await s3?.stop();
  dir?.remove();
});

beforeEach(async () => {
  s3.buckets.clear();
  databaseUrl = await postgres.createDatabase(`export_${++databases}`);
  const storage = await createPostgresStorage(databaseUrl);
  for (let i = 1; i <= 30; i++) await storage.addEvent(`event-${i}`);
  await storage.close();
});

const exportEnv = () => ({
  DATABASE_URL: databaseUrl,
  EXPORT_BUCKET: BUCKET,
  EXPORT_KMS_KEY_ID: KMS_KEY,
});
const keys = () => [...(s3.buckets.get(BUCKET)?.keys() ?? [])].sort();
const now = () => Math.floor(Date.now() / 1000);

/** Restores an export's bytes into a fresh database and returns its event messages. */
async function restoredMessages(body: Buffer): Promise<string[]> {
  const file = dir.join(`restore-${++databases}.dump`);
  writeFileSync(file, body);
  const target = await postgres.createDatabase(`restored_${databases}`);
  const restore = spawnSync(
    `${postgres.binDir}/pg_restore`,
    ["--no-owner", `--dbname=${target}`, file],
    {
      encoding: "utf8",
    },
  );
  expect(restore.stderr).toBe("");
  const client = new Client({ connectionString: target });
  await client.connect();
  try {
    const result = await client.query<{ message: string }>(
      "SELECT message FROM events ORDER BY id",
    );
    return result.rows.map((row) => row.message);
  } finally {
    await client.end();
  }
}

/** Puts a copy of `body` in the bucket as the export of `timestamp`. */
function plantExport(timestamp: number, body: Buffer): void {
  s3.buckets
    .get(BUCKET)!
    .set(`exports/app-${timestamp}.dump`, { body, headers: {}, lastModified: new Date() });
}

async function takeExport(): Promise<{ key: string; body: Buffer }> {
  const run = await runPraApp(["backup"], exportEnv());
  expect(run.status).toBe(0);
  const key = run.json().key as string;
  return { key, body: s3.buckets.get(BUCKET)!.get(key)!.body };
}

test("backup streams a pg_dump export to S3 with SSE-KMS; restoring it brings back every row", async () => {
  const run = await runPraApp(["backup"], exportEnv());
  expect(run.status).toBe(0);
  const summary = run.json();
  expect(summary).toMatchObject({
    command: "backup",
    ok: true,
    backend: "postgres",
    bucket: BUCKET,
    tables: ["events"],
  });
  expect(summary.key).toMatch(/^exports\/app-\d+\.dump$/);
  // Only the export: the staging object is gone.
  expect(keys()).toEqual([summary.key]);
  const stored = s3.buckets.get(BUCKET)!.get(summary.key as string)!;
  expect(stored.headers).toMatchObject({
    "x-amz-server-side-encryption": "aws:kms",
    "x-amz-server-side-encryption-aws-kms-key-id": KMS_KEY,
  });
  expect(stored.body.subarray(0, 5).toString()).toBe("PGDMP");
  expect(await restoredMessages(stored.body)).toEqual(
    Array.from({ length: 30 }, (_, i) => `event-${i + 1}`),
  );
});

test("EXPORT_PREFIX names the folder, and a password in DATABASE_URL works without being printed", async () => {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query("CREATE ROLE exporter LOGIN PASSWORD 'very-secret-pw' SUPERUSER");
  await client.end();
  const withPassword = databaseUrl.replace("postgres@", "exporter:very-secret-pw@");
  const run = await runPraApp(["backup"], {
    ...exportEnv(),
    DATABASE_URL: withPassword,
    EXPORT_PREFIX: "nightly",
  });
  expect(run.status).toBe(0);
  expect(run.json().key).toMatch(/^nightly\/app-\d+\.dump$/);
  expect(run.stdout + run.stderr).not.toContain("very-secret-pw");
});

test("retention deletes old exports and keeps the newest and unrelated objects", async () => {
  const { body } = await takeExport();
  const t = now();
  for (const age of [90_000, 80_000, 70_000]) plantExport(t - age, body);
  s3.buckets
    .get(BUCKET)!
    .set("exports/README.txt", { body: Buffer.from("x"), headers: {}, lastModified: new Date() });
  // The next export in a new second (its key is named by it): the app's clock a second on, not
  // a second waited for.
  const realNow = Date.now.bind(Date);
  const clock = jest.spyOn(Date, "now").mockImplementation(() => realNow() + 1000);
  const run = await runPraApp(["backup", "--keep-last", "2"], exportEnv()).finally(() =>
    clock.mockRestore(),
  );
  expect(run.status).toBe(0);
  expect((run.json().deleted as string[]).sort()).toEqual(
    [`app-${t - 70_000}.dump`, `app-${t - 80_000}.dump`, `app-${t - 90_000}.dump`].sort(),
  );
  expect(keys()).toHaveLength(3); // two exports and README.txt
  expect(keys()).toContain("exports/README.txt");
});

test("a failing pg_dump exits 1 with its reason and leaves nothing in the bucket", async () => {
  const run = await runPraApp(["backup"], {
    ...exportEnv(),
    DATABASE_URL: databaseUrl.replace(/\/[^/]+$/, "/no_such_db"),
  });
  expect(run.status).toBe(1);
  expect(run.stderr).toMatch(/pg_dump failed \(exit 1\): .*no_such_db/);
  expect(keys()).toEqual([]);
});

test("without EXPORT_BUCKET a PostgreSQL backup is refused with the reason", async () => {
  const run = await runPraApp(["backup"], { DATABASE_URL: databaseUrl });
  expect(run.status).toBe(1);
  expect(run.stderr).toContain("needs EXPORT_BUCKET");
});

describe("verify and backups on exports", () => {
  test("verify passes on a fresh export that pg_restore reads", async () => {
    const { key } = await takeExport();
    const run = await runPraApp(["verify", "--max-age", "5m"], exportEnv());
    expect(run.status).toBe(0);
    expect(run.json()).toMatchObject({ command: "verify", ok: true, key, tables: ["events"] });
  });

  test("verify fails when there is no export", async () => {
    const run = await runPraApp(["verify", "--max-age", "5m"], exportEnv());
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`no export in s3://${BUCKET}/exports/`);
  });

  test("verify fails when the newest export is too old", async () => {
    const { body } = await takeExport();
    s3.buckets.get(BUCKET)!.clear();
    plantExport(now() - 3600, body);
    const run = await runPraApp(["verify", "--max-age", "30m"], exportEnv());
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(
      /newest export app-\d+\.dump is 36\d\d s old, older than the allowed 1800 s/,
    );
  });

  test("verify fails when the newest export is truncated, even if an older one is fine", async () => {
    const client = new Client({ connectionString: databaseUrl });
    await client.connect();
    await client.query(
      "INSERT INTO events (message) SELECT md5(n::text) FROM generate_series(1, 20000) AS n",
    );
    await client.end();
    const { body } = await takeExport();
    // Truncated, as by an interrupted copy: the table of contents is intact, the data is not.
    plantExport(now() + 1, body.subarray(0, Math.floor(body.length * 0.9)));
    const run = await runPraApp(["verify", "--max-age", "5m"], exportEnv());
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/newest export app-\d+\.dump pg_restore cannot read all of it/);
  });

  test("backups lists the exports, newest first", async () => {
    const { body } = await takeExport();
    plantExport(1_700_000_000, body);
    const run = await runPraApp(["backups"], exportEnv());
    const files = (run.json().backups as { file: string }[]).map((entry) => entry.file);
    expect(files).toHaveLength(2);
    expect(files[1]).toBe("app-1700000000.dump");
  });
});

test("/metrics and /status report the newest export, listing the bucket at most once per TTL", async () => {
  const { body } = await takeExport();
  s3.buckets.get(BUCKET)!.clear();
  plantExport(1_700_000_000, body);
  const settings = readExportSettings({ EXPORT_BUCKET: BUCKET })!;
  const storage = await createPostgresStorage(databaseUrl);
  const app = createApp(storage, cachedExportListing(createS3Client(), settings, 60_000));
  await new Promise<void>((resolveListen) =>
    app.server.listen(0, "127.0.0.1", () => resolveListen()),
  );
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  try {
    const listingsBefore = s3.requests.filter((request) => request.includes("list-type=2")).length;
    const first = await (await fetch(`${base}/metrics`)).text();
    expect(first).toMatch(/^pra_restore_point_newest_timestamp_seconds 1700000000$/m);
    plantExport(1_800_000_000, body);
    const second = await (await fetch(`${base}/metrics`)).text();
    expect(second).toMatch(/^pra_restore_point_newest_timestamp_seconds 1700000000$/m);
    expect(await (await fetch(`${base}/status`)).json()).toMatchObject({
      count: 30,
      last_backup_file: "app-1700000000.dump",
    });
    expect(
      s3.requests.filter((request) => request.includes("list-type=2")).length - listingsBefore,
    ).toBe(1);
  } finally {
    await app.shutdown();
  }
});
