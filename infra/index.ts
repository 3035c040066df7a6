/**
 * Pulumi entry point: load the typed settings (refused before anything is declared when they
 * make no sense), build the lab or the target, export the outputs.
 */
import { loadConfig, loadKubernetesContext } from "./config";
import { program } from "./program";

const kubeContext = loadKubernetesContext();
const outputs = program(loadConfig(), kubeContext ? { kubeContext } : {});

export const topology = outputs.topology;
export const namespace = outputs.namespace;
export const region = outputs.region;
export const drRegion = outputs.drRegion;
export const drStrategy = outputs.drStrategy;
export const clusterName = outputs.clusterName;
export const kubeconfig = outputs.kubeconfig;
export const databaseEndpoint = outputs.databaseEndpoint;
export const databaseSecretName = outputs.databaseSecretName;
export const exportBucketName = outputs.exportBucketName;
export const exportBucketKeyArn = outputs.exportBucketKeyArn;
export const replicaBucketName = outputs.replicaBucketName;
export const appRoleArn = outputs.appRoleArn;
export const externalSecretsRoleArn = outputs.externalSecretsRoleArn;
export const loadBalancerControllerRoleArn = outputs.loadBalancerControllerRoleArn;
export const backupVaultName = outputs.backupVaultName;
export const drBackupVaultName = outputs.drBackupVaultName;
export const alarmTopicArn = outputs.alarmTopicArn;
export const drClusterName = outputs.drClusterName;
export const drKubeconfig = outputs.drKubeconfig;
export const drDatabaseEndpoint = outputs.drDatabaseEndpoint;
