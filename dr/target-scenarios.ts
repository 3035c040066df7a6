/**
 * How the target recovers from each failure: Kubernetes keeps the app up through pod, node and
 * zone losses; RDS Multi-AZ keeps the database; the DR region (pilot light or warm standby),
 * point-in-time recovery and the locked AWS Backup vault cover the rest.
 */
import { formatDuration, type TargetConfig } from "../config";
import type { TargetFacts } from "./facts";
import {
  AWS_BACKUP_CROSS_REGION_COPY,
  CUTOVER,
  EKS_NODE_LAUNCH,
  type Figure,
  NODE_MONITOR_GRACE,
  POD_START,
  RDS_CROSS_REGION_BACKUP_COPY,
  RDS_MULTI_AZ_FAILOVER,
  RDS_PITR_LOG_UPLOAD,
  REGION_OUTAGE_NOTICE,
  rdsRestore,
  S3_REPLICATION_TIME_CONTROL,
} from "./figures";
import { appDownPaging } from "./alerting";
import { type Bound, none, plus, type Recovery, seconds } from "./recovery";
import {
  describeMissing,
  type FailoverStep,
  failoverSeconds,
  failoverSteps,
  missingParts,
  modelTargets,
  stepSummary,
} from "./failover-runbook";
import { failOverCluster, restoreBeforeError, restoreFromLockedVault } from "./recovery-commands";

const cite = (what: string, figure: Figure) =>
  `${what} ${formatDuration(figure.seconds)} (${figure.source})`;

