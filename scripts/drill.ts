/**
 * `npm run drill [-- --stack lab --time-scale 60 --duration 5]`: a disaster-recovery drill on this
 * machine, on the stack's own backup schedule unless told to shrink every interval by one factor.
 *
 * Runs the real `pra-app serve` on a SQLite file, a writer that records every acknowledged write,
 * and `pra-app backup` at the stack's backup interval (standing in for the CronJob). Then the
 * disaster: the service is killed and its data directory deleted. `pra-app restore` and a restart
 * follow. Prints the measured RPO (time and acknowledged rows lost) and RTO (disaster to the first
 * read of restored data) beside the stack's objectives; the RTO it judges adds the modelled time
 * until someone acts (the app-down alert and the on-call response, dr/alerting.ts). A real
 * Prometheus and Alertmanager (scripts/drill-alerting.ts) run the stack's rules and routes against
 * the service, at the drill's time scale: the drill prints when the first alert fired and when
 * the page arrived, beside the DR model's figures. Exits 1 when an acknowledged write older than
 * the last successful backup was lost, or an objective was missed; 2 on bad usage or a stack whose
 * topology it does not model (the target).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { z } from "zod";
import { type LabConfig, loadStack } from "../config";
import { assess } from "../dr/assess";
import { labTimeToAct } from "../dr/lab-scenarios";
import { type DrillAlerting, startDrillAlerting } from "./drill-alerting";
import {
  type AckedWrite,
  analyzeDrill,
  DrillRefused,
  type DrillPlan,
  type DrillRequest,
  judgeDrill,
  planDrill,
  refuseUnmodelled,
  type TimeToAct,
} from "./drill-analysis";
import {
  defineCommand,
  type Parsed,
  positiveNumber,
  runCommand,
  stackName,
  UsageError,
} from "./cli";

// What the app answers and prints, checked rather than trusted.
const COUNT = z.object({ count: z.number() });
const CREATED = z.object({ id: z.number() });
const RESTORED = z.object({ restored: z.string(), last_event_id: z.number() });
const ROWS = z.array(z.object({ id: z.number() }));

const BIN = join(__dirname, "..", "node_modules", ".bin", "pra-app");
const command = defineCommand({
  name: "npm run drill",
  synopsis:
    "[-- --stack <stack>] [--time-scale <factor> | --interval <s>] [--duration <s>] [--keep]",
  details: [
    "A disaster-recovery drill on this machine (the lab's topology only): writes, backups, the",
    "data deleted, a restore; prints the measured RPO and RTO beside the stack's objectives.",
    "Exit 1 when an acknowledged write before the last backup was lost or an objective missed.",
  ],
  options: {
    duration: { type: "string" },
    interval: { type: "string" },
    "time-scale": { type: "string" },
    stack: { type: "string", default: "lab" },
    keep: { type: "boolean", default: false },
  },
});

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
  readonly request: DrillRequest;
  readonly stack: string;
  readonly keep: boolean;
}

function readOptions({ values }: Parsed<typeof command.options>): Options {
  const optional = (name: string, text: string | undefined) =>
    text === undefined ? undefined : positiveNumber(name, text);
  const durationSeconds = optional("duration", values.duration);
  const intervalSeconds = optional("interval", values.interval);
  const timeScale = optional("time-scale", values["time-scale"]);
  const request: DrillRequest = {
    ...(durationSeconds !== undefined ? { durationSeconds } : {}),
    ...(intervalSeconds !== undefined ? { intervalSeconds } : {}),
    ...(timeScale !== undefined ? { timeScale } : {}),
  };
  return { request, stack: stackName(values.stack), keep: values.keep };
}

/** From the failure until a person starts the restore, as the DR model has it. */
function timeToAct(config: LabConfig): TimeToAct {
  const { facts } = assess(config);
  if (facts.topology !== "lab") throw new Error(`${config.file}: not a lab design`);
  const { bound, basis } = labTimeToAct(facts, config);
  return "seconds" in bound ? { seconds: bound.seconds, basis } : { basis };
}

