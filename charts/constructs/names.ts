import { RDS_CA_BUNDLE } from "../../apps/pra-app/src/contract";

/**
 * The workshop's names, kept so that its runbook still reads true. Every construct takes its
 * name as a prop; these are the defaults.
 */
export const WORKSHOP = {
  namespace: "pra",
  dataClaim: "pra-data",
  backupClaim: "pra-backup",
  app: "pra-app",
  backupCronJob: "sqlite-backup",
  restoreTestCronJob: "sqlite-restore-test",
  restoreJob: "sqlite-restore",
  dataDir: "/data",
  backupDir: "/backup",
  databaseFile: "app.db",
} as const;

/** Port the app listens on inside its container, and the Service port in front of it. */
export const APP_PORT = 8080;
export const SERVICE_PORT = 80;

/** The image runs as this user and group (see apps/pra-app/Dockerfile). */
export const APP_UID = 10001;
export const APP_GID = 10001;

/** Labels every object of a stack carries, so `kubectl get all -l` finds them. */
export function stackLabels(stack: string): Record<string, string> {
  return { "app.kubernetes.io/part-of": "pra", "pra.dev/stack": stack };
}

/** The target's in-cluster names (the database is RDS, restore points are S3 exports). */
export const TARGET = {
  /** The service accounts EKS Pod Identity binds to a role each (charts/target/identities.ts). */
  serviceAccount: "pra-app",
  exportServiceAccount: "pra-export",
  restoreTestServiceAccount: "pra-restore-test",
  exportCronJob: "postgres-export",
  restoreTestCronJob: "postgres-restore-test",
  /** The Secret holding DATABASE_URL, filled by External Secrets. */
  databaseSecret: "pra-database",
  /** The ConfigMap the cloud layer (Pulumi) writes: EXPORT_BUCKET, EXPORT_KMS_KEY_ID, AWS_REGION. */
  cloudSettings: "pra-cloud",
  /** The ClusterSecretStore installed with External Secrets, reading AWS Secrets Manager. */
  clusterSecretStore: "aws-secrets-manager",
  /** The RDS CA bundle inside the app image: the app's contract says where. */
  databaseCaFile: RDS_CA_BUNDLE.path,
} as const;

/** Where the platform add-ons run, for network rules. */
export const PLATFORM = {
  monitoringNamespace: "monitoring",
  prometheusPodLabels: { "app.kubernetes.io/name": "prometheus" },
  dnsPodLabels: { "k8s-app": "kube-dns" },
  /**
   * The EKS cluster's StorageClass for scratch space (infra/aws/cluster.ts): encrypted gp3 whose
   * volumes are deleted with their claim and never backed up, unlike the default class.
   */
  scratchStorageClass: "gp3-scratch",
} as const;
