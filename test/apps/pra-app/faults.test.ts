/**
 * pra-app under faults: real SQLite files, real processes killed at named steps (PRA_TEST_STOP_AT),
 * volumes that really fill up (a small tmpfs), malformed requests on a raw socket. Each test states
 * the promise a user relies on: every acknowledged write is stored; the live database is the whole
 * old one or the whole new one; nothing that is not a whole, checked restore point looks like one;
 * no restore point from the future or outside the backup directory is trusted.
 */
import { spawn, spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { connect, type AddressInfo } from "node:net";
import { S3Client } from "@aws-sdk/client-s3";
import Database from "better-sqlite3";
import { z } from "zod";
import { cachedExportListing } from "../../../apps/pra-app/src/export/cache";
import { createApp, type App } from "../../../apps/pra-app/src/server";
import { openSqliteDatabase, sqliteStorage } from "../../../apps/pra-app/src/storage/sqlite";
import {
  eventIds,
  killHard,
  makeAppDatabase,
  mountSmallFilesystem,
  type RunningService,
  runPraApp,
  type SmallFilesystem,
  spawnPraApp,
  spawnStoppedAt,
  startService,
  summaryLine,
  type TempDir,
  tempDir,
} from "../../support/pra-app";

let dir: TempDir;
const cleanups: (() => void | Promise<unknown>)[] = [];

beforeEach(() => {
  dir = tempDir("pra-faults-");
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  dir.remove();
});

function mountSmall(path: string, sizeBytes: number): SmallFilesystem {
  const fs = mountSmallFilesystem(path, sizeBytes);
  cleanups.push(() => fs.unmount());
  return fs;
}

async function serve(env: Record<string, string>): Promise<RunningService> {
  const service = await startService(env);
  cleanups.push(() => service.stop());
  return service;
}

const now = () => Math.floor(Date.now() / 1000);
const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

/** A restore point at `timestamp` holding events 1..rows (a copy of a database made for it). */
function plantPoint(backupDir: string, timestamp: number, rows: number): string {
  const source = dir.join(`source-${timestamp}-${rows}.db`);
  if (!existsSync(source)) {
    makeAppDatabase(source, rows);
    const db = new Database(source);
    db.pragma("journal_mode = DELETE");
    db.close();
  }
  mkdirSync(backupDir, { recursive: true });
  const file = `app-${timestamp}.db`;
  copyFileSync(source, `${backupDir}/${file}`);
  return file;
}

/**
 * A database like the one a crashed service leaves: `rows` events, the last `walOnly` of them
 * committed but only in app.db-wal.
 */
function crashedDatabase(path: string, rows: number, walOnly: number): void {
  makeAppDatabase(path, rows - walOnly);
  const crash = spawnSync(process.execPath, [
    "-e",
    `const Database = require("better-sqlite3");
     const db = new Database(process.argv[1]);
     db.pragma("journal_mode = WAL");
     db.pragma("wal_autocheckpoint = 0");
     const insert = db.prepare("INSERT INTO events (message) VALUES (?)");
     for (let i = 0; i < ${walOnly}; i++) insert.run("only-in-wal");
     process.kill(process.pid, "SIGKILL");`,
    path,
  ]);
  expect(crash.signal).toBe("SIGKILL");
  expect(existsSync(`${path}-wal`)).toBe(true);
}

/** Sends `request` on a raw socket and returns everything the server answered before closing. */
function rawExchange(url: string, request: string | Buffer, keepSending?: Buffer): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolveExchange, reject) => {
    const socket = connect(Number(port), hostname);
    let answer = "";
    let sending: NodeJS.Timeout | undefined;
    socket.on("data", (chunk) => {
      answer += chunk.toString();
    });
    socket.on("error", (error: NodeJS.ErrnoException) => {
      // The server may close while we still send: what it answered first is the result.
      if (error.code === "ECONNRESET" || error.code === "EPIPE") resolveExchange(answer);
      else reject(error);
    });
    socket.on("close", () => {
      clearInterval(sending);
      resolveExchange(answer);
    });
    socket.write(request);
    if (keepSending) {
      // A client that never stops: the server must answer without waiting for the end.
      sending = setInterval(() => {
        if (!socket.destroyed) socket.write(keepSending);
      }, 5);
      setTimeout(() => socket.destroy(), 10_000);
    }
  });
}

const statusOf = (answer: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]);

