/** `pra-app backup`: consistent restore points under load, retention, and failures that leave no trace. */
import { type ChildProcess, spawn } from "node:child_process";
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import Database from "better-sqlite3";
import { createBackup } from "../../../apps/pra-app/src/backup/create";
import { checkDatabaseFile } from "../../../apps/pra-app/src/backup/integrity";
import { listRestorePoints } from "../../../apps/pra-app/src/backup/points";
import { pointsToDelete } from "../../../apps/pra-app/src/backup/retention";
import {
  eventIds,
  makeAppDatabase,
  PRA_APP_BIN,
  runPraApp,
  spawnPraApp,
  summaryLine,
  type TempDir,
  tempDir,
} from "../../support/pra-app";

let dir: TempDir;
const children: ChildProcess[] = [];

beforeEach(() => {
  dir = tempDir();
});

afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
  dir.remove();
});

function pointsIn(backupDir: string): string[] {
  return listRestorePoints(backupDir).map((point) => point.file);
}

/** A restore point file for `timestamp` holding a copy of `source`. */
function plantPoint(source: string, backupDir: string, timestamp: number): string {
  const path = `${backupDir}/app-${timestamp}.db`;
  copyFileSync(source, path);
  return path;
}

test("backup writes a checked restore point and prints one JSON summary line", () => {
  const db = dir.join("data", "app.db");
  makeAppDatabase(db, 25);
  // Through the installed bin, as a CronJob runs it.
  const run = spawnPraApp(["backup"], { DB_PATH: db, BACKUP_DIR: dir.join("backup") });
  expect(run.status).toBe(0);
  const summary = run.json();
  expect(summary).toMatchObject({ command: "backup", ok: true, last_event_id: 25, deleted: [] });
  expect(summary.file).toMatch(/^app-\d+\.db$/);
  expect(pointsIn(dir.join("backup"))).toEqual([summary.file]);
  expect(eventIds(dir.join("backup", summary.file as string))).toHaveLength(25);
  // Only the point: no temporary file, no -wal/-shm beside it.
  expect(readdirSync(dir.join("backup"))).toEqual([summary.file]);
});

test("--db and --backup-dir override DB_PATH and BACKUP_DIR", async () => {
  const db = dir.join("elsewhere.db");
  makeAppDatabase(db, 3);
  const run = await runPraApp(["backup", "--db", db, "--backup-dir", dir.join("b2")], {
    DB_PATH: dir.join("missing.db"),
    BACKUP_DIR: dir.join("unused"),
  });
  expect(run.status).toBe(0);
  expect(pointsIn(dir.join("b2"))).toHaveLength(1);
  expect(existsSync(dir.join("unused"))).toBe(false);
});

test("a backup of a missing database fails with a reason and makes no restore point", async () => {
  const run = await runPraApp(["backup"], {
    DB_PATH: dir.join("nothing.db"),
    BACKUP_DIR: dir.join("backup"),
  });
  expect(run.status).toBe(1);
  expect(run.stderr).toContain(`no database at ${dir.join("nothing.db")}`);
  expect(run.json()).toMatchObject({ command: "backup", ok: false });
  expect(pointsIn(dir.join("backup"))).toEqual([]);
});

test("a backup of a corrupt database fails and leaves nothing in the backup directory", async () => {
  const db = dir.join("data", "app.db");
  makeAppDatabase(db, 2000, 200);
  const bytes = Buffer.alloc(4096 * 40, 0xab);
  const fd = openSync(db, "r+");
  writeSync(fd, bytes, 0, bytes.length, 4096 * 3);
  closeSync(fd);
  const run = await runPraApp(["backup"], { DB_PATH: db, BACKUP_DIR: dir.join("backup") });
  expect(run.status).toBe(1);
  expect(run.stderr).toMatch(/error: .+/);
  expect(readdirSync(dir.join("backup"))).toEqual([]);
});

