/**
 * A Mermaid diagram of a stack, drawn from what it deploys: the synthesized objects (what mounts
 * which claim, what reads which Secret, what a Service selects) and, for the target, the cloud
 * design's regions, database, buckets and vaults. Nothing here is drawn by hand. Arrows are
 * labelled with the flow they carry (serving, backup, restore, replication, alerts) and point the
 * way the data goes, so the backup flow reads from the data to the restore points and the restore
 * flow back; the lab's one-node risk (both claims on one node's disk, the workshop's Exercise 1)
 * is drawn as a red node tied to both claims. Top to bottom: GitHub shows a diagram at the page's
 * width, and left to right these were three times as wide as tall, their text too small to read.
 * test/dr/diagram.test.ts renders each one with Mermaid's own renderer.
 */
import { isKind, type Manifest, ofKind, podSpecOf, specOf } from "../charts/manifest";
import type { DesignFacts } from "./facts";

interface Node {
  readonly id: string;
  readonly label: string;
  readonly shape: "box" | "store";
}

export interface DiagramOptions {
  /** Where Alertmanager sends the stack's alerts, in words (charts/alertmanager-config.ts). */
  readonly alertsTo?: string;
}

export function mermaidDiagram(facts: DesignFacts, options: DiagramOptions = {}): string {
  const lines = ["flowchart TB"];
  const cluster = clusterPart(facts);
  const alertFlow =
    facts.alerting.alerts.length > 0
      ? [
          `  alertmanager["Alertmanager (kube-prometheus-stack)"]`,
          `  pager(["${options.alertsTo ?? "the stack's receiver"}"])`,
          `  alerts -- "alert: fires" --> alertmanager`,
          `  alertmanager -- "alert: pages" --> pager`,
        ]
      : [];
  if (facts.topology === "target") {
    const d = facts.design;
    lines.push(`  subgraph primary["${d.regions.primary} (primary)"]`);
    lines.push(`    subgraph eks["EKS ${facts.stack}: ${d.network.availabilityZones} zones"]`);
    lines.push(...cluster.map((line) => `      ${line}`));
    lines.push("    end");
    lines.push(
      `    rds[("RDS PostgreSQL ${d.database.engineVersion}, Multi-AZ, PITR ${d.database.backupRetentionDays}d")]`,
    );
    lines.push(`    bucket[("S3 exports, versioned")]`);
    lines.push(
      `    vault[("AWS Backup vault: every ${d.backupPlan.intervalHours}h, ${d.backupPlan.retentionDays}d")]`,
    );
    lines.push("  end");
    lines.push(`  subgraph dr["${d.regions.dr} (DR: ${d.drStrategy})"]`);
    const drNodes = d.cluster.drNodesPerZone.reduce((sum, zone) => sum + zone.desired, 0);
    lines.push(`    drEks["EKS ${facts.stack}-dr: ${drNodes} node(s) running"]`);
    lines.push(
      d.database.crossRegionReplica
        ? `    drDb[("RDS read replica")]`
        : `    drDb[("replicated automated backups, ${d.database.drBackupReplicationRetentionDays}d")]`,
    );
    lines.push(`    drBucket[("S3 replica bucket")]`);
    lines.push(`    drVault[("AWS Backup vault, ${d.backupPlan.vaultLock.mode} lock")]`);
    lines.push("  end");
    const app = workloadId(facts, "Deployment");
    const exporter = workloadId(facts, "CronJob", facts.backup.cronJob);
    const verifier = workloadId(facts, "CronJob", facts.restoreTest.cronJob);
    lines.push(`  ${app} -- "serves: TLS 5432" --> rds`);
    lines.push(`  rds -- "backup: pg_dump" --> ${exporter}`);
    lines.push(`  ${exporter} -- "backup: exports" --> bucket`);
    lines.push(`  bucket -- "restore test: into a throwaway PostgreSQL" --> ${verifier}`);
    lines.push(
      d.database.crossRegionReplica
        ? `  rds -. "replication: async" .-> drDb`
        : `  rds -. "replication: backups + logs" .-> drDb`,
    );
    lines.push(
      `  bucket -. "replication: RTC ${d.exportBucket.replicationTimeControlMinutes}m" .-> drBucket`,
    );
    lines.push(`  rds -- "backup: snapshots" --> vault`);
    lines.push(`  vault -. "replication: copy" .-> drVault`);
    lines.push(`  vault -. "restore: snapshot or point in time" .-> rds`);
    lines.push(`  drDb -. "restore: failover (promote or restore)" .-> drEks`);
    lines.push(...alertFlow);
  } else {
    lines.push(`  subgraph node["one node (k3d, kind, minikube)"]`);
    lines.push(...cluster.map((line) => `    ${line}`));
    const { data, backup, storageClass } = facts.volumes;
    const disk =
      storageClass === undefined
        ? "the default StorageClass: a directory on this node's disk"
        : `StorageClass ${storageClass}`;
    lines.push(
      `    risk{{"RISK: ${data.claim} and ${backup.claim} on one node (${disk}): ` +
        `losing the node loses the data and every restore point"}}`,
    );
    lines.push(`    risk -.- ${idFor("PersistentVolumeClaim", data.claim)}`);
    lines.push(`    risk -.- ${idFor("PersistentVolumeClaim", backup.claim)}`);
    lines.push("  end");
    lines.push("  classDef risk fill:#fdd,stroke:#c00,color:#000");
    lines.push("  class risk risk");
    lines.push(...alertFlow);
  }
  return lines.join("\n");
}

