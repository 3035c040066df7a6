/**
 * An EKS cluster: control-plane logs to an encrypted log group, Kubernetes secrets
 * envelope-encrypted with a customer-managed key, access entries (API authentication mode, no
 * aws-auth ConfigMap), one managed node group per zone in that zone's private subnet, the EBS
 * CSI driver through Pod Identity and an encrypted gp3 StorageClass as the default.
 */
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PLATFORM } from "../../charts/constructs/names";
import type { NodeCapacity } from "../../config";

export const CONTROL_PLANE_LOG_TYPES = [
  "api",
  "audit",
  "authenticator",
  "controllerManager",
  "scheduler",
] as const;
export const STORAGE_CLASS_NAME = "gp3-encrypted";
/** Scratch space the charts claim per pod (the restore test's throwaway database). */
export const SCRATCH_STORAGE_CLASS_NAME = PLATFORM.scratchStorageClass;
/**
 * The VPC CNI's settings: its network policy agent enforces the charts' NetworkPolicies, which
 * are otherwise accepted and ignored (a default-deny that denies nothing).
 */
export const VPC_CNI_CONFIGURATION = { enableNetworkPolicy: "true" } as const;
/** Tag the StorageClass puts on every volume it creates; the AWS Backup plan selects on it. */
export const BACKUP_TAG = { key: "pra-backup", value: "true" } as const;

export interface ClusterArgs {
  /** The EKS cluster's name (also in the kubeconfig). */
  readonly clusterName: string;
  readonly region: string;
  /** Kubernetes version (the design's: config/target-design.ts). */
  readonly kubernetesVersion: string;
  readonly vpcId: pulumi.Input<string>;
  /** One private subnet per zone; node group `i` runs in subnet `i`. */
  readonly privateSubnetIds: pulumi.Input<string>[];
  /** Node capacity of each zone's node group, same length as privateSubnetIds. */
  readonly nodesPerZone: readonly NodeCapacity[];
  /** The nodes' instance type (pra:nodeInstanceType). */
  readonly nodeInstanceType: string;
  /** Keys for Kubernetes secrets, EBS volumes and control-plane logs. */
  readonly keys: {
    readonly eks: pulumi.Input<string>;
    readonly ebs: pulumi.Input<string>;
    readonly logs: pulumi.Input<string>;
  };
  /** Days control-plane logs are kept. @default 90 */
  readonly logRetentionDays?: number;
  /**
   * Ranges that may reach the API endpoint from the internet. @default none: the endpoint is
   * private, reachable from inside the VPC (nodes, the operator host, a VPN or peered network).
   */
  readonly publicAccessCidrs?: readonly string[];
}

export function validateClusterArgs(args: ClusterArgs): void {
  if (args.nodesPerZone.length !== args.privateSubnetIds.length) {
    throw new Error(
      `Cluster ${args.clusterName}: ${args.nodesPerZone.length} node group sizes ` +
        `for ${args.privateSubnetIds.length} zones`,
    );
  }
  if (args.privateSubnetIds.length < 2) {
    throw new Error(
      `Cluster ${args.clusterName}: expected node groups in at least 2 zones; found ${args.privateSubnetIds.length}`,
    );
  }
  for (const [zone, size] of args.nodesPerZone.entries()) {
    if (size.min > size.desired || size.desired > size.max || size.max < 1) {
      throw new Error(
        `Cluster ${args.clusterName}: zone ${zone}: expected min <= desired <= max and max >= 1; ` +
          `found ${JSON.stringify(size)}`,
      );
    }
  }
}

/** Graviton instance types (m7g, c8g, r7gd...) need the ARM AMI. */
export function amiTypeFor(instanceType: string): string {
  const family = instanceType.split(".")[0]!;
  return /^[a-z]+\d+g/.test(family) ? "AL2023_ARM_64_STANDARD" : "AL2023_x86_64_STANDARD";
}

