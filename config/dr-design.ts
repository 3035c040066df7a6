/**
 * What the DR region holds so that a failover is a promotion and a scale-up, not an installation:
 * a typed list of parts, declared here from the stack's settings. infra/aws/dr-region.ts (and the
 * DR side of infra/kubernetes/) build exactly these parts, and the DR model (dr/) counts a
 * region loss as recoverable only when every part the failover needs is in the list. One
 * declaration read by both, so the claim cannot outrun the infrastructure.
 *
 * Imports nothing but types: config/target-design.ts reads it, and the settings read that.
 */
import type { TargetConfig } from "./types";

/** Every part a DR region can hold, in the order a failover meets them. */
export const DR_PARTS = [
  "network",
  "cluster",
  "nodes",
  "external-secrets",
  "load-balancer-controller",
  "prometheus-operator",
  "app-identity",
  "cloud-settings",
  "image-replica",
  "secret-replica",
  "export-replica",
  "database-landing",
  "automated-backups-replica",
  "read-replica",
  "standby-workload",
  "service-name",
] as const;

export type DrPart = (typeof DR_PARTS)[number];

/** What each part is for: the model names a missing one by it. */
export const DR_PART_TITLES: Readonly<Record<DrPart, string>> = {
  network: "a VPC over the same number of zones, with its own address plan",
  cluster: "an EKS cluster (control plane, Pod Identity agent, EBS CSI driver)",
  nodes: "node groups that the failover can scale to the primary's capacity",
  "external-secrets": "External Secrets and its ClusterSecretStore reading the DR region",
  "load-balancer-controller": "the AWS Load Balancer Controller (the Ingress's internal ALB)",
  "prometheus-operator":
    "the Prometheus stack (the kinds of the ServiceMonitor and PrometheusRule)",
  "app-identity": "the app's Pod Identity role, scoped to the DR bucket, keys and secret replica",
  "cloud-settings": "the pra-cloud ConfigMap naming the DR bucket, its key and region",
  "image-replica": "the app's image in the DR region's registry (ECR replication)",
  "secret-replica": "the database secret replicated to the DR region",
  "export-replica": "the export bucket's replica in the DR region",
  "database-landing": "a DB subnet group, security group and TLS-only parameter group",
  "automated-backups-replica":
    "the database's automated backups replicated (PITR in the DR region)",
  "read-replica": "a cross-region read replica of the database",
  "standby-workload": "the failover workload deployed at zero replicas, its CronJobs suspended",
  "service-name": "a private hosted zone and the service's record, switched by the failover",
};

/** An ECR image's registry parts, or undefined for any other registry. */
export function ecrImage(
  image: string,
): { account: string; region: string; rest: string } | undefined {
  const match = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com\/(.+)$/.exec(image);
  if (!match) return undefined;
  const [, account, region, rest] = match;
  return account && region && rest ? { account, region, rest } : undefined;
}

export interface DrDesign {
  /** The parts the DR region holds, in the order above. */
  readonly parts: readonly DrPart[];
  /**
   * The image the DR cluster runs: the same tag in the DR region's registry when the image lives
   * in the primary region's ECR (replicated there), else the image as configured.
   */
  readonly image: string;
  /** The repository ECR replicates, when the image is in the primary region's ECR. */
  readonly replicatedRepository?: string;
  /** The stable name clients use, in a private hosted zone associated with both VPCs. */
  readonly serviceName: { readonly zone: string; readonly record: string; readonly ttl: number };
  /** The kubeconfig context the failover creates for the DR cluster. */
  readonly drContext: string;
}

/** Seconds a resolver may keep the service's record: what the switch costs clients at worst. */
export const SERVICE_RECORD_TTL_SECONDS = 60;

export function drDesignOf(config: TargetConfig): DrDesign {
  const warm = config.dr.strategy === "warm-standby";
  const ecr = ecrImage(config.image);
  const inPrimaryEcr = ecr !== undefined && ecr.region === config.region;
  const parts: DrPart[] = [
    "network",
    "cluster",
    "nodes",
    "external-secrets",
    "load-balancer-controller",
    ...(config.monitoring ? (["prometheus-operator"] as const) : []),
    "app-identity",
    "cloud-settings",
    ...(inPrimaryEcr ? (["image-replica"] as const) : []),
    "secret-replica",
    "export-replica",
    "database-landing",
    "automated-backups-replica",
    ...(warm ? (["read-replica", "standby-workload"] as const) : []),
    "service-name",
  ];
  // Under the public domain when one is given, so an ACM certificate validated in its public
  // zone names what clients resolve in this private one (split horizon).
  const zone = config.serviceDomain ?? `${config.stack}.pra.internal`;
  return {
    parts,
    image:
      inPrimaryEcr && ecr
        ? `${ecr.account}.dkr.ecr.${config.dr.region}.amazonaws.com/${ecr.rest}`
        : config.image,
    ...(inPrimaryEcr && ecr ? { replicatedRepository: ecr.rest.replace(/[:@].*$/, "") } : {}),
    serviceName: { zone, record: `app.${zone}`, ttl: SERVICE_RECORD_TTL_SECONDS },
    drContext: `pra-${config.stack}-dr`,
  };
}