function clusterPart(facts: DesignFacts): string[] {
  const objects = facts.objects;
  const nodes: Node[] = [];
  const edges: string[] = [];
  const workloads = objects.filter((o) => isKind(o, "Deployment") || isKind(o, "CronJob"));
  // The Service first: Mermaid's layout breaks cycles (the data goes round from the app's claim to
  // the restore points and back) from the first node it meets, and from the Service in, the
  // arrows it turns round are the restore's write and the app's listing of the restore points.
  for (const service of ofKind(objects, "Service")) {
    nodes.push({
      id: idOf(service),
      label: `Service ${service.metadata.name} :${service.spec?.ports?.[0]?.port}`,
      shape: "box",
    });
    edges.push(`${idOf(service)} --> ${idFor("Deployment", facts.app.name)}`);
  }
  for (const claim of ofKind(objects, "PersistentVolumeClaim")) {
    nodes.push({
      id: idOf(claim),
      label: `PVC ${claim.metadata.name} ${specOf(claim).resources?.requests?.storage}`,
      shape: "store",
    });
  }
  const externalSecrets = ofKind(objects, "ExternalSecret");
  for (const secret of externalSecrets) {
    nodes.push({ id: idOf(secret), label: `ExternalSecret ${secret.metadata.name}`, shape: "box" });
  }
  for (const workload of workloads) {
    const pod = podSpecOf(workload);
    const detail =
      workload.kind === "CronJob"
        ? specOf(workload).schedule
        : workload.spec?.replicas === undefined
          ? `${facts.app.minReplicas}+ replicas`
          : `${workload.spec.replicas} replica(s), ${workload.spec.strategy?.type}`;
    nodes.push({
      id: idOf(workload),
      // The detail on its own line: Mermaid wraps at spaces, and would split a cron expression.
      label: `${workload.kind} ${workload.metadata.name}<br>${detail}`,
      shape: "box",
    });
    for (const volume of pod.volumes ?? []) {
      const claim = volume.persistentVolumeClaim?.claimName;
      const flow =
        claim === undefined ? undefined : claimFlow(facts, workload.metadata.name, claim);
      if (claim === undefined || flow === undefined) continue;
      const [from, to] =
        flow.reads === true
          ? [idFor("PersistentVolumeClaim", claim), idOf(workload)]
          : [idOf(workload), idFor("PersistentVolumeClaim", claim)];
      edges.push(`${from} -- "${flow.label}" --> ${to}`);
    }
    for (const variable of pod.containers[0]?.env ?? []) {
      const secret = variable.valueFrom?.secretKeyRef?.name;
      const external = externalSecrets.find((o) => specOf(o).target.name === secret);
      if (external) edges.push(`${idOf(external)} -. "${variable.name}" .-> ${idOf(workload)}`);
    }
  }
  const restore = facts.topology === "lab" ? facts.restoreJob : undefined;
  if (restore && facts.topology === "lab") {
    nodes.push({
      id: idFor("Job", restore),
      label: `Job ${restore} (ops/, run by hand)`,
      shape: "box",
    });
    edges.push(
      `${idFor("PersistentVolumeClaim", facts.volumes.backup.claim)} -. "restore: reads a point" .-> ` +
        idFor("Job", restore),
      `${idFor("Job", restore)} -. "restore: writes the database" .-> ` +
        idFor("PersistentVolumeClaim", facts.volumes.data.claim),
    );
  }
  if (facts.alerting.alerts.length > 0) {
    nodes.push({
      id: "alerts",
      label: `PrometheusRule: ${facts.alerting.alerts.join(", ")}`,
      shape: "box",
    });
  }
  return [
    ...nodes.map((n) =>
      n.shape === "store" ? `${n.id}[("${n.label}")]` : `${n.id}["${n.label}"]`,
    ),
    ...edges,
  ];
}

/**
 * What a workload does with a claim it mounts: the arrow's label, and whether the data goes from
 * the claim to the workload (`reads`). Undefined for a mount that carries no flow: the restore
 * test mounts the app's single-writer claim only to run on the app's node, and that arrow crossed
 * the backup and restore flows.
 */
function claimFlow(
  facts: DesignFacts,
  workload: string,
  claim: string,
): { readonly label: string; readonly reads?: true } | undefined {
  const backupClaim = facts.topology === "lab" && claim === facts.volumes.backup.claim;
  if (workload === facts.backup.cronJob)
    return backupClaim
      ? { label: "backup: writes a restore point" }
      : { label: "backup: reads", reads: true };
  if (workload === facts.restoreTest.cronJob)
    return backupClaim
      ? { label: "restore test: checks the newest point", reads: true }
      : undefined;
  if (workload === facts.app.name)
    return backupClaim
      ? { label: "lists restore points (/backups)", reads: true }
      : { label: "serves: reads, writes" };
  return { label: "mounts" };
}

function workloadId(facts: DesignFacts, kind: string, name?: string): string {
  return idFor(kind, name ?? facts.app.name);
}

function idOf(object: Manifest): string {
  return idFor(object.kind, object.metadata.name);
}

function idFor(kind: string, name: string): string {
  return `${kind}_${name}`.replace(/[^A-Za-z0-9_]/g, "_");
}