async function main(args: Parsed<typeof command.options>): Promise<number> {
  const options = readOptions(args);
  let plan: DrillPlan;
  let config: LabConfig;
  try {
    const loaded = loadStack(options.stack);
    refuseUnmodelled(loaded);
    config = loaded;
    plan = planDrill(config, options.request);
  } catch (error) {
    // A stack the drill does not model is bad usage (2); an invalid stack file fails (1).
    if (error instanceof DrillRefused) throw new UsageError(`drill refused: ${error.message}`);
    throw error;
  }
  const acting = timeToAct(config);
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
        if (response.ok && COUNT.parse(await response.json()).count >= minimum) return Date.now();
      } catch {
        // not up yet
      }
      await sleep(20);
    }
    throw new Error("the service did not serve restored data in time");
  };

  let alerting: DrillAlerting | undefined;
  try {
    console.log(
      `DR drill, stack ${config.stack}: writes for ${plan.durationSeconds} s, ${plan.description}`,
    );
    const first = await startService();
    await waitForCount(first.url, 0, Date.now() + 20_000);
    // A real Prometheus and Alertmanager watch the service as the cluster's would (drill-alerting.ts).
    alerting = await startDrillAlerting(
      config,
      first.url,
      join(dir, "alerting"),
      track,
      plan.timeScale,
    );

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
              id: CREATED.parse(await response.json()).id,
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
        await sleep(plan.backupIntervalSeconds * 1000);
        if (!backingUp) break;
        const startedMs = Date.now();
        const run = await runCommand(["backup", "--keep-last", "10"]);
        if (run.code === 0) backupStartsMs.push(startedMs);
        else if (backingUp) backupsFailed++;
      }
    })();

    await sleep(plan.durationSeconds * 1000);
    // A drill without a single restore point measures nothing: on a slow machine, wait for the first.
    const firstBackupDeadline = Date.now() + 120_000;
    while (backupStartsMs.length === 0 && Date.now() < firstBackupDeadline) await sleep(100);
    await alerting.ready();
    // The disaster: the node is gone with the data volume.
    const disasterAtMs = Date.now();
    first.child.kill("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
    writing = false;
    backingUp = false;
    await writer;
    const ackedBeforeDisaster = acked.filter((write) => write.ackedAtMs <= disasterAtMs);
    console.log(`disaster: service killed, ${dataDir} deleted`);
    // Measured while the restore runs: the time to act the RTO adds is the model's.
    const alerted = alerting.measure(disasterAtMs);
    void alerted.catch(() => undefined);

    const restoreRun = await runCommand(["restore"]);
    if (restoreRun.code !== 0) throw new Error(`pra-app restore failed: ${restoreRun.stderr}`);
    const restored = RESTORED.parse(JSON.parse(restoreRun.stdout));
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
      ROWS.parse(db.prepare("SELECT id FROM events").all()).map((row) => row.id),
    );
    db.close();
    const verdict = analyzeDrill({
      acked: ackedBeforeDisaster,
      backupStartsMs,
      disasterAtMs,
      firstReadAtMs,
      restoredIds,
    });
    const judged = judgeDrill({
      verdict,
      plan,
      acting,
      objectives: config.objectives,
    });
    const { rpoSeconds, rpoOk, rtoTotal, rtoOk } = judged;
    console.log(
      `writes acknowledged: ${ackedBeforeDisaster.length}; ` +
        `backups: ${backupStartsMs.length} ok, ${backupsFailed} failed`,
    );
    console.log(`restored ${restored.restored} (events up to id ${restored.last_event_id})`);
    for (const line of judged.lines) console.log(line);
    const alert = await alerted;
    console.log(alert.line);
    const o = config.objectives;
    if (verdict.lostBeforeLastBackup > 0) {
      console.log(
        `LOST: ${verdict.lostBeforeLastBackup} acknowledged writes older than the last ` +
          "successful backup",
      );
    }
    const passed =
      verdict.lostBeforeLastBackup === 0 && rpoOk && rtoOk && backupStartsMs.length > 0;
    console.log(
      JSON.stringify({
        drill: passed ? "pass" : "fail",
        stack: config.stack,
        time_scale: plan.timeScale,
        backup_interval_seconds: plan.backupIntervalSeconds,
        rpo_seconds: rpoSeconds,
        rows_lost: verdict.rowsLost,
        rto_seconds: verdict.rtoSeconds,
        time_to_act_seconds: acting.seconds ?? null,
        time_to_alert_seconds: alert.firedSeconds,
        time_to_page_seconds: alert.pagedSeconds,
        model_time_to_page_seconds: alert.model.pagedWithinSeconds,
        rto_total_seconds: rtoTotal ?? null,
        rpo_objective_seconds: o.rpoSeconds,
        rto_objective_seconds: o.rtoSeconds,
        lost_before_last_backup: verdict.lostBeforeLastBackup,
        backups: backupStartsMs.length,
        acknowledged: ackedBeforeDisaster.length,
      }),
    );
    return passed ? 0 : 1;
  } finally {
    await alerting?.stop();
    for (const child of children) child.kill("SIGKILL");
    if (options.keep) console.log(`files kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

// Exits rather than waiting: a child the drill killed may still hold a pipe open for a moment.
runCommand(command, main, { exit: true });
