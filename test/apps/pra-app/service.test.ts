/** The real `pra-app serve` process: backend chosen by the environment, graceful shutdown, the CLI's help. */
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { type PostgresServer, startPostgres } from "../../support/postgres";
import {
  eventIds,
  makeAppDatabase,
  type RunningService,
  runPraApp,
  startService,
  type TempDir,
  tempDir,
} from "../../support/pra-app";

let postgres: PostgresServer;
let dir: TempDir;
const services: RunningService[] = [];

beforeAll(async () => {
  dir = tempDir();
  postgres = await startPostgres();
});

afterAll(async () => {
  await Promise.all(services.map((service) => service.stop()));
  postgres?.stop();
  dir?.remove();
});

async function start(env: Record<string, string>): Promise<RunningService> {
  const service = await startService(env);
  services.push(service);
  return service;
}

test(
  "with DB_PATH it serves from SQLite and SIGTERM finishes in-flight requests " +
    "before closing the database",
  async () => {
    const db = dir.join("data", "app.db");
    const service = await start({ DB_PATH: db, BACKUP_DIR: dir.join("backup") });
    expect(await (await fetch(`${service.url}/`)).json()).toMatchObject({ backend: "sqlite" });
    // A request whose body arrives slowly is in flight when SIGTERM lands.
    const slowBody = new ReadableStream({
      async start(controller) {
        controller.enqueue(new TextEncoder().encode('{"message":'));
        await new Promise((resolveWait) => setTimeout(resolveWait, 400));
        controller.enqueue(new TextEncoder().encode('"in flight"}'));
        controller.close();
      },
    });
    const inFlight = fetch(`${service.url}/events`, {
      method: "POST",
      body: slowBody,
      headers: { "content-type": "application/json" },
      duplex: "half",
    });
    await new Promise((resolveWait) => setTimeout(resolveWait, 150));
    const exitCode = service.stop();
    const response = await inFlight;
    expect(response.status).toBe(201);
    expect(await exitCode).toBe(0);
    expect(service.logs()).toContain('"msg":"stopped"');
    // Closed cleanly: the WAL was checkpointed into the database file and removed.
    expect(existsSync(`${db}-wal`)).toBe(false);
    expect(eventIds(db)).toEqual([1]);
    await expect(fetch(`${service.url}/health`)).rejects.toThrow();
  },
);

test("with DATABASE_URL it serves from PostgreSQL and never logs the password", async () => {
  const url = (await postgres.createDatabase("service_pg")).replace(
    "postgres@",
    "postgres:s3cret-pw@",
  );
  const service = await start({
    DATABASE_URL: url,
    DB_PATH: dir.join("unused.db"),
    LOG_LEVEL: "debug",
  });
  expect(await (await fetch(`${service.url}/`)).json()).toMatchObject({ backend: "postgres" });
  expect((await fetch(`${service.url}/add?message=pg`)).status).toBe(200);
  expect(await (await fetch(`${service.url}/count`)).json()).toEqual({ count: 1 });
  expect(existsSync(dir.join("unused.db"))).toBe(false);
  expect(await service.stop()).toBe(0);
  expect(service.logs()).not.toContain("s3cret-pw");
});

test("an unreachable PostgreSQL makes serve fail at start with a non-zero exit", async () => {
  const failure = start({ DATABASE_URL: "postgres://u:hidden-pw@127.0.0.1:1/db" });
  await expect(failure).rejects.toThrow(/exited with 1:\n.*ECONNREFUSED 127\.0\.0\.1:1/);
  await expect(failure).rejects.not.toThrow(/hidden-pw/);
});

test("--help documents every command and the flags the manifests use", async () => {
  const top = await runPraApp(["--help"]);
  expect(top.status).toBe(0);
  for (const command of ["serve", "backup", "restore", "verify", "backups"])
    expect(top.stdout).toContain(command);
  for (const variable of ["PORT", "DB_PATH", "DATABASE_URL", "BACKUP_DIR"])
    expect(top.stdout).toContain(variable);
  const flags: Record<string, string[]> = {
    backup: ["--keep-last <n>", "--keep-within <duration>", "--db <path>", "--backup-dir <dir>"],
    restore: ["--point <file>", "--before <time>", "--db <path>", "--backup-dir <dir>"],
    verify: ["--max-age <duration>", "--backup-dir <dir>"],
    backups: ["--backup-dir <dir>"],
  };
  for (const [command, expected] of Object.entries(flags)) {
    const help = await runPraApp([command, "--help"]);
    expect(help.status).toBe(0);
    for (const flag of expected) expect(help.stdout).toContain(flag);
  }
});

test("an unknown command is bad usage", async () => {
  const run = await runPraApp(["frobnicate"]);
  expect(run.status).toBe(2);
  expect(run.stderr).toContain("unknown command 'frobnicate'");
});

test("backups lists restore points newest first as JSON", async () => {
  const backupDir = dir.join("listing");
  const db = dir.join("listing.db");
  makeAppDatabase(db, 2);
  mkdirSync(backupDir);
  for (const ts of [1_700_000_000, 1_700_000_200, 1_700_000_100]) {
    copyFileSync(db, `${backupDir}/app-${ts}.db`);
  }
  const run = await runPraApp(["backups"], { BACKUP_DIR: backupDir });
  expect(run.status).toBe(0);
  const files = (run.json().backups as { file: string }[]).map((point) => point.file);
  expect(files).toEqual(["app-1700000200.db", "app-1700000100.db", "app-1700000000.db"]);
});
