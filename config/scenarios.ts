/**
 * The failures a stack can declare its objectives for (`pra:drScenarios`). What each one means
 * and how each topology recovers from it is modelled in dr/.
 */
export const SCENARIO_IDS = [
  "pod-crash",
  "node-loss",
  "data-volume-loss",
  "backup-volume-loss",
  "both-volumes-loss",
  "zone-loss",
  "region-loss",
  "operator-error",
  "backups-deleted",
] as const;

export type ScenarioId = (typeof SCENARIO_IDS)[number];

/**
 * What a scenario's failure does, in the cluster's terms, for the lab (the target's storage is
 * AWS's: its failures are RDS's, S3's and a region's, described in dr/target-scenarios.ts).
 * The runbook replays (test/dr/replay.test.ts) inject exactly this damage into a cluster stand-in
 * running the synthesized lab, then run the scenario's runbook and check the data.
 */
export type LabDamage =
  /**
   * The claim is deleted (`kubectl delete pvc`): it stays Terminating while a scheduled pod
   * mounts it, new pods that mount it stay Pending, and once no pod mounts it the claim is gone
   * with its volume and the data on it (reclaim policy Delete, as k3d's, kind's and minikube's
   * provisioners do).
   */
  | { readonly claimDeleted: "data" | "backup" }
  /** Rows are changed or deleted at a known time (a bad migration); every object is intact. */
  | { readonly rowsChanged: true }
  /** The app's pod is killed; its claims and data are intact. */
  | { readonly podKilled: true }
  /** Everything on the node is gone: both claims' volumes, every pod. Nothing survives. */
  | { readonly nodeLost: true };

export interface ScenarioDamage {
  /** One sentence: what is deleted, stuck or changed in the lab, and which data goes with it. */
  readonly lab: string;
  readonly labDamage: LabDamage;
  /** The same for the target, whose data lives in AWS's services rather than in the cluster. */
  readonly target: string;
}

export const SCENARIO_DAMAGE: Readonly<Record<ScenarioId, ScenarioDamage>> = {
  "pod-crash": {
    lab: "the app's pod is killed; the claims and the data are intact",
    labDamage: { podKilled: true },
    target: "an app pod is killed; the other replicas and the database are intact",
  },
  "node-loss": {
    lab: "the node is gone with both claims' volumes (node-local) and every pod on it",
    labDamage: { nodeLost: true },
    target: "a node and its pods are gone; no data lives on a node",
  },
  "data-volume-loss": {
    lab:
      "claim pra-data is deleted: Terminating while the app's pod mounts it, then gone with the " +
      "live database; backup pods that mount it stay Pending meanwhile",
    labDamage: { claimDeleted: "data" },
    target: "the RDS primary's storage fails",
  },
  "backup-volume-loss": {
    lab:
      "claim pra-backup is deleted: Terminating while the app's pod mounts it, then gone with " +
      "every restore point; backup and restore-test pods stay Pending meanwhile",
    labDamage: { claimDeleted: "backup" },
    target:
      "the export bucket and the exports in it are deleted (versioned, and replicated to the DR region)",
  },
  "both-volumes-loss": {
    lab: "both claims' volumes are gone (they are on the same node's disk)",
    labDamage: { nodeLost: true },
    target: "the RDS instance, its in-region automated backups and the export bucket are gone",
  },
  "zone-loss": {
    lab: "the zone, and so the lab's only node, is gone",
    labDamage: { nodeLost: true },
    target: "a zone's nodes and pods, and the RDS instance in it, are gone",
  },
  "region-loss": {
    lab: "the region, and so the whole cluster, is gone",
    labDamage: { nodeLost: true },
    target: "the primary region's cluster, database, bucket and keys are unreachable",
  },
  "operator-error": {
    lab:
      "rows of the live database are changed or deleted at a known time; every object is " +
      "intact, and backups taken after the error hold it",
    labDamage: { rowsChanged: true },
    target:
      "rows of the database are changed or deleted at a known time; the standby, the replica " +
      "and backups taken after it hold the error",
  },
  "backups-deleted": {
    lab: "an account with the namespace's rights deletes both claims: data and restore points",
    labDamage: { nodeLost: true },
    target:
      "someone with the account's credentials deletes the database, its snapshots and the " +
      "exports; copies in the locked DR vault cannot be deleted",
  },
};
