/**
 * How the lab recovers from each failure. The lab is the workshop: one node, SQLite on a
 * ReadWriteOnce volume, restore points on a second volume of the same node, restores by hand.
 */
import { formatDuration, type LabConfig } from "../config";
import type { LabFacts } from "./facts";
import { appDownPaging } from "./alerting";
import { LOCAL_DISK_BYTES_PER_SECOND, POD_START } from "./figures";
import { type Bound, none, plus, type Recovery, seconds } from "./recovery";
import { labRestoreCommands } from "./recovery-commands";

const NOT_SURVIVED = "no recovery point survives";

/**
 * From the failure until a person starts a manual recovery: the app-down page (dr/alerting.ts),
 * then on-call's response. The DR model adds it to every manual recovery; `npm run drill` adds
 * it to the RTO it measures.
 */
export function labTimeToAct(
  facts: LabFacts,
  config: LabConfig,
): { readonly bound: Bound; readonly basis: string } {
  const paging = appDownPaging(facts, config);
  const response = config.objectives.onCallResponseSeconds;
  if (!("seconds" in paging.paged)) return { bound: paging.paged, basis: paging.basis };
  return {
    bound: seconds(paging.paged.seconds + response),
    basis:
      `${paging.basis}, on-call acts within ${formatDuration(response)} ` + "(pra:onCallResponse)",
  };
}

