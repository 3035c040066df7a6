/**
 * IAM roles the cluster's workloads assume through EKS Pod Identity (no static credentials):
 * one per app command (`pra-app` serves, `pra-export` exports, `pra-restore-test` verifies), each
 * allowing the AWS actions the app's contract lists for its command and nothing more
 * (charts/target/identities.ts, apps/pra-app/src/contract.ts);
 * External Secrets (`external-secrets/external-secrets`) reads the database secret; the AWS
 * Load Balancer Controller (`kube-system/aws-load-balancer-controller`) manages this cluster's
 * load balancers (policy in load-balancer-controller-policy.ts); Alertmanager
 * (`monitoring/alertmanager`) publishes the `pra` alerts to the alarm topic; Cluster Autoscaler
 * (`kube-system/cluster-autoscaler`) resizes this cluster's node groups and no other
 * (clusterAutoscalerPolicy).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { type AwsActionNeed, RESTORE_TEST_REPORT_DIR } from "../../apps/pra-app/src/contract";
import {
  awsActionsOf,
  TARGET_IDENTITIES,
  type TargetIdentity,
} from "../../charts/target/identities";
import { EXPORT_PREFIX } from "../kubernetes/cloud-settings";
import { ADDON_SERVICE_ACCOUNTS } from "../kubernetes/addon-charts";
import { podIdentityTrust } from "./cluster";
import { loadBalancerControllerPolicy } from "./load-balancer-controller-policy";

export const APP_SERVICE_ACCOUNT = TARGET_IDENTITIES.app.serviceAccount;
export const EXTERNAL_SECRETS = {
  namespace: ADDON_SERVICE_ACCOUNTS.externalSecrets.namespace,
  serviceAccount: ADDON_SERVICE_ACCOUNTS.externalSecrets.name,
} as const;
export const LOAD_BALANCER_CONTROLLER = {
  namespace: ADDON_SERVICE_ACCOUNTS.loadBalancerController.namespace,
  serviceAccount: ADDON_SERVICE_ACCOUNTS.loadBalancerController.name,
} as const;
export const ALERTMANAGER = {
  namespace: ADDON_SERVICE_ACCOUNTS.alertmanager.namespace,
  serviceAccount: ADDON_SERVICE_ACCOUNTS.alertmanager.name,
} as const;
export const CLUSTER_AUTOSCALER = {
  namespace: ADDON_SERVICE_ACCOUNTS.clusterAutoscaler.namespace,
  serviceAccount: ADDON_SERVICE_ACCOUNTS.clusterAutoscaler.name,
} as const;

/**
 * Cluster Autoscaler's permissions: reading Auto Scaling and EC2 (these Describe actions support
 * no resource scoping), and resizing or terminating instances only in the Auto Scaling groups
 * tagged as this cluster's: EKS tags each managed node group's group
 * `k8s.io/cluster-autoscaler/<cluster>=owned`, so another cluster's groups are out of reach.
 */
export function clusterAutoscalerPolicy(clusterName: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Action: [
          "autoscaling:DescribeAutoScalingGroups",
          "autoscaling:DescribeAutoScalingInstances",
          "autoscaling:DescribeLaunchConfigurations",
          "autoscaling:DescribeScalingActivities",
          "autoscaling:DescribeTags",
          "ec2:DescribeImages",
          "ec2:DescribeInstanceTypes",
          "ec2:DescribeLaunchTemplateVersions",
          "ec2:GetInstanceTypesFromInstanceRequirements",
          "eks:DescribeNodegroup",
        ],
        Resource: "*",
      },
      {
        Effect: "Allow",
        Action: [
          "autoscaling:SetDesiredCapacity",
          "autoscaling:TerminateInstanceInAutoScalingGroup",
        ],
        Resource: "*",
        Condition: {
          StringEquals: { [`aws:ResourceTag/k8s.io/cluster-autoscaler/${clusterName}`]: "owned" },
        },
      },
    ],
  });
}

export interface WorkloadIdentityArgs {
  readonly clusterName: pulumi.Input<string>;
  /** The cluster's region and VPC: the Load Balancer Controller may act only there. */
  readonly region: string;
  readonly vpcId: pulumi.Input<string>;
  /** The app's namespace (pra:namespace). */
  readonly namespace: string;
  readonly exportBucketArn: pulumi.Input<string>;
  readonly exportKeyArn: pulumi.Input<string>;
  readonly databaseSecretArn: pulumi.Input<string>;
  readonly secretsKeyArn: pulumi.Input<string>;
  /** The alarm topic Alertmanager publishes to, and the KMS key it is encrypted with. */
  readonly alarmTopicArn: pulumi.Input<string>;
  readonly alarmKeyArn: pulumi.Input<string>;
}

