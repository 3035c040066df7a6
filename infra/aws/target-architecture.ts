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
import { prepareStack } from "../../charts/stacks";
import { backupSelectionOf } from "../../dr/backup-selection";
import { drDesignOf, ecrImage } from "../../config/dr-design";
import type { FailoverTargets } from "../../config/failover-targets";
import type { TargetOutputs } from "../outputs";
import { Alarms } from "./alarms";
import { BackupPlan } from "./backup-plan";
import { BackupStorage } from "./backup-storage";
import { Cluster } from "./cluster";
import { Database } from "./database";
import { DrRegion } from "./dr-region";
import { ImageReplication } from "./image-replication";
import { Keys } from "./kms";
import { Network } from "./network";
import { ServiceCertificate } from "./service-certificate";
import { ServiceNameZone } from "./service-name";
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
  /**
   * The DR cluster, with what its workloads need: the same identities as the primary's, scoped to
   * the DR region's bucket, keys, secret replica and alarm topic.
   */
  public readonly dr: {
    readonly kubernetesProvider: Cluster["kubernetesProvider"];
    readonly clusterName: pulumi.Output<string>;
    readonly vpcId: pulumi.Output<string>;
    readonly podIdentities: PodIdentities;
    readonly exportBucketName: pulumi.Output<string>;
    readonly exportKeyArn: pulumi.Output<string>;
    readonly alarmTopicArn: pulumi.Output<string>;
  };
  /** The private zone of the service's stable name. */
  public readonly serviceZoneId: pulumi.Output<string>;
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
        design: design.database,
        keys: { rds: keys.arns.rds, secrets: keys.arns.secrets },
        secretName: names.databaseSecretName,
        region: config.region,
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
        volumeClaims: backupSelectionOf(config, prepareStack(config).objects.synced).volumeClaims,
        databaseSecret: { arn: database.secretArn, keyArn: keys.arns.secrets },
        restoreTest: {
          vpcId: network.vpcId,
          subnetGroupName: database.subnetGroupName,
          subnetIds: network.privateSubnetIds,
        },
        plan: design.backupPlan,
        restoreTesting: design.restoreTesting,
      },
      inPrimary,
    );
    const drDesign = drDesignOf(config);
    const drRegion = new DrRegion(
      `${name}-dr-region`,
      {
        region: config.dr.region,
        strategy: config.dr.strategy,
        design,
        clusterName: names.drClusterName,
        nodeInstanceType: config.cluster.nodeInstanceType,
        apiAccessCidrs: config.cluster.apiAccessCidrs,
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
        restoreTestIntervalHours: design.restoreTesting.intervalHours,
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

    // The DR cluster's workloads run as the same identities, in the DR region: the export bucket's
    // replica and its key, the secret's replica (same name and ARN but for the region) and key.
    const drSecretArn = database.secretArn.apply((arn) =>
      arn.replace(`:secretsmanager:${config.region}:`, `:secretsmanager:${config.dr.region}:`),
    );
    const drIdentity = new WorkloadIdentity(
      `${name}-dr-workload-identity`,
      {
        clusterName: drRegion.clusterName,
        region: config.dr.region,
        vpcId: drRegion.vpcId,
        namespace: config.namespace,
        exportBucketArn: storage.replicaBucketArn,
        exportKeyArn: drKeys.arns.s3,
        databaseSecretArn: drSecretArn,
        secretsKeyArn: drKeys.arns.secrets,
        alarmTopicArn: alarms.drTopicArn,
        alarmKeyArn: drKeys.arns.sns,
      },
      inDr,
    );
    const image = ecrImage(config.image);
    if (design.drParts.includes("image-replica") && image && drDesign.replicatedRepository) {
      new ImageReplication(
        `${name}-image-replication`,
        {
          repository: drDesign.replicatedRepository,
          imageAccount: image.account,
          accountId,
          drRegion: config.dr.region,
        },
        inPrimary,
      );
    }
    // TLS for the service's name, in both regions' load balancers (pulumi up refuses a target
    // without pra:serviceDomain: infra/config.ts).
    if (config.serviceDomain !== undefined) {
      new ServiceCertificate(
        `${name}-service-certificate`,
        {
          domainName: drDesign.serviceName.record,
          publicDomain: config.serviceDomain,
          providers: { primary, dr },
        },
        { parent: this },
      );
    }
    const serviceZone = new ServiceNameZone(
      `${name}-service-name`,
      {
        zone: drDesign.serviceName.zone,
        vpcs: [
          { vpcId: network.vpcId, region: config.region },
          { vpcId: drRegion.vpcId, region: config.dr.region },
        ],
      },
      inPrimary,
    );

    const failover: pulumi.Output<FailoverTargets> = pulumi
      .output({
        nodeGroups: pulumi.all(drRegion.cluster.nodeGroups),
        drCluster: drRegion.clusterName,
        drIdentifier:
          drRegion.replicaIdentifier ?? pulumi.output(`${names.databaseIdentifier}-restored`),
        automatedBackupsArn: drRegion.automatedBackupsReplicationArn,
        subnetGroupName: drRegion.databaseSubnetGroupName,
        securityGroupId: drRegion.databaseSecurityGroupId,
        parameterGroupName: drRegion.databaseParameterGroupName,
        kmsKeyArn: drKeys.arns.rds,
        primaryCluster: cluster.clusterName,
        primarySubnetGroup: database.subnetGroupName,
        primarySecurityGroup: database.securityGroupId,
        primaryParameterGroup: database.parameterGroupName,
        primaryKmsKeyArn: keys.arns.rds,
        primarySecretArn: database.secretArn,
        secretName: database.secretName,
        drSecretArn,
        exportBucket: storage.replicaBucketName,
        appRoleArn: drIdentity.appRoleArn,
        zoneId: serviceZone.zoneId,
      })
      .apply(
        (o): FailoverTargets => ({
          stack: config.stack,
          region: config.region,
          drRegion: config.dr.region,
          strategy: config.dr.strategy,
          parts: [...design.drParts],
          drCluster: { name: o.drCluster, nodeGroups: o.nodeGroups },
          database: {
            primaryIdentifier: names.databaseIdentifier,
            drIdentifier: o.drIdentifier,
            automatedBackupsArn: o.automatedBackupsArn,
            subnetGroupName: o.subnetGroupName,
            securityGroupId: o.securityGroupId,
            parameterGroupName: o.parameterGroupName,
            kmsKeyArn: o.kmsKeyArn,
            instanceClass: config.database.instanceClass,
            backupRetentionDays: design.database.backupRetentionDays,
          },
          primary: {
            clusterName: o.primaryCluster,
            subnetGroupName: o.primarySubnetGroup,
            securityGroupId: o.primarySecurityGroup,
            parameterGroupName: o.primaryParameterGroup,
            kmsKeyArn: o.primaryKmsKeyArn,
            secretArn: o.primarySecretArn,
          },
          secret: { name: o.secretName, drArn: o.drSecretArn },
          exportBucket: o.exportBucket,
          appRoleArn: o.appRoleArn,
          serviceName: {
            zoneId: o.zoneId,
            record: drDesign.serviceName.record,
            ttl: drDesign.serviceName.ttl,
          },
          image: drDesign.image,
        }),
      );

    this.design = design;
    this.serviceZoneId = serviceZone.zoneId;
    this.dr = {
      kubernetesProvider: drRegion.cluster.kubernetesProvider,
      clusterName: drRegion.clusterName,
      vpcId: drRegion.vpcId,
      podIdentities: drIdentity.associations,
      exportBucketName: storage.replicaBucketName,
      exportKeyArn: drKeys.arns.s3,
      alarmTopicArn: alarms.drTopicArn,
    };
    this.kubernetesProvider = cluster.kubernetesProvider;
    this.vpcId = network.vpcId;
    this.podIdentities = identity.associations;
    this.outputs = {
      region: config.region,
      drRegion: config.dr.region,
      drStrategy: config.dr.strategy,
      clusterName: cluster.clusterName,
      adminRoleArn: cluster.adminRoleArn,
      ...(image
        ? {
            imageRepository:
              `${image.account}.dkr.ecr.${image.region}.amazonaws.com/` +
              image.rest.replace(/[:@].*$/, ""),
          }
        : {}),
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
      failover,
    };
    this.registerOutputs(this.outputs);
  }
}