test.each([
  [["--keep-last", "0"], '"0" is not a positive whole number'],
  [["--keep-last", "two"], '"two" is not a positive whole number'],
  [["--keep-within", "5x"], '"5x" is not a duration'],
  [["--keep-within"], "argument missing"],
  [["--frobnicate"], "unknown option '--frobnicate'"],
])(
  "backup %j is refused as bad usage (exit 2) before anything is written",
  async (args, message) => {
    const db = dir.join("app.db");
    makeAppDatabase(db, 1);
    const run = await runPraApp(["backup", ...args], {
      DB_PATH: db,
      BACKUP_DIR: dir.join("backup"),
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(message);
    expect(existsSync(dir.join("backup"))).toBe(false);
  },
);

test("retention keeps the newest N or those within the age, and deletes the rest", async () => {
  const db = dir.join("app.db");
  makeAppDatabase(db, 5);
  const backupDir = dir.join("backup");
  mkdirSync(backupDir);
  const now = Math.floor(Date.now() / 1000);
  for (const age of [100_000, 90_000, 80_000, 3000, 1000]) plantPoint(db, backupDir, now - age);
  writeFileSync(dir.join("backup", "notes.txt"), "not a restore point");
  const run = await runPraApp(["backup", "--keep-last", "2", "--keep-within", "1h"], {
    DB_PATH: db,
    BACKUP_DIR: backupDir,
  });
  expect(run.status).toBe(0);
  const summary = run.json();
  // Kept: the new one and now-1000 (newest 2) and now-3000 (younger than 1h).
  expect(pointsIn(backupDir)).toEqual([
    summary.file,
    `app-${now - 1000}.db`,
    `app-${now - 3000}.db`,
  ]);
  expect((summary.deleted as string[]).sort()).toEqual(
    [`app-${now - 100_000}.db`, `app-${now - 90_000}.db`, `app-${now - 80_000}.db`].sort(),
  );
  expect(existsSync(dir.join("backup", "notes.txt"))).toBe(true);
});

describe("retention rules", () => {
  const point = (timestamp: number) => ({
    file: `app-${timestamp}.db`,
    path: "",
    timestamp,
    sizeBytes: 1,
  });
  const points = [point(100), point(200), point(300), point(400)];

  test("without a policy nothing is deleted", () => {
    expect(pointsToDelete(points, {}, 10_000, "app-400.db")).toEqual([]);
  });

  test("keep-within alone never deletes the newest valid point even when everything is old", () => {
    const doomed = pointsToDelete(points, { keepWithinSeconds: 60 }, 10_000, "app-400.db");
    expect(doomed.map((p) => p.file)).toEqual(["app-300.db", "app-200.db", "app-100.db"]);
  });

  test("the point just made is kept even when a newer-named (clock-skewed) file exists", () => {
    const doomed = pointsToDelete([...points, point(9_999)], { keepLast: 1 }, 10_000, "app-300.db");
    expect(doomed.map((p) => p.file)).toEqual(["app-400.db", "app-200.db", "app-100.db"]);
  });

  test("a point is kept if it is among the newest N OR younger than keep-within", () => {
    const doomed = pointsToDelete(
      points,
      { keepLast: 1, keepWithinSeconds: 250 },
      500,
      "app-400.db",
    );
    expect(doomed.map((p) => p.file)).toEqual(["app-200.db", "app-100.db"]);
  });
});

test("two backups in the same second: the second fails loudly and the first point is untouched", async () => {
  const db = dir.join("app.db");
  makeAppDatabase(db, 10);
  const backupDir = dir.join("backup");
  const nowSpy = jest.spyOn(Date, "now").mockReturnValue(1_800_000_000_500);
  try {
    const first = await createBackup({ dbPath: db, backupDir });
    makeAppDatabase(db, 5);
    await expect(createBackup({ dbPath: db, backupDir })).rejects.toThrow(
      "restore point app-1800000000.db already exists (another backup ran in the same second); nothing was overwritten",
    );
    expect(pointsIn(backupDir)).toEqual([first.file]);
    expect(eventIds(first.path)).toHaveLength(10);
    expect(readdirSync(backupDir)).toEqual([first.file]);
  } finally {
    nowSpy.mockRestore();
  }
});

test("two backup processes started together never overwrite each other nor fail silently", async () => {
  const db = dir.join("app.db");
  makeAppDatabase(db, 500);
  const backupDir = dir.join("backup");
  const run = () =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolveRun) => {
      const child = spawn(PRA_APP_BIN, ["backup"], {
        env: { ...process.env, DB_PATH: db, BACKUP_DIR: backupDir },
      });
      children.push(child);
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk) => {
        stdout += chunk;
      });
      child.stderr.on("data", (chunk) => {
        stderr += chunk;
      });
      child.on("exit", (code) => resolveRun({ code, stdout, stderr }));
    });
  const results = await Promise.all([run(), run(), run()]);
  const succeeded = results.filter((result) => result.code === 0);
  const failed = results.filter((result) => result.code !== 0);
  // Every success made its own distinct point; every failure said why.
  const files = succeeded.map((result) => String(summaryLine(result.stdout).file));
  expect(new Set(files).size).toBe(succeeded.length);
  expect(pointsIn(backupDir).sort()).toEqual([...files].sort());
  for (const result of failed) expect(result.stderr).toContain("already exists");
  for (const file of files)
    expect(checkDatabaseFile(`${backupDir}/${file}`)).toEqual({ ok: true, lastEventId: 500 });
});