/** A kubeconfig that authenticates through `aws eks get-token`: no static credential in it. */
export function buildKubeconfig(
  clusterName: string,
  endpoint: string,
  caData: string,
  region: string,
): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      { name: clusterName, cluster: { server: endpoint, "certificate-authority-data": caData } },
    ],
    contexts: [{ name: clusterName, context: { cluster: clusterName, user: clusterName } }],
    "current-context": clusterName,
    users: [
      {
        name: clusterName,
        user: {
          exec: {
            apiVersion: "client.authentication.k8s.io/v1beta1",
            command: "aws",
            args: [
              "eks",
              "get-token",
              "--cluster-name",
              clusterName,
              "--region",
              region,
              "--output",
              "json",
            ],
          },
        },
      },
    ],
  });
}

/** Trust policy of a role assumed through EKS Pod Identity. */
export function podIdentityTrust(accountId: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: "pods.eks.amazonaws.com" },
        Action: ["sts:AssumeRole", "sts:TagSession"],
        Condition: { StringEquals: { "aws:SourceAccount": accountId } },
      },
    ],
  });
}

function serviceTrust(service: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
  });
}

export class Cluster extends pulumi.ComponentResource {
  public readonly clusterName: pulumi.Output<string>;
  /** The managed node groups, one per zone in zone order, with their capacity: a failover resizes them. */
  public readonly nodeGroups: pulumi.Output<{ name: string } & NodeCapacity>[];
  public readonly clusterArn: pulumi.Output<string>;
  public readonly endpoint: pulumi.Output<string>;
  /** Secret: the kubeconfig (no credentials in it, but it names the endpoint and CA). */
  public readonly kubeconfig: pulumi.Output<string>;
  /** The security group EKS attaches to the control plane and to managed nodes. */
  public readonly clusterSecurityGroupId: pulumi.Output<string>;
  public readonly nodeRoleArn: pulumi.Output<string>;
  public readonly adminRoleArn: pulumi.Output<string>;
  /** Kubernetes provider for this cluster (the charts deploy through it later). */
  public readonly kubernetesProvider: k8s.Provider;
  public readonly storageClassName: string = STORAGE_CLASS_NAME;

  constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pra:aws:Cluster", name, {}, opts);
    validateClusterArgs(args);
    const parent = { parent: this };
    const identity = aws.getCallerIdentityOutput({}, parent);
    const partition = aws.getPartitionOutput({}, parent).partition;
    const managed = (policy: string) =>
      pulumi.interpolate`arn:${partition}:iam::aws:policy/${policy}`;