export function targetRecoveries(facts: TargetFacts, config: TargetConfig): Recovery[] {
  const f = formatDuration;
  const { design } = facts;
  const objectives = config.objectives;
  const response = seconds(objectives.onCallResponseSeconds);
  const responseBasis = `on-call acts within ${f(objectives.onCallResponseSeconds)} (pra:onCallResponse)`;
  const alerted: Bound = appDownPaging(facts, config).paged;
  const restore = rdsRestore(facts.allocatedStorageGb);
  const servesThroughLoss = facts.app.minReplicas >= 2;
  const zonesSpread = facts.app.spreadOverZones && design.network.availabilityZones >= 2;
  const warm = design.database.crossRegionReplica;

  // The DR region: a promoted replica (warm standby) or a restore from replicated backups (pilot light).
  const drRpo = warm
    ? seconds(design.database.replicaLagAlarmSeconds)
    : seconds(RDS_PITR_LOG_UPLOAD.seconds + RDS_CROSS_REGION_BACKUP_COPY.seconds);
  const drRpoBasis = warm
    ? "the cross-Region replica lags asynchronously; the ReplicaLag alarm fires past " +
      f(design.database.replicaLagAlarmSeconds)
    : `${cite("transaction logs reach S3 every", RDS_PITR_LOG_UPLOAD)}, then ` +
      `${cite("are copied to", RDS_CROSS_REGION_BACKUP_COPY)} ${design.regions.dr}`;
  // The failover is the runbook `npm run failover` runs (dr/failover-runbook.ts): its time is the
  // sum of its steps' figures, and it is possible only if the DR region holds every part it needs.
  const failover = failoverSteps(config, modelTargets(config), facts.objects);
  const missing = missingParts(failover, design.drParts);
  const drWorkSeconds = failoverSeconds(failover);
  const drWork =
    missing.length > 0
      ? none(`the DR region lacks what the failover needs: ${describeMissing(missing)}`)
      : seconds(drWorkSeconds);
  const drBasis = [
    `the failover runbook's ${failover.length} steps add up to ${f(drWorkSeconds)}, mainly: ` +
      longest(failover)
        .map((step) => `${stepSummary(step)} [${step.figure.source}]`)
        .join("; "),
    warm
      ? "warm standby: nodes run in every DR zone and the workload is deployed at zero"
      : "pilot light: the DR cluster holds the add-ons, identities and settings but no workload; " +
        "the failover adds the database (a restore), the nodes (the node groups grow meanwhile) " +
        "and the workload (dist/<stack>/failover/)",
  ];
  const drRunbook = [
    `npm run failover -- --stack ${config.stack}   # every step below, names from pulumi stack output`,
    `npm run failover -- --stack ${config.stack} --dry-run   # the commands, with this stack's names`,
    ...failover.map((step, index) => `# ${index + 1}. ${stepSummary(step)}`),
  ];
  const drMinutes = Math.ceil((drWorkSeconds + 30 * 60) / 60);
  const drFix =
    missing.length > 0
      ? `a DR region with ${missing.join(", ")} (config/dr-design.ts)`
      : warm
        ? "a longer pra:rpo or pra:rto"
        : "pra:drStrategy: warm-standby, or a longer pra:rpo or pra:rto";
  const strategy = `${design.drStrategy} in ${design.regions.dr}`;

  // Without Multi-AZ (design.database.multiAz), the database's zone or storage lost is a restore
  // to the latest restorable time in another zone, by a person: logs not yet uploaded are lost.
  const multiAz = design.database.multiAz;
  const singleAzRestore = {
    rpo: seconds(RDS_PITR_LOG_UPLOAD.seconds),
    rto: plus(alerted, response, seconds(restore.seconds + CUTOVER.seconds)),
    mode: "manual" as const,
    peopleMinutes: Math.ceil((restore.seconds + CUTOVER.seconds + 30 * 60) / 60),
    basis: [
      "a single-AZ database (the design's multiAz is false): no standby to fail over to",
      cite("the latest restorable time lags by up to", RDS_PITR_LOG_UPLOAD),
      cite("restore:", restore),
      cite("switch:", CUTOVER),
      responseBasis,
    ],
    fix: "a Multi-AZ database (config/target-design.ts, multiAz)",
    // The point-in-time restore, with the latest restorable time as the restore time.
    runbook: restoreBeforeError(config),
  };
  const exportsBasis = exportsLine(facts);

  const retentionReach = design.database.backupRetentionDays * 86400;
  const lockedCopyAge =
    design.backupPlan.intervalHours * 3600 + AWS_BACKUP_CROSS_REGION_COPY.seconds;

  return [
    {
      scenario: "pod-crash",
      title: "An app pod crashes or hangs",
      rpo: seconds(0),
      rto: servesThroughLoss
        ? seconds(facts.app.readinessSeconds)
        : seconds(facts.app.livenessSeconds + POD_START.seconds),
      mode: "automatic",
      mechanism: `the other replicas serve (at least ${facts.app.minReplicas}); the kubelet restarts the container`,
      peopleMinutes: 0,
      basis: [
        `a failing pod leaves the Service after ${f(facts.app.readinessSeconds)} (readiness)`,
        "the database is RDS: no data lives in a pod",
      ],
      fix: "shorter probes",
      runbook: [],
    },
    {
      scenario: "node-loss",
      title: "A node is lost",
      rpo: seconds(0),
      rto: servesThroughLoss
        ? seconds(NODE_MONITOR_GRACE.seconds + facts.app.readinessSeconds)
        : seconds(NODE_MONITOR_GRACE.seconds + EKS_NODE_LAUNCH.seconds),
      mode: "automatic",
      mechanism: "pods on other nodes serve; the managed node group replaces the node",
      peopleMinutes: 0,
      basis: [
        cite("the node is marked NotReady after", NODE_MONITOR_GRACE),
        "pods are spread over nodes",
      ],
      fix: "more replicas (pra:replicas)",
      runbook: [],
    },
    multiAz
      ? {
          scenario: "data-volume-loss",
          title: "The database's storage fails",
          rpo: seconds(0),
          rto: seconds(RDS_MULTI_AZ_FAILOVER.seconds),
          mode: "automatic",
          mechanism: "RDS Multi-AZ fails over to the synchronous standby in another zone",
          peopleMinutes: 0,
          basis: [
            "writes are acknowledged only once on both zones' storage",
            cite("failover:", RDS_MULTI_AZ_FAILOVER),
          ],
          fix: "none",
          runbook: [],
        }
      : {
          scenario: "data-volume-loss",
          title: "The database's storage fails",
          mechanism: "restore the database to its latest restorable time and switch the app to it",
          ...singleAzRestore,
        },
    {
      scenario: "backup-volume-loss",
      title: "The export bucket is lost",
      rpo: seconds(0),
      rto: seconds(0),
      mode: "automatic",
      mechanism:
        `the live database is untouched; every export is already replicated to ${design.regions.dr}, ` +
        "and point-in-time recovery does not use the bucket",
      peopleMinutes: 0,
      basis: [
        cite("exports reach the replica bucket within", S3_REPLICATION_TIME_CONTROL),
        "versioning keeps deleted exports",
        exportsBasis,
      ],
      fix: "none",
      runbook: [],
    },
    {
      scenario: "both-volumes-loss",
      title: "The database and its in-region backups are both lost",
      rpo: drRpo,
      rto: plus(alerted, response, drWork),
      mode: "manual",
      mechanism: `recover in the DR region (${strategy}) from what was copied there`,
      peopleMinutes: drMinutes,
      basis: [drRpoBasis, ...drBasis, responseBasis],
      fix: drFix,
      runbook: drRunbook,
    },
    zonesSpread && !multiAz
      ? {
          scenario: "zone-loss",
          title: "An availability zone is lost",
          mechanism:
            `the app's pods in the other ${design.network.availabilityZones - 1} zone(s) serve; ` +
            "the database, if its zone is the lost one, is restored to its latest restorable " +
            "time in another zone and the app switched to it",
          ...singleAzRestore,
          basis: [
            `pods are spread over ${design.network.availabilityZones} zones (DoNotSchedule)`,
            ...singleAzRestore.basis,
          ],
        }
      : {
          scenario: "zone-loss",
          title: "An availability zone is lost",
          rpo: zonesSpread ? seconds(0) : none("the app is not spread over zones"),
          rto: zonesSpread
            ? seconds(RDS_MULTI_AZ_FAILOVER.seconds)
            : none("the app is not spread over zones"),
          mode: zonesSpread ? "automatic" : "not survived",
          mechanism:
            `the app's pods in the other ${design.network.availabilityZones - 1} zone(s) serve; ` +
            "RDS fails over to its standby",
          peopleMinutes: 0,
          basis: [
            `pods are spread over ${design.network.availabilityZones} zones (DoNotSchedule)`,
            cite("Multi-AZ failover:", RDS_MULTI_AZ_FAILOVER),
          ],
          fix: "pra:availabilityZones of at least 2 and pra:replicas of at least 2",
          runbook: [],
        },
    {
      scenario: "region-loss",
      title: `The primary region (${design.regions.primary}) is lost`,
      rpo: drRpo,
      rto: plus(seconds(REGION_OUTAGE_NOTICE.seconds), response, drWork),
      mode: "manual",
      mechanism: `fail over to ${strategy}`,
      peopleMinutes: drMinutes,
      basis: [
        drRpoBasis,
        cite("people learn of it within", REGION_OUTAGE_NOTICE),
        responseBasis,
        ...drBasis,
      ],
      fix: drFix,
      runbook: drRunbook,
    },
    {
      scenario: "operator-error",
      title: "An operator error destroys data (a bad migration, a dropped table)",
      rpo:
        retentionReach >= objectives.errorDetectionSeconds
          ? seconds(0)
          : none(
              `point-in-time recovery reaches back ${f(retentionReach)}, but an error may go ` +
                `unnoticed for ${f(objectives.errorDetectionSeconds)} (pra:errorDetectionTime)`,
            ),
      rto: plus(response, seconds(RDS_PITR_LOG_UPLOAD.seconds + restore.seconds + CUTOVER.seconds)),
      mode: "manual",
      mechanism:
        "restore the database to the second before the error (point-in-time recovery) and switch to it",
      peopleMinutes: Math.ceil((restore.seconds + CUTOVER.seconds + 60 * 60) / 60),
      basis: [
        `point-in-time recovery reaches back ${design.database.backupRetentionDays} days, to the second`,
        "counted from when the error is noticed; writes after the error are lost with it unless copied back",
        cite("wait until the logs past the error are uploaded:", RDS_PITR_LOG_UPLOAD),
        cite("restore:", restore),
        cite("switch:", CUTOVER),
      ],
      fix: "a longer pra:retention, or a shorter pra:errorDetectionTime",
      runbook: restoreBeforeError(config),
    },
    {
      scenario: "backups-deleted",
      title: "A compromised account deletes the backups (and the data)",
      rpo: design.backupPlan.copyToDrRegion
        ? seconds(lockedCopyAge)
        : none("no copy is out of the account's reach"),
      rto: plus(response, seconds(restore.seconds + EKS_NODE_LAUNCH.seconds + CUTOVER.seconds)),
      mode: "manual",
      mechanism:
        `restore the newest copy in the ${design.regions.dr} vault, whose ` +
        `${design.backupPlan.vaultLock.mode}-mode lock stops anyone, root included, from deleting it`,
      peopleMinutes: Math.ceil((restore.seconds + 2 * 60 * 60) / 60),
      basis: [
        `AWS Backup snapshots every ${design.backupPlan.intervalHours}h (its fastest schedule)`,
        cite("then copies to the locked vault, within", AWS_BACKUP_CROSS_REGION_COPY),
        cite("restore:", restore),
      ],
      fix: "a longer pra:rpo; or leave backups-deleted out of pra:drScenarios and hold it to its own, longer objective",
      runbook: [
        ...restoreFromLockedVault(config),
        ...failOverCluster(config, `pra-${config.stack}-from-vault`),
      ],
    },
  ];
}

