/** What a DR drill measured: the writes lost, the RPO and RTO, and whether a promise was broken. */
import type { LabConfig, PraConfig } from "../config";

export interface AckedWrite {
  readonly id: number;
  /** Wall-clock ms at which the service acknowledged the write. */
  readonly ackedAtMs: number;
}

export interface DrillMeasurements {
  readonly acked: readonly AckedWrite[];
  /** Wall-clock ms at which each successful backup was started. */
  readonly backupStartsMs: readonly number[];
  readonly disasterAtMs: number;
  /** Wall-clock ms of the first successful read of restored data. */
  readonly firstReadAtMs: number;
  /** Event ids present after the restore. */
  readonly restoredIds: ReadonlySet<number>;
}

export interface DrillVerdict {
  readonly rowsLost: number;
  /** Disaster time minus the acknowledgement time of the newest write that survived (0 when none lost). */
  readonly rpoSeconds: number;
  readonly rtoSeconds: number;
  /** Acknowledged writes older than the last successful backup that did not come back: must be 0. */
  readonly lostBeforeLastBackup: number;
  readonly lastBackupStartMs: number | undefined;
}

export function analyzeDrill(m: DrillMeasurements): DrillVerdict {
  const lost = m.acked.filter((write) => !m.restoredIds.has(write.id));
  const survived = m.acked.filter((write) => m.restoredIds.has(write.id));
  const lastBackupStartMs = m.backupStartsMs.filter((start) => start < m.disasterAtMs).at(-1);
  const lostBeforeLastBackup =
    lastBackupStartMs === undefined
      ? 0
      : lost.filter((write) => write.ackedAtMs < lastBackupStartMs).length;
  const newestSurvivorMs = Math.max(
    ...survived.map((write) => write.ackedAtMs),
    Number.NEGATIVE_INFINITY,
  );
  const recoveryPointMs = Number.isFinite(newestSurvivorMs)
    ? newestSurvivorMs
    : Math.min(...m.acked.map((w) => w.ackedAtMs));
  return {
    rowsLost: lost.length,
    rpoSeconds: lost.length === 0 ? 0 : (m.disasterAtMs - recoveryPointMs) / 1000,
    rtoSeconds: (m.firstReadAtMs - m.disasterAtMs) / 1000,
    lostBeforeLastBackup,
    lastBackupStartMs,
  };
}

/** What a drill will do, decided before anything runs. */
export interface DrillPlan {
  /** Seconds between two backups during the drill. */
  readonly backupIntervalSeconds: number;
  /** Seconds of writes before the disaster. */
  readonly durationSeconds: number;
  /** 1: the stack's own schedule; F: every interval divided by F. */
  readonly timeScale: number;
  /** The stack's own backup interval, in seconds. */
  readonly scheduleSeconds: number;
  /** One line for the drill's output: the schedule it runs, and whether it is time-scaled. */
  readonly description: string;
}

export interface DrillRequest {
  readonly durationSeconds?: number;
  /** Divide every interval by this factor. */
  readonly timeScale?: number;
  /** Shorthand for a time scale: a backup every this many seconds. */
  readonly intervalSeconds?: number;
}

/** A stack the drill does not model: it would measure something other than what it deploys. */
export class DrillRefused extends Error {}

/**
 * Refuses a stack the drill does not model. The drill runs the lab's design (SQLite, restore
 * points on a second volume, restore and restart); a target stack's recovery is RDS's and AWS
 * Backup's, which it does not model: measuring a local SQLite for it would print a false "pass".
 */
export function refuseUnmodelled(config: PraConfig): asserts config is LabConfig {
  if (config.topology !== "lab") {
    throw new DrillRefused(
      `stack ${config.stack} has the ${config.topology} topology: its data is in RDS PostgreSQL, ` +
        "restored by RDS and AWS Backup, which this drill does not model (it runs the lab's SQLite " +
        "backup and restore on this machine). Its figures are in docs/dr/" +
        `${config.stack}.md (npm run check).`,
    );
  }
}

