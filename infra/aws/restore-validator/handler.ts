/**
 * The restore-test validator's Lambda entry point (bundled by bundle.ts): run by EventBridge
 * when a restore job completes, it checks the restored database of this stack's restore tests
 * and reports SUCCESSFUL or FAILED to AWS Backup (validator.ts decides). Its log line is the
 * verdict, as JSON, and a second line the verdict's metric (embedded metric format), which an
 * alarm watches. Clients are made once per Lambda instance, with the function's role.
 */
import { BackupClient } from "@aws-sdk/client-backup";
import { RDSClient } from "@aws-sdk/client-rds";
import { PLAN_ARN_VARIABLE, STACK_VARIABLE } from "./settings";
import { rdsInstanceCheck, validateRestoreJob, type Verdict, verdictMetricLine } from "./validator";

const backup = new BackupClient({});
const rds = new RDSClient({});

export async function handler(event: unknown): Promise<Verdict> {
  const restoreTestingPlanArn = process.env[PLAN_ARN_VARIABLE];
  if (!restoreTestingPlanArn) throw new Error(`${PLAN_ARN_VARIABLE} is not set`);
  const stack = process.env[STACK_VARIABLE];
  if (!stack) throw new Error(`${STACK_VARIABLE} is not set`);
  const verdict = await validateRestoreJob(event, {
    backup,
    restoreTestingPlanArn,
    checks: [rdsInstanceCheck(rds)],
  });
  console.log(JSON.stringify(verdict));
  // Straight to standard output, not through console: CloudWatch extracts metrics from a line
  // that is the document itself, which Lambda's console formatting would wrap.
  const metric = verdictMetricLine(verdict, stack, Date.now());
  if (metric) process.stdout.write(`${metric}\n`);
  return verdict;
}
