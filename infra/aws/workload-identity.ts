/**
 * IAM roles the cluster's workloads assume through EKS Pod Identity (no static credentials):
 * the app (`pra-app`) writes and reads the export bucket and reads the database secret;
 * External Secrets (`external-secrets/external-secrets`) reads the database secret.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { podIdentityTrust } from "./cluster";

export const APP_SERVICE_ACCOUNT = "pra-app";
export const EXTERNAL_SECRETS = {
  namespace: "external-secrets",
  serviceAccount: "external-secrets",
} as const;

export interface WorkloadIdentityArgs {
  readonly clusterName: pulumi.Input<string>;
  /** The app's namespace (pra:namespace). */
  readonly namespace: string;
  readonly exportBucketArn: pulumi.Input<string>;
  readonly exportKeyArn: pulumi.Input<string>;
  readonly databaseSecretArn: pulumi.Input<string>;
  readonly secretsKeyArn: pulumi.Input<string>;
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

export function secretReadStatements(secretArn: string, secretsKeyArn: string): object[] {
  return [
    {
      Sid: "ReadDatabaseSecret",
      Effect: "Allow",
      Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
      Resource: secretArn,
    },
    { Sid: "DecryptDatabaseSecret", Effect: "Allow", Action: "kms:Decrypt", Resource: secretsKeyArn },
  ];
}

export class WorkloadIdentity extends pulumi.ComponentResource {
  public readonly appRoleArn: pulumi.Output<string>;
  public readonly externalSecretsRoleArn: pulumi.Output<string>;

  constructor(name: string, args: WorkloadIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pra:aws:WorkloadIdentity", name, {}, opts);
    const parent = { parent: this };
    const trust = aws.getCallerIdentityOutput({}, parent).accountId.apply(podIdentityTrust);

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
          .all([args.exportBucketArn, args.exportKeyArn, args.databaseSecretArn, args.secretsKeyArn])
          .apply(([bucket, key, secret, secretKey]) => appPolicy(bucket, key, secret, secretKey)),
      },
      parent,
    );
    new aws.eks.PodIdentityAssociation(
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
    new aws.eks.PodIdentityAssociation(
      `${name}-external-secrets`,
      {
        clusterName: args.clusterName,
        namespace: EXTERNAL_SECRETS.namespace,
        serviceAccount: EXTERNAL_SECRETS.serviceAccount,
        roleArn: esoRole.arn,
      },
      parent,
    );

    this.appRoleArn = appRole.arn;
    this.externalSecretsRoleArn = esoRole.arn;
    this.registerOutputs({
      appRoleArn: this.appRoleArn,
      externalSecretsRoleArn: this.externalSecretsRoleArn,
    });
  }
}
