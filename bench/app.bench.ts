/**
 * pra-app against what a careful operator does by hand, measured in the same run (medians):
 * - `pra-app backup` of a 100 MB database (its integrity check included) vs the sqlite3 CLI's `.backup`
 *   followed by `PRAGMA integrity_check` (target <= 1.3x); a plain `cp` is printed as the physical floor;
 * - insert latency through the service, p50/p99, with and without a backup running (target: p99 during
 *   a backup <= 2x p99 without);
 * - `pra-app restore` of that point vs a `cp` plus sqlite3's integrity check (target <= 1.3x).
 * The app runs as the image runs it: compiled by the Dockerfile's tsc command into a temporary
 * directory laid out like the runtime stage (dist/, bin/, package.json, no src/), started through
 * bin/pra-app.js, which then loads dist/ (not the tsx loader a checkout uses).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { formatSeconds, median, percentile, reportRow, timeCommand } from "./stats";

const ROOT = join(__dirname, "..");
const APP = join(ROOT, "apps", "pra-app");
const RUNS = Number(process.env.BENCH_RUNS ?? "5");
const TARGET_BYTES = 100 * 1024 * 1024;
const INSERTS = Number(process.env.BENCH_INSERTS ?? "1000");
const ROUNDS = 5;

const workDir = mkdtempSync(join(tmpdir(), "pra-app-bench-"));
const children: ChildProcess[] = [];
/** The image's /app: the runtime stage's layout (see apps/pra-app/Dockerfile). */
const IMAGE_APP = join(workDir, "image", "apps", "pra-app");
/** `pra-app` as the image's PATH has it. */
const MAIN = join(IMAGE_APP, "bin", "pra-app.js");

function build(): void {
  mkdirSync(IMAGE_APP, { recursive: true });
  const result = spawnSync(
    process.execPath,
    [
      join(ROOT, "node_modules", "typescript", "bin", "tsc"),
      "-p",
      join(APP, "tsconfig.json"),
      "--outDir",
      join(IMAGE_APP, "dist"),
    ],
    { stdio: "inherit" },
  );
  if (result.status !== 0) throw new Error("tsc failed");
  cpSync(join(APP, "bin"), join(IMAGE_APP, "bin"), { recursive: true });
  cpSync(join(APP, "package.json"), join(IMAGE_APP, "package.json"));
  symlinkSync(join(APP, "node_modules"), join(IMAGE_APP, "node_modules"));
  symlinkSync(join(ROOT, "node_modules"), join(workDir, "image", "node_modules"));
}

/** A service-shaped database of about 100 MB: WAL mode, the events table, 1 KB messages. */
function makeDatabase(path: string): void {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.exec(`CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, message TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))`);
  const insert = db.prepare("INSERT INTO events (message) VALUES (?)");
  const body = "m".repeat(1000);
  db.transaction(() => {
    for (let i = 0; i * 1340 < TARGET_BYTES; i++) insert.run(`${i}-${body}`);
  })();
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
}

function freePort(): Promise<number> {
  return new Promise((resolvePort) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === "object" && address ? address.port : 0));
    });
  });
}

const sleep = (ms: number) => new Promise((resolveSleep) => setTimeout(resolveSleep, ms));

function benchBackup(db: string): string {
  const ours: number[] = [];
  const manual: number[] = [];
  const copy: number[] = [];
  let lastPointDir = "";
  for (let run = 0; run < RUNS; run++) {
    const dir = join(workDir, `backup-${run}`);
    const manualDir = join(workDir, `manual-${run}`);
    mkdirSync(manualDir);
    ours.push(timeCommand(process.execPath, [MAIN, "backup", "--db", db, "--backup-dir", dir]));
    const copyPath = join(manualDir, "copy.db");
    manual.push(
      timeCommand("sh", [
        "-c",
        `sqlite3 '${db}' ".backup '${copyPath}'" && sqlite3 '${copyPath}' 'PRAGMA integrity_check' | grep -qx ok`,
      ]),
    );
    rmSync(copyPath);
    copy.push(timeCommand("cp", [db, copyPath]));
    rmSync(manualDir, { recursive: true });
    if (run < RUNS - 1) rmSync(dir, { recursive: true });
    else lastPointDir = dir;
  }
  console.log(
    reportRow(
      "pra-app backup (100 MB)  vs sqlite3 .backup + integrity_check",
      median(ours),
      median(manual),
      1.3,
    ),
  );
  console.log(
    `  cp (physical floor): ${formatSeconds(median(copy))}; pra-app/cp = ${(median(ours) / median(copy)).toFixed(2)}x`,
  );
  return lastPointDir;
}

