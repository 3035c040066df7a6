/**
 * The whole program as a function of the stack's settings: the lab declares no AWS resource,
 * the target declares the production architecture. index.ts turns the result into stack outputs.
 */
import * as pulumi from "@pulumi/pulumi";
import type { PraConfig } from "../config";
import type { Target as TargetComponent } from "./aws/target";
import { deployLab } from "./lab";

/** Stack outputs. Secrets (kubeconfigs) are pulumi secrets; the rest are names, ARNs and endpoints. */
export interface StackOutputs {
  readonly topology: PraConfig["topology"];
  readonly namespace: string;
  readonly region?: string;
  readonly drRegion?: string;
  readonly drStrategy?: string;
  readonly clusterName?: pulumi.Output<string>;
  readonly kubeconfig?: pulumi.Output<string>;
  readonly databaseEndpoint?: pulumi.Output<string>;
  readonly databaseSecretName?: pulumi.Output<string>;
  readonly exportBucketName?: pulumi.Output<string>;
  readonly exportBucketKeyArn?: pulumi.Output<string>;
  readonly replicaBucketName?: pulumi.Output<string>;
  readonly appRoleArn?: pulumi.Output<string>;
  readonly externalSecretsRoleArn?: pulumi.Output<string>;
  readonly backupVaultName?: pulumi.Output<string>;
  readonly drBackupVaultName?: pulumi.Output<string>;
  readonly alarmTopicArn?: pulumi.Output<string>;
  readonly drClusterName?: pulumi.Output<string>;
  readonly drKubeconfig?: pulumi.Output<string>;
  readonly drDatabaseEndpoint?: pulumi.Output<string | undefined>;
}

export function program(config: PraConfig): StackOutputs {
  if (config.topology === "lab") return deployLab(config);
  // Loaded only for the target: the lab must not pay for loading @pulumi/aws and @pulumi/kubernetes.
  const { Target } = require("./aws/target") as { Target: typeof TargetComponent };
  const target = new Target("pra", { config });
  return {
    topology: "target",
    namespace: config.namespace,
    region: target.region,
    drRegion: target.drRegion,
    drStrategy: config.dr.strategy,
    clusterName: target.clusterName,
    kubeconfig: pulumi.secret(target.kubeconfig),
    databaseEndpoint: target.databaseEndpoint,
    databaseSecretName: target.databaseSecretName,
    exportBucketName: target.exportBucketName,
    exportBucketKeyArn: target.exportBucketKeyArn,
    replicaBucketName: target.replicaBucketName,
    appRoleArn: target.appRoleArn,
    externalSecretsRoleArn: target.externalSecretsRoleArn,
    backupVaultName: target.backupVaultName,
    drBackupVaultName: target.drBackupVaultName,
    alarmTopicArn: target.alarmTopicArn,
    drClusterName: target.drClusterName,
    drKubeconfig: pulumi.secret(target.drKubeconfig),
    drDatabaseEndpoint: target.drDatabaseEndpoint,
  };
}