    const clusterRole = new aws.iam.Role(
      `${name}-cluster`,
      { assumeRolePolicy: serviceTrust("eks.amazonaws.com") },
      parent,
    );
    new aws.iam.RolePolicyAttachment(
      `${name}-cluster-policy`,
      { role: clusterRole.name, policyArn: managed("AmazonEKSClusterPolicy") },
      parent,
    );
    new aws.iam.RolePolicy(
      `${name}-cluster-kms`,
      {
        role: clusterRole.id,
        policy: pulumi.output(args.keys.eks).apply((keyArn) =>
          JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Effect: "Allow",
                Action: ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"],
                Resource: keyArn,
              },
            ],
          }),
        ),
      },
      parent,
    );

    // EKS writes to this exact name; created first so it is encrypted and has a retention.
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-control-plane`,
      {
        name: `/aws/eks/${args.clusterName}/cluster`,
        kmsKeyId: args.keys.logs,
        retentionInDays: args.logRetentionDays ?? 90,
      },
      parent,
    );

    const cluster = new aws.eks.Cluster(
      `${name}-eks`,
      {
        name: args.clusterName,
        version: args.kubernetesVersion,
        roleArn: clusterRole.arn,
        vpcConfig: {
          subnetIds: args.privateSubnetIds,
          endpointPrivateAccess: true,
          // Public only towards ranges the stack names (pra:apiAccessCidrs); never 0.0.0.0/0.
          endpointPublicAccess: (args.publicAccessCidrs ?? []).length > 0,
          ...((args.publicAccessCidrs ?? []).length > 0
            ? { publicAccessCidrs: [...(args.publicAccessCidrs ?? [])] }
            : {}),
        },
        accessConfig: { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: true },
        encryptionConfig: { resources: ["secrets"], provider: { keyArn: args.keys.eks } },
        enabledClusterLogTypes: [...CONTROL_PLANE_LOG_TYPES],
        // Standard support only: at its end EKS upgrades the cluster instead of billing extended support.
        upgradePolicy: { supportType: "STANDARD" },
        deletionProtection: true,
      },
      { parent: this, dependsOn: [logGroup] },
    );

    const nodeRole = new aws.iam.Role(
      `${name}-nodes`,
      { assumeRolePolicy: serviceTrust("ec2.amazonaws.com") },
      parent,
    );
    const nodePolicies = [
      "AmazonEKSWorkerNodePolicy",
      "AmazonEC2ContainerRegistryReadOnly",
      "AmazonEKS_CNI_Policy",
    ];
    const nodeAttachments = nodePolicies.map(
      (policy) =>
        new aws.iam.RolePolicyAttachment(
          `${name}-nodes-${policy}`,
          { role: nodeRole.name, policyArn: managed(policy) },
          parent,
        ),
    );

    const launchTemplate = new aws.ec2.LaunchTemplate(
      `${name}-nodes`,
      {
        description: `Encrypted root volumes and IMDSv2 (hop limit 1) for ${args.clusterName}'s nodes`,
        blockDeviceMappings: [
          {
            deviceName: "/dev/xvda",
            ebs: {
              volumeSize: 50,
              volumeType: "gp3",
              encrypted: "true",
              kmsKeyId: args.keys.ebs,
              deleteOnTermination: "true",
            },
          },
        ],
        // Hop limit 1: pods cannot reach the node's instance role; they use Pod Identity.
        metadataOptions: {
          httpEndpoint: "enabled",
          httpTokens: "required",
          httpPutResponseHopLimit: 1,
        },
        updateDefaultVersion: true,
      },
      parent,
    );

    const instanceType = args.nodeInstanceType;
    const nodeGroups = args.nodesPerZone.map(
      (size, zone) =>
        new aws.eks.NodeGroup(
          `${name}-nodes-${zone}`,
          {
            clusterName: cluster.name,
            nodeRoleArn: nodeRole.arn,
            subnetIds: [args.privateSubnetIds[zone]!],
            instanceTypes: [instanceType],
            amiType: amiTypeFor(instanceType),
            capacityType: "ON_DEMAND",
            scalingConfig: { minSize: size.min, desiredSize: size.desired, maxSize: size.max },
            updateConfig: { maxUnavailable: 1 },
            launchTemplate: {
              id: launchTemplate.id,
              version: launchTemplate.latestVersion.apply(String),
            },
            nodeRepairConfig: { enabled: true },
            labels: { "pra.io/zone-index": String(zone) },
          },
          { parent: this, dependsOn: nodeAttachments },
        ),
    );

    const addon = (
      addonName: string,
      extra: Partial<aws.eks.AddonArgs> = {},
      dependsOn: pulumi.Resource[] = [],
    ) =>
      new aws.eks.Addon(
        `${name}-${addonName}`,
        {
          clusterName: cluster.name,
          addonName,
          resolveConflictsOnCreate: "OVERWRITE",
          resolveConflictsOnUpdate: "OVERWRITE",
          ...extra,
        },
        { parent: this, dependsOn },
      );
    const podIdentityAgent = addon("eks-pod-identity-agent");
    addon("vpc-cni", { configurationValues: JSON.stringify(VPC_CNI_CONFIGURATION) });
    addon("kube-proxy");
    addon("coredns", {}, nodeGroups);

    const ebsCsiRole = new aws.iam.Role(
      `${name}-ebs-csi`,
      { assumeRolePolicy: identity.accountId.apply(podIdentityTrust) },
      parent,
    );
    new aws.iam.RolePolicyAttachment(
      `${name}-ebs-csi`,
      { role: ebsCsiRole.name, policyArn: managed("service-role/AmazonEBSCSIDriverPolicy") },
      parent,
    );
    new aws.iam.RolePolicy(
      `${name}-ebs-csi-kms`,
      {
        role: ebsCsiRole.id,
        policy: pulumi.output(args.keys.ebs).apply((keyArn) =>
          JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Effect: "Allow",
                Action: ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
                Resource: keyArn,
                Condition: { Bool: { "kms:GrantIsForAWSResource": "true" } },
              },
              {
                Effect: "Allow",
                Action: [
                  "kms:Encrypt",
                  "kms:Decrypt",
                  "kms:ReEncrypt*",
                  "kms:GenerateDataKey*",
                  "kms:DescribeKey",
                ],
                Resource: keyArn,
              },
            ],
          }),
        ),
      },
      parent,
    );
    const ebsCsi = addon(
      "aws-ebs-csi-driver",
      {
        podIdentityAssociations: [
          { roleArn: ebsCsiRole.arn, serviceAccount: "ebs-csi-controller-sa" },
        ],
      },
      [podIdentityAgent, ...nodeGroups],
    );

    // Operators reach the cluster by assuming this role (access entry), never through aws-auth.
    const adminRole = new aws.iam.Role(
      `${name}-admin`,
      {
        description: `Cluster administrators of ${args.clusterName} (assumed by people and CI of this account)`,
        assumeRolePolicy: pulumi.all([identity.accountId, partition]).apply(([accountId, part]) =>
          JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Effect: "Allow",
                Principal: { AWS: `arn:${part}:iam::${accountId}:root` },
                Action: "sts:AssumeRole",
              },
            ],
          }),
        ),
        maxSessionDuration: 3600,
      },
      parent,
    );
    const adminEntry = new aws.eks.AccessEntry(
      `${name}-admin`,
      { clusterName: cluster.name, principalArn: adminRole.arn, type: "STANDARD" },
      parent,
    );
    new aws.eks.AccessPolicyAssociation(
      `${name}-admin`,
      {
        clusterName: cluster.name,
        principalArn: adminRole.arn,
        policyArn: pulumi.interpolate`arn:${partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy`,
        accessScope: { type: "cluster" },
      },
      { parent: this, dependsOn: [adminEntry] },
    );

    this.clusterName = cluster.name;
    this.nodeGroups = nodeGroups.map((group, zone) =>
      group.nodeGroupName.apply((groupName) => ({ name: groupName, ...args.nodesPerZone[zone]! })),
    );
    this.clusterArn = cluster.arn;
    this.endpoint = cluster.endpoint;
    this.clusterSecurityGroupId = cluster.vpcConfig.apply((vpc) => vpc.clusterSecurityGroupId);
    this.nodeRoleArn = nodeRole.arn;
    this.adminRoleArn = adminRole.arn;
    this.kubeconfig = pulumi.secret(
      pulumi
        .all([cluster.name, cluster.endpoint, cluster.certificateAuthority])
        .apply(([clusterName, endpoint, ca]) =>
          buildKubeconfig(clusterName, endpoint, ca.data ?? "", args.region),
        ),
    );

    this.kubernetesProvider = new k8s.Provider(
      `${name}-k8s`,
      { kubeconfig: this.kubeconfig, enableServerSideApply: true },
      { parent: this, dependsOn: [ebsCsi] },
    );
    new k8s.storage.v1.StorageClass(
      `${name}-${STORAGE_CLASS_NAME}`,
      {
        metadata: {
          name: STORAGE_CLASS_NAME,
          annotations: { "storageclass.kubernetes.io/is-default-class": "true" },
        },
        provisioner: "ebs.csi.aws.com",
        volumeBindingMode: "WaitForFirstConsumer",
        allowVolumeExpansion: true,
        // A deleted claim must not delete the data: the volume stays until someone removes it.
        reclaimPolicy: "Retain",
        parameters: {
          type: "gp3",
          encrypted: "true",
          kmsKeyId: args.keys.ebs,
          tagSpecification_1: `${BACKUP_TAG.key}=${BACKUP_TAG.value}`,
        },
      },
      { parent: this, provider: this.kubernetesProvider },
    );
    new k8s.storage.v1.StorageClass(
      `${name}-${SCRATCH_STORAGE_CLASS_NAME}`,
      {
        metadata: { name: SCRATCH_STORAGE_CLASS_NAME },
        provisioner: "ebs.csi.aws.com",
        volumeBindingMode: "WaitForFirstConsumer",
        // Scratch: deleted with the pod's claim, and not tagged for AWS Backup.
        reclaimPolicy: "Delete",
        parameters: { type: "gp3", encrypted: "true", kmsKeyId: args.keys.ebs },
      },
      { parent: this, provider: this.kubernetesProvider },
    );

    this.registerOutputs({
      clusterName: this.clusterName,
      endpoint: this.endpoint,
      kubeconfig: this.kubeconfig,
      clusterSecurityGroupId: this.clusterSecurityGroupId,
    });
  }
}
