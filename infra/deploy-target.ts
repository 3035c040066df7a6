/**
 * The target topology: the production architecture on AWS, then what runs in its EKS cluster
 * (add-ons, the synced charts, `pra-cloud`), deployed through the cluster's own provider.
 */
import * as pulumi from "@pulumi/pulumi";
import type { TargetConfig } from "../config";
import { Target } from "./aws/target-architecture";
import { TargetWorkloads } from "./kubernetes/target-workloads";
import type { StackOutputs } from "./program";

export function deployTarget(config: TargetConfig): StackOutputs {
  const target = new Target("pra", { config });
  new TargetWorkloads("pra", {
    config,
    provider: target.kubernetesProvider,
    clusterName: target.clusterName,
    vpcId: target.vpcId,
    exportBucketName: target.exportBucketName,
    exportBucketKeyArn: target.exportBucketKeyArn,
    podIdentities: target.podIdentities,
  });
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
    loadBalancerControllerRoleArn: target.loadBalancerControllerRoleArn,
    backupVaultName: target.backupVaultName,
    drBackupVaultName: target.drBackupVaultName,
    alarmTopicArn: target.alarmTopicArn,
    drClusterName: target.drClusterName,
    drKubeconfig: pulumi.secret(target.drKubeconfig),
    drDatabaseEndpoint: target.drDatabaseEndpoint,
  };
}