/** The drill's schedule: the stack's own backup interval, or every interval shrunk by one factor. */
export function planDrill(config: LabConfig, request: DrillRequest = {}): DrillPlan {
  if (request.timeScale !== undefined && request.intervalSeconds !== undefined)
    throw new Error("--time-scale and --interval are alternatives: give one");
  const scheduleSeconds = config.backup.timing.intervalSeconds;
  const timeScale =
    request.timeScale ??
    (request.intervalSeconds !== undefined ? scheduleSeconds / request.intervalSeconds : 1);
  if (!(timeScale >= 1))
    throw new Error(`a time scale shrinks intervals: it must be at least 1, got ${timeScale}`);
  const backupIntervalSeconds = scheduleSeconds / timeScale;
  // Long enough for two backups by default: a drill without a restore point measures nothing.
  const durationSeconds = request.durationSeconds ?? 2.5 * backupIntervalSeconds;
  const description =
    timeScale === 1
      ? `the stack's own schedule: a backup every ${scheduleSeconds} s`
      : `TIME-SCALED x${round(timeScale)}: a backup every ${round(backupIntervalSeconds)} s ` +
        `instead of the stack's ${scheduleSeconds} s; the RPO's wait for the next backup is ` +
        `scaled back by x${round(timeScale)}, a backup's start-up and the RTO (restore and ` +
        "restart) are not scaled";
  return { backupIntervalSeconds, durationSeconds, timeScale, scheduleSeconds, description };
}

const round = (value: number) => Math.round(value * 100) / 100;

/**
 * The RPO a drill measured at a shrunk schedule, as the stack's own schedule would give it. What
 * is lost is what was written since the last backup's snapshot: up to one (shrunk) interval of
 * waiting for the next backup, which grows back by the scale, plus, when the disaster strikes
 * while the next backup is starting, that start-up, which no schedule shrinks.
 */
export function scaleRpoBack(
  rpoSeconds: number,
  timeScale: number,
  backupIntervalSeconds: number,
): number {
  const waiting = Math.min(rpoSeconds, backupIntervalSeconds);
  return waiting * timeScale + (rpoSeconds - waiting);
}

/** From the failure until a person starts the restore; no `seconds` when nothing bounds it. */
export interface TimeToAct {
  readonly seconds?: number;
  readonly basis: string;
}

export interface DrillJudgement {
  /** At the stack's own schedule (scaled back in a time-scaled drill). */
  readonly rpoSeconds: number;
  readonly rpoOk: boolean;
  /** The measured RTO plus the modelled time until someone acts; undefined when unbounded. */
  readonly rtoTotal: number | undefined;
  readonly rtoOk: boolean;
  /** The verdict's lines, as the drill prints them. */
  readonly lines: readonly string[];
}

/**
 * The measured RPO and RTO against the objectives. The RTO a drill measures starts when the
 * restore does; the objective counts from the failure, so the modelled time until someone acts
 * (the app-down page, then on-call's response) is added, or the RTO is unbounded without it.
 */
export function judgeDrill(input: {
  readonly verdict: DrillVerdict;
  readonly plan: DrillPlan;
  readonly acting: TimeToAct;
  readonly objectives: { readonly rpoSeconds: number; readonly rtoSeconds: number };
}): DrillJudgement {
  const { verdict, plan, acting, objectives: o } = input;
  const rpoSeconds = scaleRpoBack(verdict.rpoSeconds, plan.timeScale, plan.backupIntervalSeconds);
  const rpoOk = rpoSeconds <= o.rpoSeconds;
  const rtoTotal = acting.seconds === undefined ? undefined : verdict.rtoSeconds + acting.seconds;
  const rtoOk = rtoTotal !== undefined && rtoTotal <= o.rtoSeconds;
  const scaled =
    plan.timeScale === 1
      ? ""
      : `; time-scaled: ${verdict.rpoSeconds.toFixed(2)} s in the drill, ` +
        `its wait for the next backup x${round(plan.timeScale)}`;
  const acted =
    acting.seconds === undefined
      ? `and nothing bounds the time until someone acts (${acting.basis}) `
      : `+ ${acting.seconds} s modelled until someone acts (${acting.basis}) = ` +
        `${(rtoTotal ?? 0).toFixed(2)} s `;
  return {
    rpoSeconds,
    rpoOk,
    rtoTotal,
    rtoOk,
    lines: [
      `RPO measured: ${rpoSeconds.toFixed(2)} s, ${verdict.rowsLost} acknowledged rows lost ` +
        `(objective ${o.rpoSeconds} s) ${rpoOk ? "ok" : "MISSED"}${scaled}`,
      `RTO measured: ${verdict.rtoSeconds.toFixed(2)} s from disaster to the first read of ` +
        `restored data, ${acted}(objective ${o.rtoSeconds} s) ${rtoOk ? "ok" : "MISSED"}`,
    ],
  };
}