const CountBody = z.object({ count: z.number() });
const EventBody = z.object({ id: z.number() });

async function postEvent(url: string, message: string): Promise<{ status: number; id?: number }> {
  const response = await fetch(`${url}/events`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ message }),
  });
  const body: unknown = await response.json();
  if (response.status !== 201) return { status: response.status };
  return { status: response.status, id: EventBody.parse(body).id };
}

function metricValue(text: string, series: string): number | undefined {
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("1. a write is acknowledged only once it is stored", () => {
  let app: App | undefined;
  afterEach(async () => {
    await app?.shutdown();
    app = undefined;
  });

  async function appOver(db: Database.Database): Promise<string> {
    app = createApp(sqliteStorage(db), () => Promise.resolve([]));
    const server = app.server;
    await new Promise<void>((resolveListen) => server.listen(0, "127.0.0.1", resolveListen));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  test("a commit that fails (a deferred foreign key) answers 503, stores nothing, is counted", async () => {
    const path = dir.join("data", "app.db");
    makeAppDatabase(path, 0);
    // A schema the app does not own, whose constraint is checked only at COMMIT.
    const setup = new Database(path);
    setup.exec(`CREATE TABLE parent (id INTEGER PRIMARY KEY);
      CREATE TABLE child (parent INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED);
      CREATE TRIGGER orphan AFTER INSERT ON events WHEN NEW.message = 'orphan'
        BEGIN INSERT INTO child VALUES (NEW.id + 1000); END;`);
    setup.close();
    const db = openSqliteDatabase(path);
    const url = await appOver(db);
    expect(await postEvent(url, "first")).toEqual({ status: 201, id: 1 });
    const failed = await fetch(`${url}/add?message=orphan`);
    expect(failed.status).toBe(503);
    expect(await failed.json()).toEqual({
      error: "the event was not stored: the database cannot accept writes",
    });
    expect((await postEvent(url, "orphan")).status).toBe(503);
    expect(db.prepare("SELECT message FROM events ORDER BY id").pluck().all()).toEqual(["first"]);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metricValue(metrics, "pra_write_failures_total")).toBe(2);
  });

  test("a full database (max_page_count): 503, /ready false until a write fits again", async () => {
    const path = dir.join("data", "app.db");
    const db = openSqliteDatabase(path);
    const url = await appOver(db);
    db.pragma(`max_page_count = ${Number(db.pragma("page_count", { simple: true })) + 3}`);
    const acknowledged: number[] = [];
    let refused = 0;
    for (let i = 0; i < 100 && refused < 3; i++) {
      const result = await postEvent(url, "m".repeat(1000));
      if (result.id !== undefined) acknowledged.push(result.id);
      else {
        expect(result.status).toBe(503);
        refused++;
      }
    }
    expect(refused).toBe(3);
    expect((await fetch(`${url}/ready`)).status).toBe(503);
    // Every acknowledged write is there, and nothing else.
    expect(db.prepare("SELECT id FROM events ORDER BY id").pluck().all()).toEqual(acknowledged);
    db.pragma("max_page_count = 1073741823");
    expect((await fetch(`${url}/ready`)).status).toBe(200);
    expect((await postEvent(url, "fits again")).status).toBe(201);
  });

  test("a full data volume: every 2xx write is in the database, the rest answered 5xx", async () => {
    const volume = mountSmall(dir.join("data"), 1024 * 1024);
    const db = dir.join("data", "app.db");
    const service = await serve({ DB_PATH: db, BACKUP_DIR: dir.join("backup") });
    const filler = volume.fill(48 * 1024);
    const acknowledged: number[] = [];
    let refused = 0;
    for (let i = 0; i < 300 && refused < 5; i++) {
      const result = await postEvent(service.url, `${i}-${"v".repeat(900)}`);
      if (result.id !== undefined) acknowledged.push(result.id);
      else {
        expect(result.status).toBeGreaterThanOrEqual(500);
        refused++;
      }
    }
    // What a reader sees now: every acknowledged write, even while the volume is full.
    const storedWhileFull = new Set(eventIds(db));
    expect(acknowledged.filter((id) => !storedWhileFull.has(id))).toEqual([]);
    expect(refused).toBe(5);
    expect((await fetch(`${service.url}/ready`)).status).toBe(503);
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metricValue(metrics, "pra_write_failures_total")).toBeGreaterThanOrEqual(5);
    expect(service.logs()).toContain('"msg":"write failed"');
    // Room again: the service becomes ready and writes are stored.
    rmSync(filler);
    expect((await fetch(`${service.url}/ready`)).status).toBe(200);
    const after = await postEvent(service.url, "after");
    expect(after.status).toBe(201);
    if (after.id !== undefined) acknowledged.push(after.id);
    await service.stop();
    const stored = new Set(eventIds(db));
    expect(acknowledged.filter((id) => !stored.has(id))).toEqual([]);
  });
});