function benchRestore(pointDir: string): void {
  const point = readdirSync(pointDir).find((name) => /^app-\d+\.db$/.test(name))!;
  const ours: number[] = [];
  const manual: number[] = [];
  const durable: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const dataDir = join(workDir, `restore-${run}`);
    ours.push(
      timeCommand(process.execPath, [
        MAIN,
        "restore",
        "--point",
        point,
        "--db",
        join(dataDir, "app.db"),
        "--backup-dir",
        pointDir,
      ]),
    );
    rmSync(dataDir, { recursive: true });
    const manualDir = join(workDir, `manual-restore-${run}`);
    mkdirSync(manualDir);
    const target = join(manualDir, "app.db");
    manual.push(
      timeCommand("sh", [
        "-c",
        `cp '${join(pointDir, point)}' '${target}' && sqlite3 '${target}' 'PRAGMA integrity_check' | grep -qx ok`,
      ]),
    );
    rmSync(target);
    durable.push(
      timeCommand("sh", [
        "-c",
        `cp '${join(pointDir, point)}' '${target}' && sync '${target}' && ` +
          `sqlite3 '${target}' 'PRAGMA integrity_check' | grep -qx ok`,
      ]),
    );
    rmSync(manualDir, { recursive: true });
  }
  console.log(
    reportRow(
      "pra-app restore (100 MB) vs cp + sqlite3 integrity_check",
      median(ours),
      median(manual),
      1.3,
    ),
  );
  console.log(
    `  the same by hand made durable (cp, sync of the file, integrity_check): ${formatSeconds(median(durable))}`,
  );
}

async function insertLatencies(url: string, count: number): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = process.hrtime.bigint();
    const response = await fetch(`${url}/events`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: `bench-${i}` }),
    });
    await response.arrayBuffer();
    if (response.status !== 201) throw new Error(`insert answered ${response.status}`);
    latencies.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  return latencies;
}

async function benchInsertLatency(db: string): Promise<void> {
  const port = await freePort();
  const service = spawn(process.execPath, [MAIN, "serve"], {
    env: {
      ...process.env,
      DB_PATH: db,
      BACKUP_DIR: join(workDir, "service-backups"),
      PORT: String(port),
      LOG_LEVEL: "warn",
    },
    stdio: "ignore",
  });
  children.push(service);
  const url = `http://127.0.0.1:${port}`;
  for (let tries = 0; ; tries++) {
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {
      if (tries > 200) throw new Error("service did not start");
    }
    await sleep(50);
  }
  await insertLatencies(url, 50); // warm-up

  // Backups back to back, each into its own directory, while a batch of inserts runs.
  let backups = 0;
  const whileBackingUp = async <T>(work: () => Promise<T>): Promise<T> => {
    let backingUp = true;
    const loop = (async () => {
      for (let n = 0; backingUp; n++) {
        const dir = join(workDir, `under-load-${backups}-${n}`);
        await new Promise<void>((resolveRun) => {
          const child = spawn(process.execPath, [MAIN, "backup", "--db", db, "--backup-dir", dir], {
            stdio: "ignore",
          });
          children.push(child);
          child.once("exit", (code) => {
            if (code === 0) backups++;
            resolveRun();
          });
        });
        rmSync(dir, { recursive: true, force: true });
      }
    })();
    await sleep(200); // let the backup get going
    try {
      return await work();
    } finally {
      backingUp = false;
      await loop;
    }
  };
  // Batches alternate, so that load from elsewhere on the machine falls on both sides alike.
  const idle: number[] = [];
  const busy: number[] = [];
  const batch = Math.ceil(INSERTS / ROUNDS);
  for (let round = 0; round < ROUNDS; round++) {
    idle.push(...(await insertLatencies(url, batch)));
    busy.push(...(await whileBackingUp(() => insertLatencies(url, batch))));
  }
  service.kill("SIGTERM");

  const p = (values: number[], q: number) => percentile(values, q);
  console.log(
    `insert latency without backup: p50 ${formatSeconds(p(idle, 50))}, ` +
      `p99 ${formatSeconds(p(idle, 99))} (${idle.length} inserts)`,
  );
  console.log(
    `insert latency during backups: p50 ${formatSeconds(p(busy, 50))}, ` +
      `p99 ${formatSeconds(p(busy, 99))} (${busy.length} inserts; ${backups} backups completed meanwhile)`,
  );
  console.log(
    reportRow("insert p99 during backup vs without              ", p(busy, 99), p(idle, 99), 2),
  );
}

async function main(): Promise<void> {
  try {
    build();
    const db = join(workDir, "app.db");
    makeDatabase(db);
    console.log(
      `database: ${(statSync(db).size / 1024 / 1024).toFixed(0)} MB, ${RUNS} runs each, medians`,
    );
    const pointDir = benchBackup(db);
    benchRestore(pointDir);
    await benchInsertLatency(db);
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    rmSync(workDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
