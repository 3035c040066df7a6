/**
 * `npm run drill [-- --duration 20 --interval 5 --stack lab]`: a disaster-recovery drill on this machine.
 *
 * Runs the real `pra-app serve` on a SQLite file, a writer that records every acknowledged write, and
 * `pra-app backup` every --interval seconds (standing in for the CronJob). Then the disaster: the
 * service is killed and its data directory deleted. `pra-app restore` and a restart follow. Prints the
 * measured RPO (time and acknowledged rows lost) and RTO (disaster to the first successful read of
 * restored data) beside the stack's objectives. Exits 1 when an acknowledged write older than the last
 * successful backup was lost, or an objective was missed.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import Database from "better-sqlite3";
import { loadStack } from "../config";
import { type AckedWrite, analyzeDrill } from "./drill-analysis";

const BIN = join(__dirname, "..", "node_modules", ".bin", "pra-app");
const usage =
  "usage: npm run drill -- [--duration <s>] [--interval <s>] [--stack <stack>] [--keep]";

const sleep = (ms: number) => new Promise((resolveSleep) => setTimeout(resolveSleep, ms));

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === "object" && address ? address.port : 0));
    });
  });
}

interface Options {
  durationSeconds: number;
  intervalSeconds: number;
  stack: string;
  keep: boolean;
}

function readOptions(): Options | undefined {
  const { values } = parseArgs({
    options: {
      duration: { type: "string", default: "20" },
      interval: { type: "string", default: "5" },
      stack: { type: "string", default: "lab" },
      keep: { type: "boolean", default: false },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return undefined;
  const durationSeconds = Number(values.duration);
  const intervalSeconds = Number(values.interval);
  if (!(durationSeconds > 0) || !(intervalSeconds > 0))
    throw new Error(`--duration and --interval must be positive numbers\n${usage}`);
  return { durationSeconds, intervalSeconds, stack: values.stack, keep: values.keep };
}

async function main(): Promise<number> {
  let options: Options | undefined;
  try {
    options = readOptions();
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  if (!options) {
    console.log(usage);
    return 0;
  }
  const config = loadStack(options.stack);
  const dir = mkdtempSync(join(tmpdir(), "pra-drill-"));
  const dataDir = join(dir, "data");
  const dbPath = join(dataDir, "app.db");
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DB_PATH: dbPath,
    BACKUP_DIR: join(dir, "backup"),
  };
  delete env.DATABASE_URL;
  const children = new Set<ChildProcess>();
  // Interrupted (Ctrl-C, a test's timeout): stop the service and jobs and remove the files first.
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      for (const child of children) child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
      process.exit(1);
    });
  }
  const track = (child: ChildProcess) => {
    children.add(child);
    child.once("exit", () => children.delete(child));
    return child;
  };
  const runCommand = (args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolveRun) => {
      const child = track(spawn(BIN, args, { env }));
      let stdout = "";
      let stderr = "";
      child.stdout?.on("data", (chunk) => {
        stdout += chunk;
      });
      child.stderr?.on("data", (chunk) => {
        stderr += chunk;
      });
      child.once("close", (code) => resolveRun({ code, stdout, stderr }));
    });
  const startService = async () => {
    const port = await freePort();
    const child = track(
      spawn(BIN, ["serve"], { env: { ...env, PORT: String(port) }, stdio: "ignore" }),
    );
    return { child, url: `http://127.0.0.1:${port}` };
  };
  /** Polls until `GET /count` answers with at least `minimum` events; returns when it did. */
  const waitForCount = async (url: string, minimum: number, deadlineMs: number) => {
    while (Date.now() < deadlineMs) {
      try {
        const response = await fetch(`${url}/count`);
        if (response.ok && ((await response.json()) as { count: number }).count >= minimum)
          return Date.now();
      } catch {
        // not up yet
      }
      await sleep(20);
    }
    throw new Error("the service did not serve restored data in time");
  };

  try {
    console.log(
      `DR drill, stack ${config.stack}: writes for ${options.durationSeconds} s, ` +
        `a backup every ${options.intervalSeconds} s ` +
        `(the stack's CronJob: every ${config.backup.timing.intervalSeconds} s)`,
    );
    const first = await startService();
    await waitForCount(first.url, 0, Date.now() + 20_000);

    const acked: AckedWrite[] = [];
    let writing = true;
    const writer = (async () => {
      for (let n = 1; writing; n++) {
        try {
          const response = await fetch(`${first.url}/events`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ message: `drill-${n}` }),
          });
          if (response.status === 201)
            acked.push({
              id: ((await response.json()) as { id: number }).id,
              ackedAtMs: Date.now(),
            });
        } catch {
          // the service is gone: the write was not acknowledged
        }
      }
    })();

    const backupStartsMs: number[] = [];
    let backupsFailed = 0;
    let backingUp = true;
    const backups = (async () => {
      while (backingUp) {
        await sleep(options.intervalSeconds * 1000);
        if (!backingUp) break;
        const startedMs = Date.now();
        const run = await runCommand(["backup", "--keep-last", "10"]);
        if (run.code === 0) backupStartsMs.push(startedMs);
        else if (backingUp) backupsFailed++;
      }
    })();

    await sleep(options.durationSeconds * 1000);
    // A drill without a single restore point measures nothing: on a slow machine, wait for the first.
    const firstBackupDeadline = Date.now() + 120_000;
    while (backupStartsMs.length === 0 && Date.now() < firstBackupDeadline) await sleep(100);
    // The disaster: the node is gone with the data volume.
    const disasterAtMs = Date.now();
    first.child.kill("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
    writing = false;
    backingUp = false;
    await writer;
    const ackedBeforeDisaster = acked.filter((write) => write.ackedAtMs <= disasterAtMs);
    console.log(`disaster: service killed, ${dataDir} deleted`);

    const restoreRun = await runCommand(["restore"]);
    if (restoreRun.code !== 0) throw new Error(`pra-app restore failed: ${restoreRun.stderr}`);
    const restored = JSON.parse(restoreRun.stdout) as { restored: string; last_event_id: number };
    const second = await startService();
    // Restored data is served once the count is back to what the restore reported.
    const firstReadAtMs = await waitForCount(
      second.url,
      restored.last_event_id,
      Date.now() + config.objectives.rtoSeconds * 1000,
    );
    await backups;

    const db = new Database(dbPath, { readonly: true, fileMustExist: true });
    const restoredIds = new Set(
      (db.prepare("SELECT id FROM events").all() as { id: number }[]).map((row) => row.id),
    );
    db.close();
    const verdict = analyzeDrill({
      acked: ackedBeforeDisaster,
      backupStartsMs,
      disasterAtMs,
      firstReadAtMs,
      restoredIds,
    });
    const rpoOk = verdict.rpoSeconds <= config.objectives.rpoSeconds;
    const rtoOk = verdict.rtoSeconds <= config.objectives.rtoSeconds;
    console.log(
      `writes acknowledged: ${ackedBeforeDisaster.length}; ` +
        `backups: ${backupStartsMs.length} ok, ${backupsFailed} failed`,
    );
    console.log(`restored ${restored.restored} (events up to id ${restored.last_event_id})`);
    console.log(
      `RPO measured: ${verdict.rpoSeconds.toFixed(2)} s, ${verdict.rowsLost} acknowledged rows lost ` +
        `(objective ${config.objectives.rpoSeconds} s) ${rpoOk ? "ok" : "MISSED"}`,
    );
    console.log(
      `RTO measured: ${verdict.rtoSeconds.toFixed(2)} s from disaster to the first read of restored data ` +
        `(objective ${config.objectives.rtoSeconds} s) ${rtoOk ? "ok" : "MISSED"}`,
    );
    if (verdict.lostBeforeLastBackup > 0) {
      console.log(
        `LOST: ${verdict.lostBeforeLastBackup} acknowledged writes older than the last successful backup`,
      );
    }
    const passed =
      verdict.lostBeforeLastBackup === 0 && rpoOk && rtoOk && backupStartsMs.length > 0;
    console.log(
      JSON.stringify({
        drill: passed ? "pass" : "fail",
        stack: config.stack,
        rpo_seconds: verdict.rpoSeconds,
        rows_lost: verdict.rowsLost,
        rto_seconds: verdict.rtoSeconds,
        rpo_objective_seconds: config.objectives.rpoSeconds,
        rto_objective_seconds: config.objectives.rtoSeconds,
        lost_before_last_backup: verdict.lostBeforeLastBackup,
        backups: backupStartsMs.length,
        acknowledged: ackedBeforeDisaster.length,
      }),
    );
    return passed ? 0 : 1;
  } finally {
    for (const child of children) child.kill("SIGKILL");
    if (options.keep) console.log(`files kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`drill failed: ${(error as Error).message}`);
    process.exit(1);
  },
);