describe("2. no request target crashes serve", () => {
  test.each([
    ["an absolute URL with a bad host", "GET http://%zz/ HTTP/1.1", 400],
    ["a scheme-relative target with a bad port", "GET //x:99999/ HTTP/1.1", 400],
    ["a path with two leading slashes (not /health)", "GET //health HTTP/1.1", 400],
  ])("%s (%s) answers %d and the service keeps serving", async (_case, line, status) => {
    const service = await serve({ DB_PATH: dir.join("app.db"), BACKUP_DIR: dir.join("b") });
    const answer = await rawExchange(
      service.url,
      `${line}\r\nHost: localhost\r\nConnection: close\r\n\r\n`,
    );
    expect(statusOf(answer)).toBe(status);
    expect((await fetch(`${service.url}/health`)).status).toBe(200);
    expect(service.child.exitCode).toBeNull();
  });

  test("a chunked body past the limit gets 413 while the client is still sending", async () => {
    const service = await serve({ DB_PATH: dir.join("app.db"), BACKUP_DIR: dir.join("b") });
    const chunk = Buffer.from(`4000\r\n${"x".repeat(0x4000)}\r\n`);
    const answer = await rawExchange(
      service.url,
      "POST /events HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" +
        "Transfer-Encoding: chunked\r\n\r\n",
      chunk,
    );
    expect(statusOf(answer)).toBe(413);
    expect(answer).toContain("request body larger than 65536 bytes");
    expect(CountBody.parse(await (await fetch(`${service.url}/count`)).json()).count).toBe(0);
  });
});

describe("3. a restore point dated in the future is suspect", () => {
  const farFuture = () => now() + 30 * 86400;

  test("restore skips it and says why; verify does not count it as fresh", async () => {
    const backupDir = dir.join("backup");
    const real = plantPoint(backupDir, now() - 30, 10);
    const future = plantPoint(backupDir, farFuture(), 99);
    const env = { DB_PATH: dir.join("data", "app.db"), BACKUP_DIR: backupDir };
    const restore = await runPraApp(["restore"], env);
    expect(restore.status).toBe(0);
    expect(restore.json()).toMatchObject({ restored: real, skipped: [{ file: future }] });
    expect(restore.stderr).toMatch(new RegExp(`skipped ${future}: dated \\d+ s in the future`));
    expect(eventIds(env.DB_PATH)).toEqual(range(10));
    const verify = await runPraApp(["verify", "--max-age", "5m"], env);
    expect(verify.status).toBe(0);
    expect(verify.json()).toMatchObject({ file: real, future_points: [future] });
    expect(verify.json().age_seconds).toBeGreaterThanOrEqual(0);
    rmSync(`${backupDir}/${real}`);
    const alone = await runPraApp(["verify", "--max-age", "5m"], env);
    expect(alone.status).toBe(1);
    expect(alone.stderr).toContain(`no restore point in ${backupDir}`);
    expect(alone.stderr).toContain(`${future} is dated in the future`);
  });

  test("retention never deletes a good point because of it, and never deletes it", async () => {
    const db = dir.join("data", "app.db");
    makeAppDatabase(db, 5);
    const backupDir = dir.join("backup");
    const older = plantPoint(backupDir, now() - 600, 3);
    const future = plantPoint(backupDir, farFuture(), 99);
    const run = await runPraApp(["backup", "--keep-last", "2"], {
      DB_PATH: db,
      BACKUP_DIR: backupDir,
    });
    expect(run.status).toBe(0);
    const made = String(run.json().file);
    expect(run.json().deleted).toEqual([]);
    expect(readdirSync(backupDir).sort()).toEqual([made, older, future].sort());
  });

  test("/status and the age metrics ignore it: the age is never negative", async () => {
    const backupDir = dir.join("backup");
    const real = plantPoint(backupDir, now() - 120, 2);
    const future = plantPoint(backupDir, farFuture(), 2);
    makeAppDatabase(dir.join("data", "app.db"), 1);
    const service = await serve({ DB_PATH: dir.join("data", "app.db"), BACKUP_DIR: backupDir });
    const status = z
      .object({ last_backup_file: z.string(), backup_age_seconds: z.number() })
      .passthrough()
      .parse(await (await fetch(`${service.url}/status`)).json());
    expect(status).toMatchObject({ last_backup_file: real, future_points: [future] });
    expect(status.backup_age_seconds).toBeGreaterThanOrEqual(120);
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metricValue(metrics, "pra_restore_point_newest_age_seconds")).toBeGreaterThanOrEqual(
      120,
    );
    expect(metricValue(metrics, "pra_restore_points_future_dated")).toBe(1);
  });
});

