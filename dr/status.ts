/**
 * What an operator wants first during an incident (`npm run status -- --stack <stack>`), read
 * from the cluster through kubectl and judged against the stack's objectives: is the app ready,
 * how old is the newest restore point against the RPO (the lab's backups) or the export cadence
 * (a target's, where RDS holds the RPO), how did the last backup and restore test end, is a
 * CronJob suspended (a runbook that stopped half-way leaves them so), and which alerts fire (when
 * an Alertmanager is reachable).
 *
 * The newest restore point comes from the Jobs' own summary lines (`pra-app backup` and
 * `pra-app verify` print one JSON line naming the point and its time), so no pod needs to mount
 * the backup volume and the target's exports are read the same way.
 */
import { TASK_NAMES } from "../charts/constructs/database";
import { WORKSHOP } from "../charts/constructs/names";
import { formatDuration, type PraConfig } from "../config";

export interface CommandOutcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs kubectl with these arguments (the context and namespace already chosen by the caller). */
export type Kubectl = (args: readonly string[]) => Promise<CommandOutcome>;

export type JobState = "succeeded" | "failed" | "running";

export interface LastJob {
  readonly name: string;
  readonly state: JobState;
  /** ISO times, as the API server gives them. */
  readonly startedAt?: string;
  readonly finishedAt?: string;
  /** The app's summary line from the Job's log (`pra-app backup` / `verify`), when it has one. */
  readonly summary?: Readonly<Record<string, unknown>>;
}

export interface ScheduledTask {
  readonly cronJob: string;
  readonly found: boolean;
  readonly suspended: boolean;
  /** The newest Job the CronJob (or `kubectl create job --from`) made, if one is left. */
  readonly lastJob?: LastJob;
  /**
   * The newest of its Jobs that succeeded (the same as `lastJob` unless that one failed or runs):
   * its summary names the newest point this task made or verified, which a failed run since does
   * not take away (the CronJob keeps its successful Jobs apart: successfulJobsHistoryLimit).
   */
  readonly lastSuccess?: LastJob;
}

export interface RestorePointStatus {
  readonly file: string;
  readonly timestamp: number;
  readonly ageSeconds: number;
  /** How old the newest point may be before something is wrong (see {@link freshnessLimit}). */
  readonly limitSeconds: number;
  /** What the limit is: the RPO in the lab, the exports' cadence where the database holds the RPO. */
  readonly limitBasis: FreshnessLimit["basis"];
  readonly fresh: boolean;
  /** The Job whose summary named it. */
  readonly from: string;
}

export type AlertsStatus =
  | { readonly checked: false; readonly why: string }
  | { readonly checked: true; readonly error: string }
  | {
      readonly checked: true;
      readonly firing: readonly { name: string; severity?: string; since?: string }[];
    };

export interface StackStatus {
  readonly stack: string;
  readonly namespace: string;
  readonly ok: boolean;
  readonly app: { readonly ready: number; readonly desired: number; readonly found: boolean };
  readonly newestPoint?: RestorePointStatus;
  readonly backup: ScheduledTask;
  readonly restoreTest: ScheduledTask;
  readonly suspended: readonly string[];
  readonly alerts: AlertsStatus;
  /** Each thing that needs attention, one sentence each; empty when all is well. */
  readonly problems: readonly string[];
}

