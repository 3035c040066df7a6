/** `pra-app restore` and `pra-app verify`: the chosen point is checked first, and nothing is ever lost. */
import { spawnSync } from "node:child_process";
import {
  closeSync,
  copyFileSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeSync,
} from "node:fs";
import { createBackup } from "../../../apps/pra-app/src/backup/create";
import {
  eventIds,
  makeAppDatabase,
  runPraApp,
  spawnPraApp,
  type TempDir,
  tempDir,
} from "../../support/pra-app";

let dir: TempDir;
let db: string;
let backupDir: string;
let env: Record<string, string>;

beforeEach(() => {
  dir = tempDir();
  db = dir.join("data", "app.db");
  backupDir = dir.join("backup");
  env = { DB_PATH: db, BACKUP_DIR: backupDir };
});

afterEach(() => dir.remove());

/** A restore point at `timestamp` holding events 1..rows (the database grows to `rows` first). */
async function pointWithRows(timestamp: number, rows: number): Promise<string> {
  const have = existsSync(db) ? eventIds(db).length : 0;
  makeAppDatabase(db, rows - have);
  const nowSpy = jest.spyOn(Date, "now").mockReturnValue(timestamp * 1000);
  try {
    return (await createBackup({ dbPath: db, backupDir })).file;
  } finally {
    nowSpy.mockRestore();
  }
}

function corrupt(path: string): void {
  const fd = openSync(path, "r+");
  const garbage = Buffer.alloc(4096, 0x5a);
  writeSync(fd, garbage, 0, garbage.length, 0);
  closeSync(fd);
}

function snapshotOfDataDir(): Record<string, string> {
  const dataDir = dir.join("data");
  if (!existsSync(dataDir)) return {};
  return Object.fromEntries(
    readdirSync(dataDir).map((name) => [
      name,
      readFileSync(`${dataDir}/${name}`).toString("base64"),
    ]),
  );
}