describe("4. an empty database beside restore points is a lost volume", () => {
  test.each([
    ["a 0-byte app.db", (path: string) => writeFileSync(path, "")],
    [
      "a SQLite file without the events table",
      (path: string) => {
        const db = new Database(path);
        db.exec("CREATE TABLE unrelated (x)");
        db.close();
      },
    ],
  ])("serve refuses to start on %s and leaves it as it was", (_case, make) => {
    plantPoint(dir.join("backup"), now() - 60, 5);
    const db = dir.join("data", "app.db");
    mkdirSync(dir.join("data"));
    make(db);
    const run = spawnPraApp(
      ["serve"],
      { DB_PATH: db, BACKUP_DIR: dir.join("backup"), PORT: "0" },
      15_000,
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`refusing to start on the empty database ${db}`);
    expect(readdirSync(dir.join("backup"))).toHaveLength(1);
  });
});

describe("5. restore refuses while another process uses the database", () => {
  test("serve running: refused, named, nothing changed; --force overrides", async () => {
    const backupDir = dir.join("backup");
    plantPoint(backupDir, now() - 60, 3);
    const db = dir.join("data", "app.db");
    makeAppDatabase(db, 7);
    const env = { DB_PATH: db, BACKUP_DIR: backupDir };
    const service = await serve(env);
    expect((await postEvent(service.url, "eighth")).status).toBe(201);
    const refused = spawnPraApp(["restore"], env);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(`${db} is in use`);
    expect(refused.stderr).toContain(`pid ${service.child.pid}`);
    expect(refused.stderr).toContain("--force");
    expect(existsSync(`${db}`)).toBe(true);
    expect(readdirSync(dir.join("data")).filter((name) => name.includes("pre-restore"))).toEqual(
      [],
    );
    expect(CountBody.parse(await (await fetch(`${service.url}/count`)).json()).count).toBe(8);
    const forced = spawnPraApp(["restore", "--force"], env);
    expect(forced.status).toBe(0);
    await service.stop();
    expect(eventIds(db)).toEqual(range(3));
  });

  test("any SQLite connection counts, not only serve", async () => {
    const backupDir = dir.join("backup");
    plantPoint(backupDir, now() - 60, 3);
    const db = dir.join("data", "app.db");
    makeAppDatabase(db, 7);
    const holder = spawn(process.execPath, [
      "-e",
      `const db = new (require("better-sqlite3"))(process.argv[1]);
       db.pragma("journal_mode = WAL"); db.prepare("SELECT 1").get();
       process.stdout.write("open\\n"); setInterval(() => {}, 1000);`,
      db,
    ]);
    cleanups.push(() => {
      holder.kill("SIGKILL");
    });
    await new Promise((resolveOpen) => holder.stdout.once("data", resolveOpen));
    const refused = spawnPraApp(["restore"], { DB_PATH: db, BACKUP_DIR: backupDir });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(`pid ${holder.pid}`);
    expect(eventIds(db)).toEqual(range(7));
  });
});