export function labRecoveries(facts: LabFacts, config: LabConfig): Recovery[] {
  const objectives = config.objectives;
  const f = formatDuration;
  const backup = facts.backup;
  const newestPointAge =
    backup.intervalSeconds + backup.startingDeadlineSeconds + backup.activeDeadlineSeconds;
  const backupBasis =
    `a restore point is at most ${f(newestPointAge)} old: ${backup.cronJob} runs every ` +
    `${f(backup.intervalSeconds)}, may start ${f(backup.startingDeadlineSeconds)} late ` +
    `and take ${f(backup.activeDeadlineSeconds)}`;
  const acting = labTimeToAct(facts, config);
  const response = seconds(objectives.onCallResponseSeconds);
  // Scale the app down, start the Job, check and copy the point (reading it twice), start the app.
  const copySeconds = (2 * facts.volumes.data.bytes) / LOCAL_DISK_BYTES_PER_SECOND;
  const restoreSeconds = Math.ceil(
    facts.app.terminationGraceSeconds +
      POD_START.seconds +
      copySeconds +
      POD_START.seconds +
      facts.app.readinessSeconds,
  );
  const restore = seconds(restoreSeconds);
  const appRestart = Math.ceil(
    facts.app.terminationGraceSeconds + POD_START.seconds + facts.app.readinessSeconds,
  );
  const restoreBasis =
    `the restore runbook takes ${f(restoreSeconds)}: the app stops ` +
    `(${f(facts.app.terminationGraceSeconds)} grace), the Job starts (${POD_START.seconds}s, ` +
    `${POD_START.source}), checks and copies up to ${f(Math.ceil(copySeconds))} of data, ` +
    "the app starts and gets ready";
  const manualRto = plus(acting.bound, restore);
  const peopleMinutes = Math.ceil((restoreSeconds + 15 * 60) / 60);
  const alertBasis = acting.basis;
  const storageClass = facts.volumes.storageClass
    ? `StorageClass ${facts.volumes.storageClass}`
    : "the default StorageClass (node-local on k3d, kind and minikube)";
  const singleNode = `both volumes are ReadWriteOnce claims of ${storageClass} on the app's node`;
  const reach = Math.max(
    backup.keepWithinSeconds ?? 0,
    (backup.keepLast ?? 1) * backup.intervalSeconds,
  );

  return [
    {
      scenario: "pod-crash",
      title: "The app's pod crashes or hangs",
      rpo: seconds(0),
      rto: seconds(facts.app.livenessSeconds + POD_START.seconds + facts.app.readinessSeconds),
      mode: "automatic",
      mechanism:
        "the kubelet restarts the container; every acknowledged write is already on the data volume",
      peopleMinutes: 0,
      basis: [
        `liveness fails after ${f(facts.app.livenessSeconds)}, the container restarts ` +
          `(${POD_START.seconds}s), readiness passes within ${f(facts.app.readinessSeconds)}`,
      ],
      fix: "shorter liveness or readiness probes",
      runbook: [],
    },
    {
      scenario: "node-loss",
      title: "The node is lost for good",
      rpo: none(`${NOT_SURVIVED}: ${singleNode}`),
      rto: none(NOT_SURVIVED),
      mode: "not survived",
      mechanism: "none: the live database and every restore point were on the node's disk",
      peopleMinutes: 0,
      basis: [singleNode],
      fix: "the target topology (RDS Multi-AZ, S3 exports in another region)",
      runbook: [],
    },
    {
      scenario: "data-volume-loss",
      title: `The data volume (${facts.volumes.data.claim}) is lost`,
      rpo: seconds(newestPointAge),
      rto: manualRto,
      mode: "manual",
      mechanism:
        `restore the newest valid point from ${facts.volumes.backup.claim} with the ` +
        `${facts.restoreJob} Job (npm run restore)`,
      peopleMinutes,
      basis: [backupBasis, alertBasis, restoreBasis],
      fix:
        "a shorter pra:rpo (more frequent backups), pra:monitoring: true and a " +
        "pra:alertWebhookUrl, a shorter pra:onCallResponse, or a longer pra:rto",
      // Built on first read: the commands come from synthesizing the charts again, which the
      // report needs and the synth-time check does not.
      get runbook() {
        return labRestoreCommands(config, facts.app.name, "data-volume-loss");
      },
    },
    {
      scenario: "backup-volume-loss",
      title: `The backup volume (${facts.volumes.backup.claim}) is lost`,
      rpo: seconds(0),
      rto: seconds(appRestart),
      mode: "manual",
      mechanism:
        `the app keeps serving; a person restarts it once so that ${facts.volumes.backup.claim} ` +
        "is released, recreates the claim and takes a restore point (npm run restore -- " +
        "--scenario backup-volume-loss)",
      peopleMinutes: 15,
      basis: [
        "the live database is untouched",
        `the claim stays Terminating while the app's pod mounts it: the runbook stops the app ` +
          `(${f(facts.app.terminationGraceSeconds)} grace), recreates the claim and starts the app ` +
          `(${POD_START.seconds}s, ready within ${f(facts.app.readinessSeconds)}): ` +
          `down for up to ${f(appRestart)}`,
        "until the runbook's backup, a second failure would have no restore point",
      ],
      fix: "none needed",
      get runbook() {
        return labRestoreCommands(config, facts.app.name, "backup-volume-loss");
      },
    },
    {
      scenario: "both-volumes-loss",
      title: "Both volumes are lost (they share one node's disk)",
      rpo: none(NOT_SURVIVED),
      rto: none(NOT_SURVIVED),
      mode: "not survived",
      mechanism: "none: the lab keeps no copy off the node",
      peopleMinutes: 0,
      basis: [singleNode],
      fix: "the target topology",
      runbook: [],
    },
    {
      scenario: "zone-loss",
      title: "The zone (the lab's only node) is lost",
      rpo: none(`${NOT_SURVIVED}: the lab runs in one zone, on one node`),
      rto: none(NOT_SURVIVED),
      mode: "not survived",
      mechanism: "none",
      peopleMinutes: 0,
      basis: [singleNode],
      fix: "the target topology",
      runbook: [],
    },
    {
      scenario: "region-loss",
      title: "The region (the whole cluster) is lost",
      rpo: none(NOT_SURVIVED),
      rto: none(NOT_SURVIVED),
      mode: "not survived",
      mechanism: "none",
      peopleMinutes: 0,
      basis: ["the lab has one cluster and no copy outside it"],
      fix: "the target topology",
      runbook: [],
    },
    operatorError(facts, config, reach, newestPointAge, plus(response, restore), peopleMinutes, [
      backupBasis,
      restoreBasis,
    ]),
    {
      scenario: "backups-deleted",
      title: "A compromised account deletes the backups (and the data)",
      rpo: none(
        `${NOT_SURVIVED}: whoever may delete ${facts.volumes.data.claim} may delete ${facts.volumes.backup.claim}`,
      ),
      rto: none(NOT_SURVIVED),
      mode: "not survived",
      mechanism: "none: no restore point is kept where the cluster's credentials cannot delete it",
      peopleMinutes: 0,
      basis: ["both volumes are in the same namespace, under the same RBAC"],
      fix: "the target topology (AWS Backup vault lock in another region)",
      runbook: [],
    },
  ];
}

function operatorError(
  facts: LabFacts,
  config: LabConfig,
  reach: number,
  newestPointAge: number,
  rto: Bound,
  peopleMinutes: number,
  basis: string[],
): Recovery {
  const f = formatDuration;
  const objectives = config.objectives;
  const covered = reach >= objectives.errorDetectionSeconds;
  return {
    scenario: "operator-error",
    title: "An operator error destroys data (a bad migration, a dropped table)",
    rpo: covered
      ? seconds(newestPointAge)
      : none(
          `restore points reach back ${f(reach)}, but an error may go unnoticed for ` +
            `${f(objectives.errorDetectionSeconds)} (pra:errorDetectionTime)`,
        ),
    rto,
    mode: "manual",
    mechanism:
      "restore the last point taken before the error (npm run restore -- --point app-<ts>.db)",
    peopleMinutes,
    basis: [
      `restore points reach back ${f(reach)} (--keep-within ` +
        `${f(facts.backup.keepWithinSeconds ?? 0)}, --keep-last ${facts.backup.keepLast ?? 1})`,
      "counted from when the error is noticed; writes after the error are lost with it",
      ...basis,
    ],
    fix: "a longer pra:retention, or a shorter pra:errorDetectionTime",
    get runbook() {
      return labRestoreCommands(config, facts.app.name, "operator-error");
    },
  };
}