/** The ARNs the contract's resources stand for. */
export interface ExportResources {
  readonly bucketArn: string;
  readonly keyArn: string;
}

/**
 * An identity's policy, written from its commands' contract: each action on the resource the
 * contract names, objects only under the export prefix, grouped by resource.
 */
export function commandPolicy(identity: TargetIdentity, resources: ExportResources): string {
  const arnOf: Record<AwsActionNeed["resource"], string> = {
    "export-bucket": resources.bucketArn,
    "export-objects": `${resources.bucketArn}/${EXPORT_PREFIX}*`,
    "restore-test-report": `${resources.bucketArn}/${EXPORT_PREFIX}${RESTORE_TEST_REPORT_DIR}*`,
    "export-key": resources.keyArn,
  };
  const sids: Record<AwsActionNeed["resource"], string> = {
    "export-bucket": "ListExports",
    "export-objects": "Exports",
    "restore-test-report": "RestoreTestReport",
    "export-key": "ExportKey",
  };
  const byResource = new Map<AwsActionNeed["resource"], string[]>();
  for (const need of awsActionsOf(identity)) {
    byResource.set(need.resource, [...(byResource.get(need.resource) ?? []), need.action]);
  }
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [...byResource.entries()].map(([resource, actions]) => ({
      Sid: sids[resource],
      Effect: "Allow",
      Action: actions,
      Resource: arnOf[resource],
    })),
  });
}

/**
 * Alertmanager publishes to the alarm topic and nothing else. The topic is encrypted with a
 * customer managed key, so publishing needs the key too: SNS asks KMS for a data key as the
 * publisher (kms:GenerateDataKey, kms:Decrypt), which the key policy delegates to IAM.
 */
export function alertmanagerPolicy(topicArn: string, keyArn: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      { Sid: "PublishAlerts", Effect: "Allow", Action: "sns:Publish", Resource: topicArn },
      {
        Sid: "UseAlarmTopicKey",
        Effect: "Allow",
        Action: ["kms:GenerateDataKey", "kms:Decrypt"],
        Resource: keyArn,
      },
    ],
  });
}

export function secretReadStatements(secretArn: string, secretsKeyArn: string): object[] {
  return [
    {
      Sid: "ReadDatabaseSecret",
      Effect: "Allow",
      Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
      Resource: secretArn,
    },
    {
      Sid: "DecryptDatabaseSecret",
      Effect: "Allow",
      Action: "kms:Decrypt",
      Resource: secretsKeyArn,
    },
  ];
}

/** The Pod Identity associations: a pod gets AWS credentials only if its association exists when it starts. */
export interface PodIdentities {
  readonly app: pulumi.Resource;
  readonly exportJob: pulumi.Resource;
  readonly restoreTest: pulumi.Resource;
  readonly externalSecrets: pulumi.Resource;
  readonly loadBalancerController: pulumi.Resource;
  readonly alertmanager: pulumi.Resource;
  readonly clusterAutoscaler: pulumi.Resource;
}

export class WorkloadIdentity extends pulumi.ComponentResource {
  public readonly appRoleArn: pulumi.Output<string>;
  public readonly externalSecretsRoleArn: pulumi.Output<string>;
  public readonly loadBalancerControllerRoleArn: pulumi.Output<string>;
  public readonly alertmanagerRoleArn: pulumi.Output<string>;
  public readonly associations: PodIdentities;

