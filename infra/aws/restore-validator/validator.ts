/**
 * What the restore-test validator decides, apart from the Lambda's wiring (handler.ts): which
 * restore jobs are this stack's restore tests, what is checked on the restored resource, and the
 * result reported to AWS Backup. The AWS clients are passed in, so tests feed them recorded API
 * responses.
 *
 * A check is one `RestoreCheck`: the restored instance's metadata (status, encryption, engine),
 * and its data (connect with the stack's credentials over TLS, count the events, read the newest
 * one's time).
 */
import {
  type BackupClient,
  DescribeRestoreJobCommand,
  type DescribeRestoreJobCommandOutput,
  PutRestoreValidationResultCommand,
} from "@aws-sdk/client-backup";
import { DescribeDBInstancesCommand, type RDSClient } from "@aws-sdk/client-rds";
import { GetSecretValueCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { VALIDATION_METRIC } from "./settings";

/** The restore job a restore test started, as DescribeRestoreJob returns it. */
export type RestoreJob = DescribeRestoreJobCommandOutput;

/** A restored resource to check: what the restore job created. */
export interface RestoredResource {
  readonly restoreJobId: string;
  readonly resourceType: string;
  readonly arn: string;
}

/** One check of a restored resource. It returns the problems it found: none means it passed. */
export interface RestoreCheck {
  readonly name: string;
  readonly resourceType: string;
  check(restored: RestoredResource): Promise<readonly string[]>;
}

export interface ValidatorSettings {
  readonly backup: BackupClient;
  /** The restore testing plan whose jobs this validator checks (this stack's). */
  readonly restoreTestingPlanArn: string;
  readonly checks: readonly RestoreCheck[];
}

export type Verdict =
  | { readonly restoreJobId: string; readonly skipped: string }
  | {
      readonly restoreJobId: string;
      readonly status: "SUCCESSFUL" | "FAILED";
      readonly message: string;
    };

/** The restore job id of an EventBridge "Restore Job State Change" event; refuses anything else. */
export function restoreJobIdOf(event: unknown): string {
  const detail: unknown =
    typeof event === "object" && event !== null && "detail" in event ? event.detail : undefined;
  if (
    typeof detail === "object" &&
    detail !== null &&
    "restoreJobId" in detail &&
    typeof detail.restoreJobId === "string" &&
    detail.restoreJobId !== ""
  )
    return detail.restoreJobId;
  throw new Error(
    `expected a Restore Job State Change event with a restoreJobId; found ${JSON.stringify(event)}`,
  );
}

/**
 * The resource to check, or why the job is not this validator's to check. The restore testing
 * plan that started a job is under `CreatedBy` in DescribeRestoreJob's response; a job restored
 * by hand has no `CreatedBy`, and another plan's job is that plan's to validate.
 */
export function restoredResourceOf(
  job: RestoreJob,
  restoreTestingPlanArn: string,
): RestoredResource | { readonly skipped: string } {
  const planArn = job.CreatedBy?.RestoreTestingPlanArn;
  if (!planArn) return { skipped: "not started by a restore testing plan" };
  if (planArn !== restoreTestingPlanArn) return { skipped: `started by another plan (${planArn})` };
  if (!job.RestoreJobId || !job.ResourceType || !job.CreatedResourceArn)
    return { skipped: "the job names no created resource" };
  return {
    restoreJobId: job.RestoreJobId,
    resourceType: job.ResourceType,
    arn: job.CreatedResourceArn,
  };
}

/** Runs the checks; a check that throws counts as a problem, and so does having none. */
export async function problemsOf(
  restored: RestoredResource,
  checks: readonly RestoreCheck[],
): Promise<string[]> {
  if (checks.length === 0) return [`no check for a restored ${restored.resourceType}`];
  const problems: string[] = [];
  for (const check of checks) {
    try {
      problems.push(...(await check.check(restored)));
    } catch (error) {
      problems.push(`${check.name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return problems;
}

/** What the validator does with one event: describe the job, check it, report the result. */
export async function validateRestoreJob(
  event: unknown,
  settings: ValidatorSettings,
): Promise<Verdict> {
  const restoreJobId = restoreJobIdOf(event);
  const job = await settings.backup.send(
    new DescribeRestoreJobCommand({ RestoreJobId: restoreJobId }),
  );
  const restored = restoredResourceOf(job, settings.restoreTestingPlanArn);
  if ("skipped" in restored) return { restoreJobId, skipped: restored.skipped };
  const checks = settings.checks.filter((check) => check.resourceType === restored.resourceType);
  const problems = await problemsOf(restored, checks);
  const verdict: Verdict = {
    restoreJobId,
    ...(problems.length === 0
      ? { status: "SUCCESSFUL", message: checks.map((check) => check.name).join("; ") }
      : { status: "FAILED", message: problems.join("; ") }),
  };
  await settings.backup.send(
    new PutRestoreValidationResultCommand({
      RestoreJobId: restoreJobId,
      ValidationStatus: verdict.status,
      ValidationStatusMessage: verdict.message,
    }),
  );
  return verdict;
}

/**
 * The verdict as a CloudWatch embedded-metric-format document (one JSON line on standard output):
 * CloudWatch Logs turns it into the metric VALIDATION_METRIC, 1 for a passing validation and 0 for
 * a failing one. A skipped job (not this stack's restore test) emits nothing.
 */
export function verdictMetricLine(
  verdict: Verdict,
  stack: string,
  nowMs: number,
): string | undefined {
  if ("skipped" in verdict) return undefined;
  return JSON.stringify({
    _aws: {
      Timestamp: nowMs,
      CloudWatchMetrics: [
        {
          Namespace: VALIDATION_METRIC.namespace,
          Dimensions: [[VALIDATION_METRIC.dimension]],
          Metrics: [{ Name: VALIDATION_METRIC.name, Unit: "Count" }],
        },
      ],
    },
    [VALIDATION_METRIC.dimension]: stack,
    [VALIDATION_METRIC.name]: verdict.status === "SUCCESSFUL" ? 1 : 0,
    restoreJobId: verdict.restoreJobId,
  });
}

/**
 * The restored RDS instance's metadata: available, storage encrypted, PostgreSQL. It says the
 * snapshot restored into a usable instance, not that the data is there (a query does that).
 */
export function rdsInstanceCheck(rds: RDSClient): RestoreCheck {
  return {
    name: "restored PostgreSQL is available and encrypted",
    resourceType: "RDS",
    async check(restored) {
      // DescribeDBInstances takes the instance's ARN as its identifier.
      const found = await rds.send(
        new DescribeDBInstancesCommand({ DBInstanceIdentifier: restored.arn }),
      );
      const [db] = found.DBInstances ?? [];
      if (!db) return ["restored instance not found"];
      const problems: string[] = [];
      if (db.DBInstanceStatus !== "available") problems.push(`status ${db.DBInstanceStatus}`);
      if (db.StorageEncrypted !== true) problems.push("storage not encrypted");
      if (db.Engine !== "postgres") problems.push(`engine ${db.Engine}`);
      return problems;
    },
  };
}

/** What the database secret (`pra/<stack>/database`) holds that a connection needs. */
export interface DatabaseLogin {
  readonly username: string;
  readonly password: string;
  readonly dbname: string;
}

/** The login in the database secret. The restored instance has the source's master password. */
export async function loginFromSecret(
  secrets: SecretsManagerClient,
  secretId: string,
): Promise<DatabaseLogin> {
  const found = await secrets.send(new GetSecretValueCommand({ SecretId: secretId }));
  const parsed: unknown = JSON.parse(found.SecretString ?? "null");
  if (
    typeof parsed === "object" &&
    parsed !== null &&
    "username" in parsed &&
    typeof parsed.username === "string" &&
    "password" in parsed &&
    typeof parsed.password === "string" &&
    "dbname" in parsed &&
    typeof parsed.dbname === "string"
  )
    return { username: parsed.username, password: parsed.password, dbname: parsed.dbname };
  // Never the secret's text in a message: it holds the password.
  throw new Error(`the secret ${secretId} has no username, password and dbname`);
}

/** Where and as whom to connect. */
export interface QueryTarget {
  readonly host: string;
  readonly port: number;
  readonly login: DatabaseLogin;
}

/** Runs one query and returns its rows (the handler's runs it over TLS, verify-full). */
export type Query = (target: QueryTarget, sql: string) => Promise<Record<string, unknown>[]>;

/** What the data check found, for the function's log. */
export interface RestoredData {
  readonly restoreJobId: string;
  readonly events: number;
  /** Unix seconds of the newest event, or null when there is none. */
  readonly newestEventSeconds: number | null;
}

const EVENTS_QUERY =
  "SELECT count(*)::text AS events, floor(extract(epoch FROM max(created_at)))::text AS newest FROM events";

/**
 * The restored instance's data: a connection with the stack's credentials succeeds and the app's
 * events table answers (rows counted, the newest one's time read). What it found goes to `record`
 * (the function's log); a missing table or a failed connection is a problem.
 */
export function rdsDataCheck(
  rds: RDSClient,
  login: () => Promise<DatabaseLogin>,
  query: Query,
  record: (found: RestoredData) => void,
): RestoreCheck {
  return {
    name: "restored PostgreSQL answers with its events",
    resourceType: "RDS",
    async check(restored) {
      const found = await rds.send(
        new DescribeDBInstancesCommand({ DBInstanceIdentifier: restored.arn }),
      );
      const endpoint = found.DBInstances?.[0]?.Endpoint;
      if (!endpoint?.Address || endpoint.Port === undefined)
        return ["the restored instance has no endpoint to query"];
      const target = { host: endpoint.Address, port: endpoint.Port, login: await login() };
      let rows: Record<string, unknown>[];
      try {
        rows = await query(target, EVENTS_QUERY);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        return [`querying the restored events failed: ${message}`];
      }
      const [row] = rows;
      const events = Number(row?.events);
      if (!Number.isInteger(events)) return ["the restored events could not be counted"];
      const newest = typeof row?.newest === "string" ? Number(row.newest) : null;
      record({ restoreJobId: restored.restoreJobId, events, newestEventSeconds: newest });
      return [];
    },
  };
}
