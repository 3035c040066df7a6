/**
 * The production architecture on AWS, composed from one component per concern, with every
 * figure taken from describeTargetDesign. Exposes what the charts need to deploy into it, and
 * assembles the stack outputs (infra/outputs.ts) in one object.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  cloudNames,
  describeTargetDesign,
  type TargetConfig,
  type TargetDesign,
} from "../../config";
import type { TargetOutputs } from "../outputs";
import { Alarms } from "./alarms";
import { BackupPlan } from "./backup-plan";
import { BackupStorage } from "./backup-storage";
import { Cluster } from "./cluster";
import { Database } from "./database";
import { DrRegion } from "./dr-region";
import { Keys } from "./kms";
import { Network } from "./network";
import { type PodIdentities, WorkloadIdentity } from "./workload-identity";

export interface TargetArgs {
  readonly config: TargetConfig;
}

export class Target extends pulumi.ComponentResource {
  public readonly design: TargetDesign;
  public readonly kubernetesProvider: Cluster["kubernetesProvider"];
  public readonly vpcId: pulumi.Output<string>;
  /** What the cluster's workloads wait for: pods pick up their AWS role only when they start. */
  public readonly podIdentities: PodIdentities;
  /** The stack outputs of the target's architecture. */
  public readonly outputs: TargetOutputs;

  constructor(name: string, args: TargetArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pra:aws:Target", name, {}, opts);
    const { config } = args;
    const design = describeTargetDesign(config);
    const names = cloudNames(config.stack);
    const defaultTags = { tags: { project: "pra", stack: config.stack, "managed-by": "pulumi" } };
    const primary = new aws.Provider(
      `${name}-primary`,
      { region: config.region, defaultTags },
      { parent: this },
    );
    const dr = new aws.Provider(
      `${name}-dr`,
      { region: config.dr.region, defaultTags },
      { parent: this },
    );
    const inPrimary = { parent: this, providers: [primary] };
    const inDr = { parent: this, providers: [dr] };
    const accountId = aws.getCallerIdentityOutput(
      {},
      { parent: this, provider: primary },
    ).accountId;

    const keys = new Keys(
      `${name}-keys`,
      { region: config.region, aliasPrefix: names.keyAliasPrefix },
      inPrimary,
    );
    const drKeys = new Keys(
      `${name}-dr-keys`,
      { region: config.dr.region, aliasPrefix: names.keyAliasPrefix },
      inDr,
    );

    const network = new Network(
      `${name}-network`,
      {
        cidrBlock: design.network.primaryCidr,
        availabilityZones: design.network.availabilityZones,
        natGateways: config.network.natGateways,
        logsKeyArn: keys.arns.logs,
        region: config.region,
        clusterName: names.clusterName,
      },
      inPrimary,
    );
    const cluster = new Cluster(
      `${name}-cluster`,
      {
        clusterName: names.clusterName,
        region: config.region,
        kubernetesVersion: design.cluster.kubernetesVersion,
        vpcId: network.vpcId,
        privateSubnetIds: network.privateSubnetIds,
        nodesPerZone: design.cluster.primaryNodesPerZone,
        nodeInstanceType: config.cluster.nodeInstanceType,
        keys: { eks: keys.arns.eks, ebs: keys.arns.ebs, logs: keys.arns.logs },
        publicAccessCidrs: config.cluster.apiAccessCidrs,
      },
      inPrimary,
    );
    const database = new Database(
      `${name}-database`,
      {
        identifier: names.databaseIdentifier,
        vpcId: network.vpcId,
        subnetIds: network.privateSubnetIds,
        clientSecurityGroupId: cluster.clusterSecurityGroupId,
        instanceClass: config.database.instanceClass,
        engineVersion: design.database.engineVersion,
        parameterGroupFamily: design.database.parameterGroupFamily,
        allocatedStorageGb: config.database.allocatedStorageGb,
        maxAllocatedStorageGb: config.database.maxAllocatedStorageGb,
        backupRetentionDays: design.database.backupRetentionDays,
        keys: { rds: keys.arns.rds, secrets: keys.arns.secrets },
        secretName: names.databaseSecretName,
        secretReplica: { region: config.dr.region, kmsKeyArn: drKeys.arns.secrets },
      },
      inPrimary,
    );
    const storage = new BackupStorage(
      `${name}-backup-storage`,
      {
        bucketName: accountId.apply((id) => names.exportBucket(id, config.region)),
        replicaBucketName: accountId.apply((id) => names.exportBucket(id, config.dr.region)),
        keys: { primary: keys.arns.s3, dr: drKeys.arns.s3 },
        drProvider: dr,
        noncurrentVersionDays: design.exportBucket.noncurrentVersionDays,
        replicationTimeMinutes: design.exportBucket.replicationTimeControlMinutes,
      },
      inPrimary,
    );
    const backupPlan = new BackupPlan(
      `${name}-backup-plan`,
      {
        baseName: names.base,
        drProvider: dr,
        keys: {
          primary: keys.arns.backup,
          dr: drKeys.arns.backup,
          resources: [keys.arns.rds, keys.arns.ebs, drKeys.arns.rds, drKeys.arns.ebs],
          logs: keys.arns.logs,
        },
        databaseArn: database.instanceArn,
        restoreTest: { vpcId: network.vpcId, subnetGroupName: database.subnetGroupName },
        plan: design.backupPlan,
        restoreTesting: design.restoreTesting,
      },
      inPrimary,
    );
    const drRegion = new DrRegion(
      `${name}-dr-region`,
      {
        region: config.dr.region,
        strategy: config.dr.strategy,
        design,
        clusterName: names.drClusterName,
        nodeInstanceType: config.cluster.nodeInstanceType,
        keys: {
          eks: drKeys.arns.eks,
          ebs: drKeys.arns.ebs,
          logs: drKeys.arns.logs,
          rds: drKeys.arns.rds,
        },
        primaryDatabase: {
          arn: database.instanceArn,
          identifier: names.databaseIdentifier,
          instanceClass: config.database.instanceClass,
        },
      },
      inDr,
    );
    const alarms = new Alarms(
      `${name}-alarms`,
      {
        baseName: names.base,
        drProvider: dr,
        keys: { primary: keys.arns.sns, dr: drKeys.arns.sns },
        ...(config.alerts.email ? { email: config.alerts.email } : {}),
        exportBucket: {
          name: storage.bucketName,
          replicaName: storage.replicaBucketName,
          ruleId: storage.replicationRuleId,
          latencyAlarmSeconds: design.exportBucket.replicationLatencyAlarmSeconds,
        },
        database: {
          identifier: database.identifier,
          freeStorageAlarmBytes: design.database.freeStorageAlarmBytes,
        },
        ...(drRegion.replicaIdentifier
          ? {
              replica: {
                identifier: drRegion.replicaIdentifier,
                lagAlarmSeconds: design.database.replicaLagAlarmSeconds,
              },
            }
          : {}),
      },
      inPrimary,
    );
    const identity = new WorkloadIdentity(
      `${name}-workload-identity`,
      {
        clusterName: cluster.clusterName,
        region: config.region,
        vpcId: network.vpcId,
        namespace: config.namespace,
        exportBucketArn: storage.bucketArn,
        exportKeyArn: keys.arns.s3,
        databaseSecretArn: database.secretArn,
        secretsKeyArn: keys.arns.secrets,
        alarmTopicArn: alarms.topicArn,
        alarmKeyArn: keys.arns.sns,
      },
      inPrimary,
    );

    this.design = design;
    this.kubernetesProvider = cluster.kubernetesProvider;
    this.vpcId = network.vpcId;
    this.podIdentities = identity.associations;
    this.outputs = {
      region: config.region,
      drRegion: config.dr.region,
      drStrategy: config.dr.strategy,
      clusterName: cluster.clusterName,
      kubeconfig: pulumi.secret(cluster.kubeconfig),
      databaseEndpoint: database.endpoint,
      databaseSecretName: database.secretName,
      exportBucketName: storage.bucketName,
      exportBucketKeyArn: keys.arns.s3,
      replicaBucketName: storage.replicaBucketName,
      appRoleArn: identity.appRoleArn,
      externalSecretsRoleArn: identity.externalSecretsRoleArn,
      loadBalancerControllerRoleArn: identity.loadBalancerControllerRoleArn,
      backupVaultName: backupPlan.vaultName,
      drBackupVaultName: backupPlan.drVaultName,
      alarmTopicArn: alarms.topicArn,
      drClusterName: drRegion.clusterName,
      drKubeconfig: pulumi.secret(drRegion.kubeconfig),
      ...(drRegion.replicaEndpoint ? { drDatabaseEndpoint: drRegion.replicaEndpoint } : {}),
    };
    this.registerOutputs(this.outputs);
  }
}
