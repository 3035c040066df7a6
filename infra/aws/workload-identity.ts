/**
 * IAM roles the cluster's workloads assume through EKS Pod Identity (no static credentials):
 * the app (`pra-app`) writes and reads the export bucket and reads the database secret;
 * External Secrets (`external-secrets/external-secrets`) reads the database secret; the AWS
 * Load Balancer Controller (`kube-system/aws-load-balancer-controller`) manages this cluster's
 * load balancers (policy in load-balancer-controller-policy.ts); Alertmanager
 * (`monitoring/alertmanager`) publishes the `pra` alerts to the alarm topic.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { TARGET } from "../../charts/constructs/names";
import { ADDON_SERVICE_ACCOUNTS } from "../kubernetes/addon-charts";
import { podIdentityTrust } from "./cluster";
import { loadBalancerControllerPolicy } from "./load-balancer-controller-policy";

export const APP_SERVICE_ACCOUNT = TARGET.serviceAccount;
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

export function appPolicy(
  bucketArn: string,
  exportKeyArn: string,
  secretArn: string,
  secretsKeyArn: string,
): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ListExports",
        Effect: "Allow",
        Action: ["s3:ListBucket", "s3:ListBucketVersions"],
        Resource: bucketArn,
      },
      {
        Sid: "ReadWriteExports",
        Effect: "Allow",
        Action: ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:AbortMultipartUpload"],
        Resource: `${bucketArn}/*`,
      },
      {
        Sid: "UseExportKey",
        Effect: "Allow",
        Action: ["kms:Decrypt", "kms:GenerateDataKey"],
        Resource: exportKeyArn,
      },
      ...secretReadStatements(secretArn, secretsKeyArn),
    ],
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
  readonly externalSecrets: pulumi.Resource;
  readonly loadBalancerController: pulumi.Resource;
  readonly alertmanager: pulumi.Resource;
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

    const appRole = new aws.iam.Role(
      `${name}-app`,
      { assumeRolePolicy: trust, description: "pra-app via Pod Identity" },
      parent,
    );
    new aws.iam.RolePolicy(
      `${name}-app`,
      {
        role: appRole.id,
        policy: pulumi
          .all([
            args.exportBucketArn,
            args.exportKeyArn,
            args.databaseSecretArn,
            args.secretsKeyArn,
          ])
          .apply(([bucket, key, secret, secretKey]) => appPolicy(bucket, key, secret, secretKey)),
      },
      parent,
    );
    const appAssociation = new aws.eks.PodIdentityAssociation(
      `${name}-app`,
      {
        clusterName: args.clusterName,
        namespace: args.namespace,
        serviceAccount: APP_SERVICE_ACCOUNT,
        roleArn: appRole.arn,
      },
      parent,
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

    this.appRoleArn = appRole.arn;
    this.externalSecretsRoleArn = esoRole.arn;
    this.loadBalancerControllerRoleArn = lbcRole.arn;
    this.alertmanagerRoleArn = alertmanagerRole.arn;
    this.associations = {
      app: appAssociation,
      externalSecrets: esoAssociation,
      loadBalancerController: lbcAssociation,
      alertmanager: alertmanagerAssociation,
    };
    this.registerOutputs({
      appRoleArn: this.appRoleArn,
      externalSecretsRoleArn: this.externalSecretsRoleArn,
      loadBalancerControllerRoleArn: this.loadBalancerControllerRoleArn,
      alertmanagerRoleArn: this.alertmanagerRoleArn,
    });
  }
}