test(
  "backups taken while a writer inserts continuously finish and each holds " +
    "exactly a prefix of the rows",
  async () => {
    const db = dir.join("data", "app.db");
    makeAppDatabase(db, 20_000, 200); // a few MB
    const writerScript = `
    const Database = require("better-sqlite3");
    const db = new Database(process.argv[1]);
    db.pragma("busy_timeout = 5000");
    db.pragma("journal_mode = WAL");
    const insert = db.prepare("INSERT INTO events (message) VALUES (?)");
    let n = 0;
    const tick = () => {
      for (let i = 0; i < 50; i++) insert.run("w" + (++n) + "-" + "y".repeat(150));
      setImmediate(tick);
    };
    process.stdout.write("ready\\n");
    tick();`;
    const writer = spawn(process.execPath, ["-e", writerScript, db], { cwd: process.cwd() });
    children.push(writer);
    await new Promise<void>((resolveReady) => writer.stdout.once("data", () => resolveReady()));
    const backupDir = dir.join("backup");
    const observer = new Database(db, { readonly: true });
    const committedBefore: number[] = [];
    const files: string[] = [];
    // Each point needs a second of its own (it is named by it): the app's clock (Date.now) is set
    // a second further on for each round instead of a second being waited for.
    const realNow = Date.now.bind(Date);
    let round = 0;
    const clock = jest.spyOn(Date, "now").mockImplementation(() => realNow() + round * 1000);
    try {
      for (; round < 3; round++) {
        await new Promise((resolveWait) => setTimeout(resolveWait, 200));
        committedBefore.push(
          (observer.prepare("SELECT max(id) AS id FROM events").get() as { id: number }).id,
        );
        // In this process; the writer is another process, as the service would be.
        const run = await runPraApp(["backup", "--db", db, "--backup-dir", backupDir]);
        expect(run.status).toBe(0);
        files.push(run.json().file as string);
      }
    } finally {
      clock.mockRestore();
      writer.kill("SIGKILL");
      observer.close();
    }
    for (const [index, file] of files.entries()) {
      expect(checkDatabaseFile(`${backupDir}/${file}`).ok).toBe(true);
      // Restored the way an operator would, then read back.
      const restoredDb = dir.join(`restored-${index}`, "app.db");
      const restore = await runPraApp([
        "restore",
        "--point",
        file,
        "--db",
        restoredDb,
        "--backup-dir",
        backupDir,
      ]);
      expect(restore.status).toBe(0);
      const ids = eventIds(restoredDb);
      // Exactly a prefix 1..k of the committed rows, with every row committed before the backup began.
      expect(ids[ids.length - 1]).toBe(ids.length);
      expect(ids.every((id, position) => id === position + 1)).toBe(true);
      expect(ids.length).toBeGreaterThanOrEqual(committedBefore[index]!);
    }
    expect(new Set(files).size).toBe(3);
  },
);

test("a leftover temporary file from a killed run is cleaned up and never listed as a restore point", async () => {
  const db = dir.join("app.db");
  makeAppDatabase(db, 1);
  const backupDir = dir.join("backup");
  mkdirSync(backupDir);
  const leftover = `${backupDir}/.tmp-app-1700000000.db.123.abcd`;
  writeFileSync(leftover, "half a copy");
  const old = new Date(Date.now() - 7 * 3600 * 1000);
  utimesSync(leftover, old, old);
  expect(pointsIn(backupDir)).toEqual([]);
  await createBackup({ dbPath: db, backupDir });
  expect(existsSync(leftover)).toBe(false);
});

test("a paced backup (--max-copy-rate) under continuous inserts is still exactly a prefix of the rows", async () => {
  const db = dir.join("data", "app.db");
  makeAppDatabase(db, 8000, 400); // about 4 MB: at 2 MiB/s the copy takes some 2 s of steps
  const writer = spawn(
    process.execPath,
    [
      "-e",
      `const db = new (require("better-sqlite3"))(process.argv[1]);
       db.pragma("busy_timeout = 5000"); db.pragma("journal_mode = WAL");
       const insert = db.prepare("INSERT INTO events (message) VALUES (?)");
       process.stdout.write("ready\\n");
       setInterval(() => { for (let i = 0; i < 20; i++) insert.run("paced-" + "z".repeat(300)); }, 2);`,
      db,
    ],
    { cwd: process.cwd() },
  );
  children.push(writer);
  await new Promise<void>((resolveReady) => writer.stdout.once("data", () => resolveReady()));
  const observer = new Database(db, { readonly: true });
  const committedBefore =
    observer.prepare<[], { id: number }>("SELECT max(id) AS id FROM events").get()?.id ?? 0;
  observer.close();
  const run = await runPraApp([
    "backup",
    "--db",
    db,
    "--backup-dir",
    dir.join("backup"),
    "--max-copy-rate",
    "2",
  ]);
  writer.kill("SIGKILL");
  expect(run.status).toBe(0);
  expect(Number(run.json().duration_seconds)).toBeGreaterThan(1);
  const ids = eventIds(dir.join("backup", String(run.json().file)));
  expect(ids.every((id, position) => id === position + 1)).toBe(true);
  expect(ids.length).toBeGreaterThanOrEqual(committedBefore);
  // Rows kept arriving while the copy ran; the point stops at the commit its snapshot began on.
  expect(eventIds(db).length).toBeGreaterThan(ids.length);
});