describe("6. a restore killed at any step leaves the whole old or the whole new database", () => {
  test.each(["restore:staged", "restore:aside", "restore:swapped"])(
    "killed at %s: whole old or whole new, a rerun succeeds and leaves no staged copy",
    async (step) => {
      const backupDir = dir.join("backup");
      plantPoint(backupDir, now() - 60, 10);
      const db = dir.join("data", "app.db");
      crashedDatabase(db, 30, 20);
      const env = { DB_PATH: db, BACKUP_DIR: backupDir };
      const run = await spawnStoppedAt(["restore"], env, step);
      await killHard(run);
      const live = eventIds(db);
      expect([range(30), range(10)]).toContainEqual(live);
      const rerun = spawnPraApp(["restore"], env);
      expect(rerun.status).toBe(0);
      expect(eventIds(db)).toEqual(range(10));
      const names = readdirSync(dir.join("data"));
      expect(names.filter((name) => name.startsWith(".restore-"))).toEqual([]);
      // The database that was replaced is kept whole: its 30 rows open from a moved-aside name.
      const aside = names.filter((name) => /\.pre-restore-[\d.]+$/.test(name));
      const asideRows = aside.map((name) => eventIds(dir.join("data", name)).length);
      expect(asideRows).toContain(30);
    },
  );
});

describe("7. a killed or stopped backup leaves nothing behind", () => {
  test("after kill -9 mid-copy the next backup reclaims the partial file at once", async () => {
    const db = dir.join("data", "app.db");
    makeAppDatabase(db, 2000, 200);
    const backupDir = dir.join("backup");
    const env = { DB_PATH: db, BACKUP_DIR: backupDir };
    const run = await spawnStoppedAt(["backup"], env, "backup:copied");
    await killHard(run);
    expect(readdirSync(backupDir).length).toBeGreaterThan(0);
    expect(readdirSync(backupDir).filter((name) => /^app-\d+\.db$/.test(name))).toEqual([]);
    const next = spawnPraApp(["backup"], env);
    expect(next.status).toBe(0);
    expect(readdirSync(backupDir)).toEqual([next.json().file]);
  });

  test("SIGTERM during a backup: it stops, cleans up, exits non-zero with a JSON line", async () => {
    const db = dir.join("data", "app.db");
    makeAppDatabase(db, 2000, 200);
    const backupDir = dir.join("backup");
    const run = await spawnStoppedAt(
      ["backup"],
      { DB_PATH: db, BACKUP_DIR: backupDir },
      "backup:copied",
    );
    run.child.kill("SIGTERM");
    const { code } = await run.exited;
    expect(code).toBe(143);
    const summary = summaryLine(run.stdout());
    expect(summary).toMatchObject({ command: "backup", ok: false });
    expect(String(summary.error)).toContain("stopped by SIGTERM");
    expect(readdirSync(backupDir)).toEqual([]);
  });

  test("a temporary file another live run is writing is left alone", async () => {
    const db = dir.join("data", "app.db");
    makeAppDatabase(db, 2000, 200);
    const backupDir = dir.join("backup");
    const env = { DB_PATH: db, BACKUP_DIR: backupDir };
    const live = await spawnStoppedAt(["backup"], env, "backup:copied");
    cleanups.push(() => killHard(live));
    const partial = readdirSync(backupDir);
    await new Promise((resolveWait) => setTimeout(resolveWait, 1100));
    const other = spawnPraApp(["backup"], env);
    expect(other.status).toBe(0);
    for (const name of partial) expect(existsSync(`${backupDir}/${name}`)).toBe(true);
  });
});

