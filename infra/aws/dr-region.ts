/**
 * The disaster-recovery region. Pilot light: a network and an EKS cluster at minimal
 * capacity, ready to scale, and the database's automated backups replicated there (restore to
 * any point of the retention). Warm standby: the same, plus a cross-region read replica of the
 * database and nodes running in every zone. Which parts exist is declared once in
 * config/dr-design.ts (the DR model reads the same list); the DR cluster's add-ons, identities,
 * settings and standby workload are infra/kubernetes/dr-workloads.ts. The failover is
 * dr/failover-runbook.ts (npm run failover).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { DrStrategy, TargetDesign } from "../../config";
import { Cluster } from "./cluster";
import { POSTGRES_PORT } from "./database";
import { Network } from "./network";

export interface DrRegionArgs {
  readonly region: string;
  readonly strategy: DrStrategy;
  /** Figures from describeTargetDesign. */
  readonly design: TargetDesign;
  readonly clusterName: string;
  readonly nodeInstanceType: string;
  /** Ranges that may reach the DR cluster's API from the internet: the primary's (pra:apiAccessCidrs). */
  readonly apiAccessCidrs: readonly string[];
  /** Keys of the DR region. */
  readonly keys: {
    readonly eks: pulumi.Input<string>;
    readonly ebs: pulumi.Input<string>;
    readonly logs: pulumi.Input<string>;
    readonly rds: pulumi.Input<string>;
  };
  readonly primaryDatabase: {
    readonly arn: pulumi.Input<string>;
    readonly identifier: string;
    readonly instanceClass: string;
  };
}

export function validateDrRegionArgs(args: DrRegionArgs): void {
  if (args.region === args.design.regions.primary) {
    throw new Error(`DrRegion: expected a region other than the primary (${args.region})`);
  }
  if (args.strategy !== args.design.drStrategy) {
    throw new Error(
      `DrRegion: strategy ${args.strategy} differs from the design's ${args.design.drStrategy}`,
    );
  }
  if (args.design.drParts.includes("read-replica") !== args.design.database.crossRegionReplica) {
    throw new Error(
      "DrRegion: the DR parts and the design disagree on the cross-region read replica",
    );
  }
}

export class DrRegion extends pulumi.ComponentResource {
  public readonly clusterName: pulumi.Output<string>;
  public readonly kubeconfig: pulumi.Output<string>;
  public readonly vpcId: pulumi.Output<string>;
  /** The read replica's endpoint (warm standby), or undefined. */
  public readonly replicaEndpoint?: pulumi.Output<string>;
  public readonly replicaIdentifier?: pulumi.Output<string>;
  public readonly automatedBackupsReplicationArn: pulumi.Output<string>;
  /** Where a database restored (or promoted) in the DR region lives. */
  public readonly databaseSubnetGroupName: pulumi.Output<string>;
  public readonly databaseSecurityGroupId: pulumi.Output<string>;
  public readonly databaseParameterGroupName: pulumi.Output<string>;
  public readonly cluster: Cluster;