  constructor(name: string, args: WorkloadIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pra:aws:WorkloadIdentity", name, {}, opts);
    const parent = { parent: this };
    const accountId = aws.getCallerIdentityOutput({}, parent).accountId;
    const trust = accountId.apply(podIdentityTrust);

    const exportResources = pulumi
      .all([args.exportBucketArn, args.exportKeyArn])
      .apply(([bucketArn, keyArn]) => ({ bucketArn, keyArn }));
    const commandRole = (id: string, identity: TargetIdentity, description: string) => {
      const role = new aws.iam.Role(
        `${name}-${id}`,
        { assumeRolePolicy: trust, description },
        parent,
      );
      new aws.iam.RolePolicy(
        `${name}-${id}`,
        {
          role: role.id,
          policy: exportResources.apply((resources) => commandPolicy(identity, resources)),
        },
        parent,
      );
      const association = new aws.eks.PodIdentityAssociation(
        `${name}-${id}`,
        {
          clusterName: args.clusterName,
          namespace: args.namespace,
          serviceAccount: identity.serviceAccount,
          roleArn: role.arn,
        },
        parent,
      );
      return { role, association };
    };
    const app = commandRole("app", TARGET_IDENTITIES.app, "pra-app serve via Pod Identity");
    const exportJob = commandRole(
      "export",
      TARGET_IDENTITIES.export,
      "pra-app backup (PostgreSQL exports) via Pod Identity",
    );
    const restoreTest = commandRole(
      "restore-test",
      TARGET_IDENTITIES.restoreTest,
      "pra-app verify (restore test) via Pod Identity",
    );

    const esoRole = new aws.iam.Role(
      `${name}-external-secrets`,
      { assumeRolePolicy: trust, description: "External Secrets via Pod Identity" },
      parent,
    );
    new aws.iam.RolePolicy(
      `${name}-external-secrets`,
      {
        role: esoRole.id,
        policy: pulumi
          .all([args.databaseSecretArn, args.secretsKeyArn])
          .apply(([secret, key]) =>
            JSON.stringify({ Version: "2012-10-17", Statement: secretReadStatements(secret, key) }),
          ),
      },
      parent,
    );
    const esoAssociation = new aws.eks.PodIdentityAssociation(
      `${name}-external-secrets`,
      {
        clusterName: args.clusterName,
        namespace: EXTERNAL_SECRETS.namespace,
        serviceAccount: EXTERNAL_SECRETS.serviceAccount,
        roleArn: esoRole.arn,
      },
      parent,
    );

    const lbcRole = new aws.iam.Role(
      `${name}-load-balancer-controller`,
      { assumeRolePolicy: trust, description: "AWS Load Balancer Controller via Pod Identity" },
      parent,
    );
    new aws.iam.RolePolicy(
      `${name}-load-balancer-controller`,
      {
        role: lbcRole.id,
        policy: pulumi
          .all([accountId, args.clusterName, args.vpcId])
          .apply(([account, clusterName, vpcId]) =>
            loadBalancerControllerPolicy({
              accountId: account,
              region: args.region,
              clusterName,
              vpcId,
            }),
          ),
      },
      parent,
    );
    const lbcAssociation = new aws.eks.PodIdentityAssociation(
      `${name}-load-balancer-controller`,
      {
        clusterName: args.clusterName,
        namespace: LOAD_BALANCER_CONTROLLER.namespace,
        serviceAccount: LOAD_BALANCER_CONTROLLER.serviceAccount,
        roleArn: lbcRole.arn,
      },
      parent,
    );

    const alertmanagerRole = new aws.iam.Role(
      `${name}-alertmanager`,
      { assumeRolePolicy: trust, description: "Alertmanager via Pod Identity (alerts to SNS)" },
      parent,
    );
    new aws.iam.RolePolicy(
      `${name}-alertmanager`,
      {
        role: alertmanagerRole.id,
        policy: pulumi
          .all([args.alarmTopicArn, args.alarmKeyArn])
          .apply(([topic, key]) => alertmanagerPolicy(topic, key)),
      },
      parent,
    );
    const alertmanagerAssociation = new aws.eks.PodIdentityAssociation(
      `${name}-alertmanager`,
      {
        clusterName: args.clusterName,
        namespace: ALERTMANAGER.namespace,
        serviceAccount: ALERTMANAGER.serviceAccount,
        roleArn: alertmanagerRole.arn,
      },
      parent,
    );

    const autoscalerRole = new aws.iam.Role(
      `${name}-cluster-autoscaler`,
      { assumeRolePolicy: trust, description: "Cluster Autoscaler via Pod Identity" },
      parent,
    );
    new aws.iam.RolePolicy(
      `${name}-cluster-autoscaler`,
      {
        role: autoscalerRole.id,
        policy: pulumi.output(args.clusterName).apply(clusterAutoscalerPolicy),
      },
      parent,
    );
    const autoscalerAssociation = new aws.eks.PodIdentityAssociation(
      `${name}-cluster-autoscaler`,
      {
        clusterName: args.clusterName,
        namespace: CLUSTER_AUTOSCALER.namespace,
        serviceAccount: CLUSTER_AUTOSCALER.serviceAccount,
        roleArn: autoscalerRole.arn,
      },
      parent,
    );

    this.appRoleArn = app.role.arn;
    this.externalSecretsRoleArn = esoRole.arn;
    this.loadBalancerControllerRoleArn = lbcRole.arn;
    this.alertmanagerRoleArn = alertmanagerRole.arn;
    this.associations = {
      app: app.association,
      exportJob: exportJob.association,
      restoreTest: restoreTest.association,
      externalSecrets: esoAssociation,
      loadBalancerController: lbcAssociation,
      alertmanager: alertmanagerAssociation,
      clusterAutoscaler: autoscalerAssociation,
    };
    this.registerOutputs({
      appRoleArn: this.appRoleArn,
      externalSecretsRoleArn: this.externalSecretsRoleArn,
      loadBalancerControllerRoleArn: this.loadBalancerControllerRoleArn,
      alertmanagerRoleArn: this.alertmanagerRoleArn,
    });
  }
}