describe("restore", () => {
  test("without --point restores the newest valid point and moves the current database aside", async () => {
    await pointWithRows(1_700_000_000, 10);
    await pointWithRows(1_700_000_100, 20);
    makeAppDatabase(db, 5); // 25 rows now, 5 of them in no restore point
    const run = spawnPraApp(["restore"], env);
    expect(run.status).toBe(0);
    const summary = run.json();
    expect(summary).toMatchObject({
      command: "restore",
      ok: true,
      restored: "app-1700000100.db",
      last_event_id: 20,
      skipped: [],
    });
    expect(eventIds(db)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    // The database it replaced is kept, whole, with its 25 rows.
    const aside = (summary.moved_aside as string[]).find(
      (path) => !path.endsWith("-wal") && !path.endsWith("-shm"),
    )!;
    expect(aside).toMatch(/app\.db\.pre-restore-\d+$/);
    expect(eventIds(aside)).toHaveLength(25);
  });

  test("a corrupted newest point is skipped, named, and the next valid one restored", async () => {
    await pointWithRows(1_700_000_000, 10);
    const newest = await pointWithRows(1_700_000_100, 20);
    corrupt(`${backupDir}/${newest}`);
    const run = await runPraApp(["restore"], env);
    expect(run.status).toBe(0);
    expect(run.stderr).toContain("skipped app-1700000100.db");
    const summary = run.json();
    expect(summary).toMatchObject({
      restored: "app-1700000000.db",
      last_event_id: 10,
      skipped: [{ file: "app-1700000100.db" }],
    });
    expect(JSON.stringify(summary.skipped)).toContain("cannot be read");
    expect(eventIds(db)).toHaveLength(10);
  });

  test("when no point is valid it refuses and changes nothing", async () => {
    corruptAll([await pointWithRows(1_700_000_000, 10), await pointWithRows(1_700_000_100, 20)]);
    const before = snapshotOfDataDir();
    const run = await runPraApp(["restore"], env);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("no valid restore point to restore");
    expect(snapshotOfDataDir()).toEqual(before);
  });

  function corruptAll(files: string[]): void {
    for (const file of files) corrupt(`${backupDir}/${file}`);
  }

  test("with no restore point at all it refuses and changes nothing", async () => {
    makeAppDatabase(db, 3);
    const before = snapshotOfDataDir();
    const run = await runPraApp(["restore"], env);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`no restore point in ${backupDir}`);
    expect(snapshotOfDataDir()).toEqual(before);
  });

  test("--point restores exactly that point", async () => {
    await pointWithRows(1_700_000_000, 10);
    await pointWithRows(1_700_000_100, 20);
    const run = await runPraApp(["restore", "--point", "app-1700000000.db"], env);
    expect(run.status).toBe(0);
    expect(eventIds(db)).toHaveLength(10);
  });

  // A well-formed name the restore cannot use is a failure (exit 1); a value that cannot name a
  // restore point at all is a usage error (exit 2), as `npm run restore-job` and `npm run restore`
  // treat the same value.
  test.each([
    ["a corrupted point", "app-1700000100.db", "app-1700000100.db cannot be read", 1],
    ["a missing point", "app-1600000000.db", "restore point app-1600000000.db not found", 1],
    [
      "a file outside the backup directory",
      "../data/app-1700000000.db",
      "is outside the backup directory",
      1,
    ],
    ["an absolute path elsewhere", "/etc/passwd", "is not a restore point name", 2],
    ["a name that is not a restore point", "notes.db", "is not a restore point name", 2],
  ])("--point naming %s is refused and nothing changes", async (_case, point, message, exit) => {
    await pointWithRows(1_700_000_000, 10);
    corrupt(`${backupDir}/${await pointWithRows(1_700_000_100, 20)}`);
    copyFileSync(`${backupDir}/app-1700000000.db`, dir.join("data", "app-1700000000.db"));
    makeAppDatabase(db, 1);
    const before = snapshotOfDataDir();
    const run = await runPraApp(["restore", "--point", point], env);
    expect(run.status).toBe(exit);
    expect(run.stderr).toContain(message);
    expect(run.stderr).toContain("nothing was changed");
    expect(snapshotOfDataDir()).toEqual(before);
  });

  test("--before takes the newest valid point at or before the time (ISO or unix seconds)", async () => {
    await pointWithRows(1_700_000_000, 10);
    await pointWithRows(1_700_000_100, 20);
    await pointWithRows(1_700_000_200, 30);
    const iso = new Date(1_700_000_150 * 1000).toISOString();
    expect((await runPraApp(["restore", "--before", iso], env)).json()).toMatchObject({
      restored: "app-1700000100.db",
    });
    expect((await runPraApp(["restore", "--before", "1700000000"], env)).json()).toMatchObject({
      restored: "app-1700000000.db",
    });
    const none = await runPraApp(["restore", "--before", "1600000000"], env);
    expect(none.status).toBe(1);
    expect(none.stderr).toContain("no restore point taken at or before 1600000000");
  });

  test.each([
    [["--before", "yesterday"], '"yesterday" is not a time'],
    [["--point", "app-1.db", "--before", "1700000000"], "cannot be used with option '--point"],
    [["--point"], "argument missing"],
  ])("restore %j is refused as bad usage", async (args, message) => {
    await pointWithRows(1_700_000_000, 10);
    const before = snapshotOfDataDir();
    const run = await runPraApp(["restore", ...args], env);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(message);
    expect(snapshotOfDataDir()).toEqual(before);
  });

  test("a stale WAL is moved aside with its database and never replayed onto the restored file", async () => {
    await pointWithRows(1_700_000_000, 10);
    // A service that crashed mid-flight: committed rows 11..60 live only in app.db-wal.
    const crash = spawnSync(process.execPath, [
      "-e",
      `const Database = require("better-sqlite3");
       const db = new Database(process.argv[1]);
       db.pragma("journal_mode = WAL");
       db.pragma("wal_autocheckpoint = 0");
       const insert = db.prepare("INSERT INTO events (message) VALUES (?)");
       for (let i = 0; i < 50; i++) insert.run("only-in-wal");
       process.kill(process.pid, "SIGKILL");`,
      db,
    ]);
    expect(crash.signal).toBe("SIGKILL");
    expect(readFileSync(`${db}-wal`).length).toBeGreaterThan(0);
    const run = await runPraApp(["restore"], env);
    expect(run.status).toBe(0);
    expect(existsSync(`${db}-wal`)).toBe(false);
    expect(existsSync(`${db}-shm`)).toBe(false);
    expect(eventIds(db)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    // The moved-aside database holds the 50 WAL-only rows too: nothing is lost.
    const aside = (run.json().moved_aside as string[]).find((path) =>
      /pre-restore-\d+$/.test(path),
    )!;
    expect(eventIds(aside)).toHaveLength(60);
  });

  test("restore into a deleted data directory recreates it", async () => {
    await pointWithRows(1_700_000_000, 10);
    rmSync(dir.join("data"), { recursive: true });
    const run = await runPraApp(["restore"], env);
    expect(run.status).toBe(0);
    expect(run.json()).toMatchObject({ restored: "app-1700000000.db", moved_aside: [] });
    expect(eventIds(db)).toHaveLength(10);
  });
});

describe("verify", () => {
  test("passes on a fresh valid newest point and reports it", async () => {
    const file = await pointWithRows(Math.floor(Date.now() / 1000), 7);
    const run = await runPraApp(["verify", "--max-age", "5m"], env);
    expect(run.status).toBe(0);
    expect(run.json()).toMatchObject({
      command: "verify",
      ok: true,
      file,
      last_event_id: 7,
      max_age_seconds: 300,
    });
  });

  test("fails when there is no restore point", async () => {
    const run = await runPraApp(["verify", "--max-age", "5m"], env);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`no restore point in ${backupDir}`);
  });

  test("fails when the newest point is older than --max-age", async () => {
    await pointWithRows(Math.floor(Date.now() / 1000) - 600, 7);
    const run = await runPraApp(["verify", "--max-age", "5m"], env);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(
      /newest restore point app-\d+\.db is 6\d\d s old, older than the allowed 300 s/,
    );
  });

  test("fails when the newest point fails its check, even if an older one is fine", async () => {
    const now = Math.floor(Date.now() / 1000);
    await pointWithRows(now - 60, 7);
    corrupt(`${backupDir}/${await pointWithRows(now, 9)}`);
    const run = await runPraApp(["verify", "--max-age", "5m"], env);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`newest restore point app-${now}.db cannot be read`);
  });

  test.each([
    [[], "required option '--max-age <duration>' not specified"],
    [["--max-age", "soon"], '"soon" is not a duration'],
  ])("verify %j is refused as bad usage", async (args, message) => {
    const run = await runPraApp(["verify", ...args], env);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(message);
  });
});
