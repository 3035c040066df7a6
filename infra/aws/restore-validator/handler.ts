/**
 * The restore-test validator's Lambda entry point (bundled by bundle.ts): run by EventBridge
 * when a restore job completes, it checks the restored database of this stack's restore tests
 * and reports SUCCESSFUL or FAILED to AWS Backup (validator.ts decides). Its log line is the
 * verdict, as JSON. Clients are made once per Lambda instance, with the function's role.
 */
import { BackupClient } from "@aws-sdk/client-backup";
import { RDSClient } from "@aws-sdk/client-rds";
import { PLAN_ARN_VARIABLE } from "./settings";
import { rdsInstanceCheck, validateRestoreJob, type Verdict } from "./validator";

const backup = new BackupClient({});
const rds = new RDSClient({});

export async function handler(event: unknown): Promise<Verdict> {
  const restoreTestingPlanArn = process.env[PLAN_ARN_VARIABLE];
  if (!restoreTestingPlanArn) throw new Error(`${PLAN_ARN_VARIABLE} is not set`);
  const verdict = await validateRestoreJob(event, {
    backup,
    restoreTestingPlanArn,
    checks: [rdsInstanceCheck(rds)],
  });
  console.log(JSON.stringify(verdict));
  return verdict;
}
