/**
 * The commands a person runs for each manual recovery, with this stack's real names. The lab's
 * restore is the executable runbook of dr/lab-restore-runbook.ts (npm run restore), printed step
 * by step.
 */
import { cloudNames, type LabConfig, type TargetConfig } from "../config";
import { byHandLines, type LabRunbook, labRestoreSteps, rerunCommand } from "./lab-restore-runbook";

/** The placeholder a person replaces with the point picked from `pra-app backups`. */
export const POINT_PLACEHOLDER = "app-<unix-seconds>.db";

/**
 * `npm run restore` for one lab scenario, then exactly the same steps by hand. To undo an error,
 * the point is the last one taken before it, which a person picks from the app's list of restore
 * points (or names by the error's time, with --before).
 */
export function labRestoreCommands(
  config: LabConfig,
  appName: string,
  scenario: LabRunbook,
): string[] {
  if (scenario !== "operator-error") {
    const steps = labRestoreSteps(config, { scenario }).flatMap((step) => byHandLines(step));
    const all = rerunCommand(config, scenario === "data-volume-loss" ? {} : { scenario });
    return [`# all steps at once: ${all}`, "# or by hand:", ...steps];
  }
  const options = { point: POINT_PLACEHOLDER, forPrinting: true };
  const steps = labRestoreSteps(config, options).flatMap((step) => byHandLines(step));
  return [
    `kubectl -n ${config.namespace} exec deployment/${appName} -- pra-app backups` +
      "   # pick the last point before the error",
    `# all steps at once: npm run restore -- --stack ${config.stack} --point ${POINT_PLACEHOLDER}` +
      " (or --before <the error's time>)",
    "# or by hand:",
    ...steps,
  ];
}

/** One shell line from its parts, so that a long command reads as several lines of source. */
const line = (...parts: string[]) => parts.join(" ");

function names(config: TargetConfig) {
  const cloud = cloudNames(config.stack);
  return {
    db: cloud.databaseIdentifier,
    drCluster: cloud.drClusterName,
    secret: cloud.databaseSecretName,
    primary: config.region,
    dr: config.dr.region,
  };
}

/** Scale the DR cluster, point the replicated secret at the new database, deploy, move DNS. */
export function failOverCluster(config: TargetConfig, instance: string): string[] {
  const n = names(config);
  return [
    line(
      `for ng in $(aws eks list-nodegroups --region ${n.dr} --cluster-name ${n.drCluster}`,
      "--query nodegroups --output text); do",
      `aws eks update-nodegroup-config --region ${n.dr} --cluster-name ${n.drCluster}`,
      '--nodegroup-name "$ng" --scaling-config',
      `minSize=1,maxSize=${config.cluster.maxNodesPerZone},desiredSize=${config.cluster.nodesPerZone};`,
      "done",
    ),
    `aws eks update-kubeconfig --region ${n.dr} --name ${n.drCluster}`,
    `aws secretsmanager stop-replication-to-replica --region ${n.dr} --secret-id ${n.secret}`,
    line(
      `HOST=$(aws rds describe-db-instances --region ${n.dr} --db-instance-identifier ${instance}`,
      "--query 'DBInstances[0].Endpoint.Address' --output text)",
    ),
    line(
      `aws secretsmanager get-secret-value --region ${n.dr} --secret-id ${n.secret}`,
      `--query SecretString --output text | jq --arg h "$HOST" '.host=$h' |`,
      `aws secretsmanager put-secret-value --region ${n.dr} --secret-id ${n.secret}`,
      "--secret-string file:///dev/stdin",
    ),
    line(
      "# the DR cluster already runs External Secrets, the Load Balancer Controller and the",
      `Prometheus stack, with pra-cloud naming the ${n.dr} bucket (infra/kubernetes/dr-workloads.ts)`,
    ),
    line(
      `kubectl apply -f dist/${config.stack}/failover/`,
      "  # the workload with the DR VPC's network ranges; then move DNS to the DR load balancer",
    ),
  ];
}

/** Restore the database to the second before an operator error (point-in-time recovery). */
export function restoreBeforeError(config: TargetConfig): string[] {
  const n = names(config);
  return [
    line(
      `aws rds describe-db-instances --region ${n.primary} --db-instance-identifier ${n.db}`,
      "--query 'DBInstances[0].LatestRestorableTime'",
    ),
    line(
      `aws rds restore-db-instance-to-point-in-time --region ${n.primary}`,
      `--source-db-instance-identifier ${n.db} --target-db-instance-identifier ${n.db}-before-error`,
      "--restore-time <UTC time just before the error, e.g. 2026-11-24T09:41:00Z> --multi-az",
      `--db-instance-class ${config.database.instanceClass}`,
      "--db-subnet-group-name <the primary subnet group>",
      "--vpc-security-group-ids <the database security group>",
    ),
    line(
      `aws rds wait db-instance-available --region ${n.primary}`,
      `--db-instance-identifier ${n.db}-before-error`,
    ),
    line(
      `# then copy the lost rows back, or switch the app: update host in ${n.secret}`,
      `(region ${n.primary}) and kubectl -n ${config.namespace} rollout restart deployment/pra-app`,
    ),
  ];
}

/** Restore from the newest copy in the locked DR vault. */
export function restoreFromLockedVault(config: TargetConfig): string[] {
  const n = names(config);
  return [
    line(
      `aws backup list-recovery-points-by-backup-vault --region ${n.dr}`,
      `--backup-vault-name pra-${config.stack}-dr-vault`,
      "--query 'reverse(sort_by(RecoveryPoints,&CreationDate))[0]'",
    ),
    line(
      `aws backup start-restore-job --region ${n.dr} --recovery-point-arn <the ARN above>`,
      "--iam-role-arn <the AWS Backup role> --metadata",
      `DBInstanceIdentifier=${n.db}-from-vault,DBSubnetGroupName=${n.db}-dr-subnets,MultiAZ=true`,
    ),
  ];
}
