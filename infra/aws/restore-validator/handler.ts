/**
 * The restore-test validator's Lambda entry point (bundled by bundle.ts): run by EventBridge
 * when a restore job completes, it checks the restored database of this stack's restore tests
 * and reports SUCCESSFUL or FAILED to AWS Backup (validator.ts decides). Its log line is the
 * verdict, as JSON, and a second line the verdict's metric (embedded metric format), which an
 * alarm watches. Clients are made once per Lambda instance, with the function's role.
 */
import { BackupClient } from "@aws-sdk/client-backup";
import { RDSClient } from "@aws-sdk/client-rds";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { Client } from "pg";
import { PLAN_ARN_VARIABLE, SECRET_VARIABLE, STACK_VARIABLE } from "./settings";
import {
  loginFromSecret,
  type Query,
  rdsDataCheck,
  rdsInstanceCheck,
  validateRestoreJob,
  type Verdict,
  verdictMetricLine,
} from "./validator";

const backup = new BackupClient({});
const rds = new RDSClient({});
const secrets = new SecretsManagerClient({});

/**
 * One query over TLS, the server's certificate checked against the RDS authorities (the runtime's
 * bundle, NODE_EXTRA_CA_CERTS) and its name against the host: as the app connects (verify-full).
 */
const query: Query = async ({ host, port, login }, sql) => {
  const client = new Client({
    host,
    port,
    user: login.username,
    password: login.password,
    database: login.dbname,
    ssl: { rejectUnauthorized: true, servername: host },
    connectionTimeoutMillis: 10_000,
    statement_timeout: 20_000,
  });
  await client.connect();
  try {
    return (await client.query<Record<string, unknown>>(sql)).rows;
  } finally {
    await client.end();
  }
};

export async function handler(event: unknown): Promise<Verdict> {
  const restoreTestingPlanArn = process.env[PLAN_ARN_VARIABLE];
  if (!restoreTestingPlanArn) throw new Error(`${PLAN_ARN_VARIABLE} is not set`);
  const stack = process.env[STACK_VARIABLE];
  if (!stack) throw new Error(`${STACK_VARIABLE} is not set`);
  const secretId = process.env[SECRET_VARIABLE];
  if (!secretId) throw new Error(`${SECRET_VARIABLE} is not set`);
  const verdict = await validateRestoreJob(event, {
    backup,
    restoreTestingPlanArn,
    checks: [
      rdsInstanceCheck(rds),
      rdsDataCheck(
        rds,
        () => loginFromSecret(secrets, secretId),
        query,
        (found) => console.log(JSON.stringify(found)),
      ),
    ],
  });
  console.log(JSON.stringify(verdict));
  // Straight to standard output, not through console: CloudWatch extracts metrics from a line
  // that is the document itself, which Lambda's console formatting would wrap.
  const metric = verdictMetricLine(verdict, stack, Date.now());
  if (metric) process.stdout.write(`${metric}\n`);
  return verdict;
}