describe("8. a full backup volume recovers within the retention policy", () => {
  test("backup makes room by applying retention first, never deleting the newest valid point", async () => {
    const db = dir.join("data", "app.db");
    makeAppDatabase(db, 1500, 200);
    const backupDir = dir.join("backup");
    const volume = mountSmall(backupDir, 2 * 1024 * 1024);
    const env = { DB_PATH: db, BACKUP_DIR: backupDir };
    // Points a second apart, as a schedule would make them: the app's clock (Date.now, which
    // names a point) is moved on a second before each run instead of waited for.
    const startMs = Math.floor(Date.now() / 1000) * 1000;
    let second = 0;
    const clock = jest.spyOn(Date, "now").mockImplementation(() => startMs + second * 1000);
    try {
      const made: string[] = [];
      for (let i = 0; i < 6; i++) {
        second++;
        const run = await runPraApp(["backup"], env);
        if (run.status !== 0) break;
        made.push(String(run.json().file));
      }
      // Without a policy nothing may go: a full volume is a clear failure and nothing is deleted.
      second++;
      const full = await runPraApp(["backup"], env);
      expect(full.status).toBe(1);
      expect(full.stderr).toContain(`not enough free space in ${backupDir}`);
      expect(readdirSync(backupDir).sort()).toEqual([...made].sort());
      second++;
      const withPolicy = await runPraApp(["backup", "--keep-last", "2"], env);
      expect(withPolicy.status).toBe(0);
      expect(withPolicy.json().deleted_to_make_room).not.toEqual([]);
      const points = readdirSync(backupDir).sort();
      expect(points).toContain(made[made.length - 1]);
      expect(points).toContain(withPolicy.json().file);
      expect(volume.freeBytes()).toBeGreaterThan(0);
    } finally {
      clock.mockRestore();
    }
  });

  test("restore keeps at most --keep-aside moved-aside databases", async () => {
    const backupDir = dir.join("backup");
    plantPoint(backupDir, now() - 60, 4);
    const db = dir.join("data", "app.db");
    makeAppDatabase(db, 9);
    for (let i = 0; i < 4; i++) {
      const run = await runPraApp(["restore", "--keep-aside", "2"], {
        DB_PATH: db,
        BACKUP_DIR: backupDir,
      });
      expect(run.status).toBe(0);
    }
    const aside = readdirSync(dir.join("data")).filter((name) => name.includes(".pre-restore-"));
    expect(aside).toHaveLength(2);
  });

  test("restore checks free space first and says how much it needs", async () => {
    const backupDir = dir.join("backup");
    const source = dir.join("big.db");
    makeAppDatabase(source, 3000, 400);
    mkdirSync(backupDir);
    copyFileSync(source, `${backupDir}/app-${now() - 60}.db`);
    const volume = mountSmall(dir.join("data"), 512 * 1024);
    const db = dir.join("data", "app.db");
    makeAppDatabase(db, 3);
    volume.fill(64 * 1024);
    const run = await runPraApp(["restore"], { DB_PATH: db, BACKUP_DIR: backupDir });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`needs \\d+ bytes free in ${dir.join("data")}`));
    expect(run.stderr).toContain("nothing was changed");
    expect(eventIds(db)).toEqual(range(3));
  });
});

describe("9. only the app's own databases inside BACKUP_DIR are restore points", () => {
  function wrongSchema(path: string): void {
    const db = new Database(path);
    db.exec("CREATE TABLE events (id INTEGER PRIMARY KEY, body TEXT)");
    db.close();
  }

  test("a point without the app's columns fails verify and is skipped by restore", async () => {
    const backupDir = dir.join("backup");
    const good = plantPoint(backupDir, now() - 120, 4);
    const bad = `app-${now() - 10}.db`;
    wrongSchema(`${backupDir}/${bad}`);
    const env = { DB_PATH: dir.join("data", "app.db"), BACKUP_DIR: backupDir };
    const verify = await runPraApp(["verify", "--max-age", "1h"], env);
    expect(verify.status).toBe(1);
    expect(verify.stderr).toContain(`newest restore point ${bad} is not the app's database`);
    const restore = await runPraApp(["restore"], env);
    expect(restore.status).toBe(0);
    expect(restore.json()).toMatchObject({ restored: good, skipped: [{ file: bad }] });
    const named = await runPraApp(["restore", "--point", bad], env);
    expect(named.status).toBe(1);
    expect(named.stderr).toContain("the events table has no column message");
  });

  test("a link named like a point that leads outside BACKUP_DIR is not a point", async () => {
    const backupDir = dir.join("backup");
    const good = plantPoint(backupDir, now() - 120, 4);
    const outside = dir.join("elsewhere.db");
    makeAppDatabase(outside, 50);
    const link = `app-${now() - 5}.db`;
    symlinkSync(outside, `${backupDir}/${link}`);
    const env = { DB_PATH: dir.join("data", "app.db"), BACKUP_DIR: backupDir };
    const listing = await runPraApp(["backups"], env);
    const listed = z.array(z.object({ file: z.string() })).parse(listing.json().backups);
    expect(listed.map((point) => point.file)).toEqual([good]);
    const restore = await runPraApp(["restore"], env);
    expect(restore.json()).toMatchObject({ restored: good });
    const named = await runPraApp(["restore", "--point", link], env);
    expect(named.status).toBe(1);
    expect(named.stderr).toContain(`${link} is a link to ${outside}, outside ${backupDir}`);
  });
});

