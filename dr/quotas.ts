/**
 * Account quotas the target's plan relies on, checked by `npm run check` beside the objectives:
 * a plan that outgrows a quota fails on the day it reaches it (an AWS Backup job that cannot
 * create its snapshot), long after `pulumi up` succeeded.
 */
import { describeTargetDesign, type PraConfig, type TargetConfig } from "../config";
import { RDS_MANUAL_SNAPSHOT_QUOTA } from "./figures";

/**
 * RDS snapshots the AWS Backup plan keeps in each of the stack's Regions at its fullest: one per
 * run for the retention, plus the one a run takes before the oldest expires. The DR Region holds
 * as many copies.
 */
export function rdsSnapshotsKept(config: TargetConfig): number {
  const plan = describeTargetDesign(config).backupPlan;
  return Math.ceil((plan.retentionDays * 24) / plan.intervalHours) + 1;
}

/** Each quota the stack's plan exceeds, as a sentence that says what to raise or change. */
export function quotaProblems(config: PraConfig): string[] {
  if (config.topology !== "target") return [];
  const plan = describeTargetDesign(config).backupPlan;
  const kept = rdsSnapshotsKept(config);
  const quota = config.database.snapshotQuota ?? RDS_MANUAL_SNAPSHOT_QUOTA.count;
  if (kept <= quota) return [];
  const whose =
    config.database.snapshotQuota === undefined
      ? `AWS's default (${quota}, ${RDS_MANUAL_SNAPSHOT_QUOTA.source})`
      : `${quota} (pra:rdsSnapshotQuota)`;
  return [
    `${config.file}: AWS Backup keeps up to ${kept} RDS snapshots in ${config.region} and as many ` +
      `copies in ${config.dr.region} (one every ${plan.intervalHours}h for ${plan.retentionDays}d, ` +
      `plus the one being taken), more than the quota 'Manual DB instance snapshots' allows: ` +
      `${whose}. Fix: raise it to at least ${kept} in both Regions (Service Quotas, Amazon RDS) ` +
      `and set pra:rdsSnapshotQuota, or keep fewer (a longer pra:rpo spaces the snapshots, a ` +
      `shorter pra:retention keeps fewer).`,
  ];
}