/**
 * The exports as deployed (the synthesized CronJob's schedule and deadlines): how old the newest
 * can be, and whether a run has the time its data needs. No scenario's RPO counts on them.
 */
function exportsLine(facts: TargetFacts): string {
  const f = formatDuration;
  const b = facts.backup;
  const need = facts.design.workload.exportSeconds;
  const worstCase = b.intervalSeconds + b.startingDeadlineSeconds + b.activeDeadlineSeconds;
  const fits =
    b.activeDeadlineSeconds >= need
      ? `may take ${f(b.activeDeadlineSeconds)}, what dumping and checking ` +
        `${facts.allocatedStorageGb} GiB (pra:dbAllocatedStorage) takes`
      : `are killed after ${f(b.activeDeadlineSeconds)}, before dumping and checking ` +
        `${facts.allocatedStorageGb} GiB (pra:dbAllocatedStorage, ${f(need)}) can finish: none completes`;
  return (
    `the exports (CronJob ${b.cronJob}) run every ${f(b.intervalSeconds)}, may start ` +
    `${f(b.startingDeadlineSeconds)} late and ${fits}; the newest is at most ${f(worstCase)} old. ` +
    "No scenario's RPO counts on them: RDS point-in-time recovery and AWS Backup hold it"
  );
}

/** The steps that take the most, for the basis line. */
function longest(steps: readonly FailoverStep[]): FailoverStep[] {
  return [...steps].sort((a, b) => b.figure.seconds - a.figure.seconds).slice(0, 3);
}