describe("10. /metrics serves what it can and reports what failed", () => {
  test("with the restore points unreadable and the database closed", async () => {
    const storage = sqliteStorage(openSqliteDatabase(dir.join("data", "app.db")));
    await storage.addEvent("one");
    const app = createApp(storage, () => Promise.reject(new Error("EACCES: /backup")));
    cleanups.push(() => app.shutdown());
    await new Promise<void>((resolveListen) => app.server.listen(0, "127.0.0.1", resolveListen));
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const first = await fetch(`${url}/metrics`);
    expect(first.status).toBe(200);
    const text = await first.text();
    expect(metricValue(text, 'pra_metrics_source_up{source="restore_points"}')).toBe(0);
    expect(metricValue(text, 'pra_metrics_source_up{source="database"}')).toBe(1);
    expect(metricValue(text, "pra_events")).toBe(1);
    // No restore point can be confirmed: the age is counted from the epoch, so age alerts fire.
    expect(metricValue(text, "pra_restore_point_newest_age_seconds")).toBeGreaterThan(1e9);
    const status = await fetch(`${url}/status`);
    expect(status.status).toBe(503);
    expect(await status.json()).toEqual({ error: "the restore points cannot be listed right now" });
    await storage.close();
    const second = await (await fetch(`${url}/metrics`)).text();
    expect(metricValue(second, 'pra_metrics_source_up{source="database"}')).toBe(0);
    expect(second).toContain("pra_http_requests_total");
  });

  test("with S3 unreachable: the export listing's failure is reported, not hidden behind a stale one", async () => {
    const storage = sqliteStorage(openSqliteDatabase(dir.join("data", "app.db")));
    const unreachable = new S3Client({
      endpoint: "http://127.0.0.1:1",
      forcePathStyle: true,
      region: "eu-west-3",
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
      maxAttempts: 1,
    });
    const listing = cachedExportListing(unreachable, {
      bucket: "b",
      prefix: "exports/",
      kmsKeyId: undefined,
    });
    const app = createApp(storage, listing);
    cleanups.push(() => app.shutdown());
    await new Promise<void>((resolveListen) => app.server.listen(0, "127.0.0.1", resolveListen));
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(metricValue(text, 'pra_metrics_source_up{source="restore_points"}')).toBe(0);
    expect(metricValue(text, "pra_restore_point_newest_age_seconds")).toBeGreaterThan(1e9);
  });
});

describe("minor: usage errors name the problem and the path", () => {
  test.each([
    [["serve"], { PORT: "" }, 'PORT must be a port number (0-65535); found ""'],
    [["serve"], { PORT: "80a" }, 'found "80a"'],
    [["restore", "--before", "2026-02-31T00:00:00Z"], {}, '"2026-02-31T00:00:00Z" is not a date'],
    [["restore", "--before", "2026-02-03T10:00:00"], {}, "add a zone: Z (UTC) or an offset"],
    [["verify", "--max-age", "5m5m"], {}, '"5m5m" is not a duration'],
    [["verify", "--max-age", "30s1m"], {}, '"30s1m" is not a duration'],
  ])("%j with %j is refused: %s", (args, env, message) => {
    // A process, not in this one: a PORT taken as valid would start a server here.
    const run = spawnPraApp(
      args,
      { DB_PATH: dir.join("app.db"), BACKUP_DIR: dir.join("b"), ...env },
      15_000,
    );
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(message);
  });

  test("a DB_PATH that is a directory is named in the error", () => {
    const db = dir.join("data", "app.db");
    mkdirSync(db, { recursive: true });
    const run = spawnPraApp(
      ["serve"],
      { DB_PATH: db, BACKUP_DIR: dir.join("b"), PORT: "0" },
      15_000,
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`DB_PATH ${db} is a directory`);
    const backup = spawnPraApp(["backup"], { DB_PATH: db, BACKUP_DIR: dir.join("b") });
    expect(backup.status).toBe(1);
    expect(backup.stderr).toContain(`${db} is a directory`);
  });

  test("a BACKUP_DIR that cannot be written is named in the error", () => {
    const db = dir.join("data", "app.db");
    makeAppDatabase(db, 2);
    const backupDir = dir.join("backup");
    mountSmall(backupDir, 64 * 1024);
    const remount = spawnSync("mount", ["-o", "remount,ro", backupDir], { encoding: "utf8" });
    expect(remount.stderr).toBe("");
    const run = spawnPraApp(["backup"], { DB_PATH: db, BACKUP_DIR: backupDir });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`cannot write in ${backupDir}`);
  });
});
