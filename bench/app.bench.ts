/**
 * pra-app against what a careful operator does by hand, measured in the same run (medians):
 * - `pra-app backup` of a 100 MB database (its integrity check included) vs the sqlite3 CLI's `.backup`
 *   followed by `PRAGMA integrity_check` (target <= 1.3x); a plain `cp` is printed as the physical floor;
 * - insert latency through the service, p50/p99, with and without a backup running (target: p99 during
 *   a backup <= 2x p99 without);
 * - `pra-app restore` of that point vs a `cp` plus sqlite3's integrity check (target <= 1.3x);
 * - the trade-off between the copy's pace (`backup --max-copy-rate`) and insert latency: for each pace,
 *   the backup's duration under the insert load and the p99 ratio, so that the default is a choice.
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

/** The default --max-copy-rate (apps/pra-app/src/cli.ts), read from the built CLI's help. */
function defaultPace(): number {
  const help = spawnSync(process.execPath, [MAIN, "backup", "--help"], { encoding: "utf8" });
  const match = /--max-copy-rate <MiB\/s>[\s\S]*?\(default: (\d+(?:\.\d+)?)\)/.exec(help.stdout);
  if (!match?.[1]) throw new Error(`no default --max-copy-rate in:\n${help.stdout}`);
  return Number(match[1]);
}

let defaultPaceMiB = 0;

function benchBackup(db: string): { pointDir: string; manualSeconds: number } {
  const ours: number[] = [];
  const unpaced: number[] = [];
  const manual: number[] = [];
  const copy: number[] = [];
  let lastPointDir = "";
  for (let run = 0; run < RUNS; run++) {
    const dir = join(workDir, `backup-${run}`);
    const manualDir = join(workDir, `manual-${run}`);
    mkdirSync(manualDir);
    ours.push(timeCommand(process.execPath, [MAIN, "backup", "--db", db, "--backup-dir", dir]));
    rmSync(dir, { recursive: true });
    unpaced.push(
      timeCommand(process.execPath, [
        ...[MAIN, "backup", "--db", db, "--backup-dir", dir],
        ...["--max-copy-rate", "0"],
      ]),
    );
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
      `pra-app backup (100 MB, default pace ${defaultPaceMiB || "unpaced"}) vs sqlite3 .backup + integrity_check`,
      median(ours),
      median(manual),
      1.3,
    ),
  );
  console.log(
    reportRow(
      "pra-app backup (100 MB, unpaced: --max-copy-rate 0) vs the same by hand",
      median(unpaced),
      median(manual),
      1.3,
    ),
  );
  console.log(
    `  cp (physical floor): ${formatSeconds(median(copy))}; pra-app/cp = ${(median(ours) / median(copy)).toFixed(2)}x`,
  );
  return { pointDir: lastPointDir, manualSeconds: median(manual) };
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
  // What a node process costs before it does anything, against two native binaries by hand.
  const startUp = median(
    Array.from({ length: RUNS }, () => timeCommand(process.execPath, ["-e", "0"])),
  );
  const appStartUp = median(
    Array.from({ length: RUNS }, () => timeCommand(process.execPath, [MAIN, "--help"])),
  );
  console.log(
    `  start-up: node alone ${formatSeconds(startUp)}, pra-app --help ${formatSeconds(appStartUp)}; ` +
      `restore less the app's start-up: ${formatSeconds(median(ours) - appStartUp)} = ` +
      `${((median(ours) - appStartUp) / median(manual)).toFixed(2)}x the by-hand baseline`,
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

/** The --max-copy-rate values (MiB/s) the trade-off table compares; 0 is the unpaced copy. */
const PACES = (process.env.BENCH_PACES ?? "0,200,100").split(",").map(Number);

interface PaceResult {
  readonly pace: number;
  readonly idleP99: number;
  readonly busyP99: number;
  readonly busyP50: number;
  /** Median duration of the backups that ran during the busy batches (under the insert load). */
  readonly backupSeconds: number;
  readonly backups: number;
}

async function benchInsertLatency(db: string, manualBackupSeconds: number): Promise<void> {
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
  const whileBackingUp = async <T>(
    pace: number,
    durations: number[],
    work: () => Promise<T>,
  ): Promise<T> => {
    let backingUp = true;
    const loop = (async () => {
      for (let n = 0; backingUp; n++) {
        const dir = join(workDir, `under-load-${pace}-${n}`);
        const started = process.hrtime.bigint();
        await new Promise<void>((resolveRun) => {
          const args = [MAIN, "backup", "--db", db, "--backup-dir", dir];
          const child = spawn(process.execPath, [...args, "--max-copy-rate", String(pace)], {
            stdio: "ignore",
          });
          children.push(child);
          child.once("exit", (code) => {
            if (code === 0) durations.push(Number(process.hrtime.bigint() - started) / 1e9);
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

  const results: PaceResult[] = [];
  const batch = Math.ceil(INSERTS / ROUNDS);
  for (const pace of PACES) {
    // Batches alternate, so that load from elsewhere on the machine falls on both sides alike.
    const idle: number[] = [];
    const busy: number[] = [];
    const durations: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      idle.push(...(await insertLatencies(url, batch)));
      busy.push(...(await whileBackingUp(pace, durations, () => insertLatencies(url, batch))));
    }
    results.push({
      pace,
      idleP99: percentile(idle, 99),
      busyP99: percentile(busy, 99),
      busyP50: percentile(busy, 50),
      backupSeconds: durations.length > 0 ? median(durations) : Number.NaN,
      backups: durations.length,
    });
  }
  service.kill("SIGTERM");

  console.log(
    `\ntrade-off: the copy's pace (--max-copy-rate) against insert latency, ${INSERTS} inserts per side`,
  );
  console.log(
    "  pace        | backup under load | vs sqlite3 by hand | insert p50 busy | p99 idle | p99 busy | p99 ratio",
  );
  for (const result of results) {
    const label = result.pace === 0 ? "unpaced" : `${result.pace} MiB/s`;
    const isDefault = result.pace === defaultPaceMiB ? " (default)" : "";
    console.log(
      `  ${(label + isDefault).padEnd(11)} | ${formatSeconds(result.backupSeconds).padStart(17)} | ` +
        `${(result.backupSeconds / manualBackupSeconds).toFixed(2).padStart(17)}x | ` +
        `${formatSeconds(result.busyP50).padStart(15)} | ${formatSeconds(result.idleP99).padStart(8)} | ` +
        `${formatSeconds(result.busyP99).padStart(8)} | ${(result.busyP99 / result.idleP99).toFixed(2)}x` +
        ` (${result.backups} backups)`,
    );
  }
  const chosen = results.find((result) => result.pace === defaultPaceMiB) ?? results[0];
  if (chosen) {
    console.log(
      reportRow(
        "insert p99 during backup vs without (default pace)",
        chosen.busyP99,
        chosen.idleP99,
        2,
      ),
    );
  }
}

async function main(): Promise<void> {
  try {
    build();
    const db = join(workDir, "app.db");
    makeDatabase(db);
    console.log(
      `database: ${(statSync(db).size / 1024 / 1024).toFixed(0)} MB, ${RUNS} runs each, medians`,
    );
    defaultPaceMiB = defaultPace();
    const { pointDir, manualSeconds } = benchBackup(db);
    benchRestore(pointDir);
    await benchInsertLatency(db, manualSeconds);
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    rmSync(workDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