// The few fields read from kubectl's JSON, narrowed by checks rather than trusted.
type Json = Readonly<Record<string, unknown>>;
const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const field = (value: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((at, key) => (isObject(at) ? at[key] : undefined), value);
const text = (value: unknown): string | undefined =>
  typeof value === "string" ? value : undefined;
const count = (value: unknown): number => (typeof value === "number" ? value : 0);

export class ClusterUnreachable extends Error {
  override name = "ClusterUnreachable";
}

async function getJson(kubectl: Kubectl, args: readonly string[]): Promise<unknown> {
  const result = await kubectl([...args, "-o", "json"]);
  if (result.code !== 0) {
    if (/NotFound|not found/i.test(result.stderr)) return undefined;
    throw new ClusterUnreachable(
      `kubectl ${args.join(" ")} failed: ${result.stderr.trim() || `exit ${String(result.code)}`}`,
    );
  }
  return JSON.parse(result.stdout);
}

function jobState(job: unknown): JobState {
  const conditions = field(job, "status", "conditions");
  const holds = (type: string) =>
    Array.isArray(conditions) &&
    conditions.some((c) => field(c, "type") === type && field(c, "status") === "True");
  if (holds("Complete")) return "succeeded";
  if (holds("Failed")) return "failed";
  return "running";
}

/** A Job is the CronJob's when it owns it (scheduled or `kubectl create job --from`). */
function ownedBy(job: unknown, cronJob: string): boolean {
  const owners = field(job, "metadata", "ownerReferences");
  return (
    Array.isArray(owners) &&
    owners.some((o) => field(o, "kind") === "CronJob" && field(o, "name") === cronJob)
  );
}

/** The last JSON line of a log that names a `pra-app` command: its summary. */
export function summaryLine(log: string): Json | undefined {
  for (const line of log.trim().split("\n").reverse()) {
    if (!line.startsWith("{")) continue;
    try {
      const parsed: unknown = JSON.parse(line);
      if (isObject(parsed) && typeof parsed.command === "string") return parsed;
    } catch {
      // a log line that is not JSON
    }
  }
  return undefined;
}

/** A Job as the status shows it, with the summary line its log ends with. */
async function lastJobOf(kubectl: Kubectl, job: unknown): Promise<LastJob> {
  const name = text(field(job, "metadata", "name")) ?? "";
  const logs = await kubectl(["logs", `job/${name}`]);
  const summary = logs.code === 0 ? summaryLine(logs.stdout) : undefined;
  const startedAt = text(field(job, "status", "startTime"));
  const finishedAt = text(field(job, "status", "completionTime"));
  return {
    name,
    state: jobState(job),
    ...(startedAt !== undefined ? { startedAt } : {}),
    ...(finishedAt !== undefined ? { finishedAt } : {}),
    ...(summary !== undefined ? { summary } : {}),
  };
}

async function scheduledTask(
  kubectl: Kubectl,
  cronJob: string,
  jobs: readonly unknown[],
): Promise<ScheduledTask> {
  const cron = await getJson(kubectl, ["get", "cronjob", cronJob]);
  const owned = jobs
    .filter((job) => ownedBy(job, cronJob))
    .sort((a, b) =>
      (text(field(a, "metadata", "creationTimestamp")) ?? "").localeCompare(
        text(field(b, "metadata", "creationTimestamp")) ?? "",
      ),
    );
  const newest = owned.at(-1);
  const succeeded = owned.filter((job) => jobState(job) === "succeeded").at(-1);
  const lastJob = newest === undefined ? undefined : await lastJobOf(kubectl, newest);
  const lastSuccess =
    succeeded === undefined
      ? undefined
      : succeeded === newest
        ? lastJob
        : await lastJobOf(kubectl, succeeded);
  return {
    cronJob,
    found: cron !== undefined,
    suspended: field(cron, "spec", "suspend") === true,
    ...(lastJob !== undefined ? { lastJob } : {}),
    ...(lastSuccess !== undefined ? { lastSuccess } : {}),
  };
}

export interface FreshnessLimit {
  readonly seconds: number;
  readonly basis: "RPO" | "export cadence";
}

/**
 * How old the newest restore point may be. In the lab the backups hold the RPO; in the target
 * RDS holds it and the exports run at a cadence sized from the database (config/parse.ts), so
 * judging an hourly export against a 15-minute RPO would cry wolf most of each hour.
 */
export function freshnessLimit(config: PraConfig): FreshnessLimit {
  return {
    seconds: config.backup.overdueAfterSeconds,
    basis: config.backup.holdsRpo ? "RPO" : "export cadence",
  };
}

/** The newest point a successful Job's summary names: a backup's new point, or the verified one. */
function newestPoint(
  tasks: readonly ScheduledTask[],
  limit: FreshnessLimit,
  nowSeconds: number,
): RestorePointStatus | undefined {
  const named = tasks.flatMap((task) => {
    const job = task.lastSuccess;
    const file = text(job?.summary?.file);
    const timestamp = job?.summary?.timestamp;
    if (job === undefined || file === undefined || typeof timestamp !== "number") return [];
    return [{ file, timestamp, from: `job/${job.name}` }];
  });
  const newest = named.sort((a, b) => b.timestamp - a.timestamp)[0];
  if (newest === undefined) return undefined;
  const ageSeconds = Math.max(0, nowSeconds - newest.timestamp);
  return {
    ...newest,
    ageSeconds,
    limitSeconds: limit.seconds,
    limitBasis: limit.basis,
    fresh: ageSeconds <= limit.seconds,
  };
}

/** Firing alerts from Alertmanager's v2 API, this stack's namespace only (or no namespace). */
export async function readAlerts(
  alertmanagerUrl: string | undefined,
  namespace: string,
): Promise<AlertsStatus> {
  if (alertmanagerUrl === undefined)
    return {
      checked: false,
      why:
        "no --alertmanager <url> given (kubectl port-forward to the Alertmanager service, " +
        "then --alertmanager http://127.0.0.1:9093)",
    };
  try {
    const url = new URL(
      "api/v2/alerts?active=true&silenced=false&inhibited=false",
      alertmanagerUrl,
    );
    const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
    if (!response.ok) return { checked: true, error: `${url.href} answered ${response.status}` };
    const body: unknown = await response.json();
    const alerts = Array.isArray(body) ? body : [];
    const firing = alerts
      .filter((alert) => {
        const ns = text(field(alert, "labels", "namespace"));
        return ns === undefined || ns === namespace;
      })
      .map((alert) => {
        const severity = text(field(alert, "labels", "severity"));
        const since = text(field(alert, "startsAt"));
        return {
          name: text(field(alert, "labels", "alertname")) ?? "(unnamed)",
          ...(severity !== undefined ? { severity } : {}),
          ...(since !== undefined ? { since } : {}),
        };
      });
    return { checked: true, firing };
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return { checked: true, error: `Alertmanager at ${alertmanagerUrl} unreachable: ${why}` };
  }
}

/** The stack's status; throws ClusterUnreachable when kubectl cannot read the namespace. */
export async function stackStatus(
  config: PraConfig,
  kubectl: Kubectl,
  options: { nowSeconds: number; alerts: AlertsStatus },
): Promise<StackStatus> {
  const names = TASK_NAMES[config.topology === "lab" ? "sqlite" : "postgres"];
  const deployment = await getJson(kubectl, ["get", "deployment", WORKSHOP.app]);
  const jobList = await getJson(kubectl, ["get", "jobs"]);
  const items = field(jobList, "items");
  const jobs = Array.isArray(items) ? items : [];
  const backup = await scheduledTask(kubectl, names.backup, jobs);
  const restoreTest = await scheduledTask(kubectl, names.restoreTest, jobs);
  const app = {
    found: deployment !== undefined,
    desired: count(field(deployment, "spec", "replicas")),
    ready: count(field(deployment, "status", "readyReplicas")),
  };
  const limit = freshnessLimit(config);
  const point = newestPoint([backup, restoreTest], limit, options.nowSeconds);
  const suspended = [backup, restoreTest].filter((t) => t.suspended).map((t) => t.cronJob);

  const problems: string[] = [];
  if (!app.found) problems.push(`deployment/${WORKSHOP.app} does not exist in ${config.namespace}`);
  else if (app.desired === 0)
    problems.push(`the app is scaled to zero (a restore stopped half-way leaves it so)`);
  else if (app.ready < app.desired)
    problems.push(`the app is not ready: ${app.ready}/${app.desired} replicas`);
  if (point === undefined)
    problems.push("no restore point is known: no successful backup or restore-test Job is left");
  else if (!point.fresh)
    problems.push(
      `the newest restore point ${point.file} is ${formatDuration(point.ageSeconds)} old, ` +
        `over the ${limit.basis} of ${formatDuration(limit.seconds)}`,
    );
  for (const task of [backup, restoreTest]) {
    if (!task.found) problems.push(`cronjob/${task.cronJob} does not exist`);
    if (task.lastJob?.state === "failed")
      problems.push(
        `the last job of cronjob/${task.cronJob}, job/${task.lastJob.name}, failed: ` +
          `kubectl -n ${config.namespace} logs job/${task.lastJob.name}`,
      );
  }
  for (const name of suspended)
    problems.push(
      `cronjob/${name} is suspended: resume it once the restore is done ` +
        `(kubectl -n ${config.namespace} patch cronjob ${name} -p '{"spec":{"suspend":false}}')`,
    );
  if ("firing" in options.alerts)
    for (const alert of options.alerts.firing) problems.push(`alert firing: ${alert.name}`);

  return {
    stack: config.stack,
    namespace: config.namespace,
    ok: problems.length === 0,
    app,
    ...(point !== undefined ? { newestPoint: point } : {}),
    backup,
    restoreTest,
    suspended,
    alerts: options.alerts,
    problems,
  };
}

/** The status as lines for a terminal. */
export function statusText(status: StackStatus): string {
  const task = (label: string, t: ScheduledTask) => {
    const job = t.lastJob;
    const last = job
      ? `job/${job.name} ${job.state}${job.finishedAt ? ` at ${job.finishedAt}` : ""}`
      : "no job left";
    return `${label.padEnd(14)}cronjob/${t.cronJob}${t.suspended ? " (SUSPENDED)" : ""}: ${last}`;
  };
  const point = status.newestPoint;
  const alerts = status.alerts;
  return [
    `stack ${status.stack}, namespace ${status.namespace}: ${status.ok ? "OK" : "NEEDS ATTENTION"}`,
    `${"app".padEnd(14)}${status.app.found ? `${status.app.ready}/${status.app.desired} ready` : "no deployment"}`,
    `${"restore point".padEnd(14)}${
      point
        ? `${point.file}, ${formatDuration(point.ageSeconds)} old ` +
          `(${point.limitBasis} ${formatDuration(point.limitSeconds)}` +
          `${point.fresh ? ", within" : ", OVER"}), from ${point.from}`
        : "none known"
    }`,
    task("backup", status.backup),
    task("restore test", status.restoreTest),
    `${"alerts".padEnd(14)}${
      !alerts.checked
        ? `not checked: ${alerts.why}`
        : "error" in alerts
          ? alerts.error
          : alerts.firing.length === 0
            ? "none firing"
            : alerts.firing
                .map((a) => `${a.name}${a.severity ? ` (${a.severity})` : ""}`)
                .join(", ")
    }`,
    ...status.problems.map((problem) => `  - ${problem}`),
  ].join("\n");
}