  /** Pass the DR region's aws provider in `opts.providers`: every child uses it. */
  constructor(name: string, args: DrRegionArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pra:aws:DrRegion", name, {}, opts);
    validateDrRegionArgs(args);
    const parent = { parent: this };
    const { design } = args;

    const network = new Network(
      `${name}-network`,
      {
        cidrBlock: design.network.drCidr,
        availabilityZones: design.network.availabilityZones,
        natGateways: design.network.drNatGateways,
        logsKeyArn: args.keys.logs,
        region: args.region,
        clusterName: args.clusterName,
      },
      parent,
    );
    this.cluster = new Cluster(
      `${name}-cluster`,
      {
        clusterName: args.clusterName,
        region: args.region,
        kubernetesVersion: design.cluster.kubernetesVersion,
        vpcId: network.vpcId,
        privateSubnetIds: network.privateSubnetIds,
        nodesPerZone: design.cluster.drNodesPerZone,
        nodeInstanceType: args.nodeInstanceType,
        keys: { eks: args.keys.eks, ebs: args.keys.ebs, logs: args.keys.logs },
        // The failover runbook reaches it from where it reaches the primary.
        publicAccessCidrs: args.apiAccessCidrs,
      },
      parent,
    );

    // Point-in-time recovery in the DR region: RDS ships the snapshots and transaction logs.
    const replication = new aws.rds.InstanceAutomatedBackupsReplication(
      `${name}-pitr-replication`,
      {
        sourceDbInstanceArn: args.primaryDatabase.arn,
        kmsKeyId: args.keys.rds,
        retentionPeriod: design.database.drBackupReplicationRetentionDays,
      },
      parent,
    );
    this.automatedBackupsReplicationArn = replication.id;

    // Free to keep: where a restore (pilot light) or the replica (warm standby) lands.
    const subnetGroup = new aws.rds.SubnetGroup(
      `${name}-db-subnets`,
      {
        name: `${args.primaryDatabase.identifier}-dr-subnets`,
        subnetIds: network.privateSubnetIds,
      },
      parent,
    );
    const securityGroup = new aws.ec2.SecurityGroup(
      `${name}-db-sg`,
      {
        name: `${args.primaryDatabase.identifier}-dr-db`,
        vpcId: network.vpcId,
        description: "PostgreSQL in the DR region: reachable from the DR cluster nodes only",
      },
      parent,
    );
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-db-from-nodes`,
      {
        securityGroupId: securityGroup.id,
        referencedSecurityGroupId: this.cluster.clusterSecurityGroupId,
        ipProtocol: "tcp",
        fromPort: POSTGRES_PORT,
        toPort: POSTGRES_PORT,
      },
      parent,
    );
    const parameterGroup = new aws.rds.ParameterGroup(
      `${name}-db-params`,
      {
        name: `${args.primaryDatabase.identifier}-dr-params`,
        family: design.database.parameterGroupFamily,
        parameters: [...design.database.tlsParameters],
      },
      parent,
    );
    this.databaseSubnetGroupName = subnetGroup.name;
    this.databaseSecurityGroupId = securityGroup.id;
    this.databaseParameterGroupName = parameterGroup.name;

    if (args.design.drParts.includes("read-replica")) {
      const replica = new aws.rds.Instance(
        `${name}-replica`,
        {
          identifier: `${args.primaryDatabase.identifier}-dr`,
          replicateSourceDb: args.primaryDatabase.arn,
          instanceClass: args.primaryDatabase.instanceClass,
          storageEncrypted: true,
          kmsKeyId: args.keys.rds,
          // One zone while it is a replica; the promotion step turns Multi-AZ on (see docs).
          multiAz: false,
          dbSubnetGroupName: subnetGroup.name,
          vpcSecurityGroupIds: [securityGroup.id],
          parameterGroupName: parameterGroup.name,
          publiclyAccessible: false,
          // Backups on the replica, so a promoted replica has point-in-time recovery at once.
          backupRetentionPeriod: design.database.backupRetentionDays,
          deletionProtection: true,
          skipFinalSnapshot: false,
          finalSnapshotIdentifier: `${args.primaryDatabase.identifier}-dr-final`,
          copyTagsToSnapshot: true,
          autoMinorVersionUpgrade: true,
          performanceInsightsEnabled: true,
          performanceInsightsKmsKeyId: args.keys.rds,
        },
        parent,
      );
      this.replicaEndpoint = replica.endpoint;
      this.replicaIdentifier = replica.identifier;
    }

    this.clusterName = this.cluster.clusterName;
    this.kubeconfig = this.cluster.kubeconfig;
    this.vpcId = network.vpcId;
    this.registerOutputs({
      clusterName: this.clusterName,
      kubeconfig: this.kubeconfig,
      replicaEndpoint: this.replicaEndpoint,
    });
  }
}
