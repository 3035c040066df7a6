/**
 * Customer-managed KMS keys of one region, one per service that stores data, so that a grant
 * to one service never opens another's data. Every key rotates yearly.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export type KeyPurpose = "eks" | "ebs" | "rds" | "secrets" | "s3" | "backup" | "logs" | "sns";

/** One value per purpose, made in this order; the compiler checks that no purpose is missing. */
function perPurpose<T>(make: (purpose: KeyPurpose) => T): Record<KeyPurpose, T> {
  return {
    eks: make("eks"),
    ebs: make("ebs"),
    rds: make("rds"),
    secrets: make("secrets"),
    s3: make("s3"),
    backup: make("backup"),
    logs: make("logs"),
    sns: make("sns"),
  };
}

const DESCRIPTIONS: Record<KeyPurpose, string> = {
  eks: "EKS envelope encryption of Kubernetes secrets",
  ebs: "EBS volumes (node disks and persistent volumes)",
  rds: "RDS PostgreSQL storage, snapshots and automated backups",
  secrets: "Secrets Manager secrets",
  s3: "S3 backup exports",
  backup: "AWS Backup vault recovery points",
  logs: "CloudWatch Logs (flow logs, control-plane logs)",
  sns: "SNS alarm topic",
};

export interface KeysArgs {
  /** The region the keys live in (the provider passed in the options must be for it too). */
  readonly region: pulumi.Input<string>;
  /** Days a scheduled key deletion can still be cancelled. @default 30 */
  readonly deletionWindowInDays?: number;
  /** Prefix of each key alias, `alias/<prefix>-<purpose>`. */
  readonly aliasPrefix: string;
}

interface PolicyStatement {
  Sid: string;
  Effect: "Allow";
  Principal: Record<string, string | string[]>;
  Action: string | string[];
  Resource: "*";
  Condition?: Record<string, Record<string, string | string[]>>;
}

/**
 * The key policy of `purpose`: the account administers it through IAM; AWS services that write
 * on their own are named.
 */
export function keyPolicy(
  purpose: KeyPurpose,
  accountId: string,
  partition: string,
  region: string,
): string {
  const statements: PolicyStatement[] = [
    {
      Sid: "AccountAdministersThroughIam",
      Effect: "Allow",
      Principal: { AWS: `arn:${partition}:iam::${accountId}:root` },
      Action: "kms:*",
      Resource: "*",
    },
  ];
  if (purpose === "logs") {
    statements.push({
      Sid: "CloudWatchLogsEncrypts",
      Effect: "Allow",
      Principal: { Service: `logs.${region}.amazonaws.com` },
      Action: [
        "kms:Encrypt*",
        "kms:Decrypt*",
        "kms:ReEncrypt*",
        "kms:GenerateDataKey*",
        "kms:Describe*",
      ],
      Resource: "*",
      Condition: {
        ArnLike: {
          "kms:EncryptionContext:aws:logs:arn": `arn:${partition}:logs:${region}:${accountId}:*`,
        },
      },
    });
  }
  if (purpose === "sns") {
    statements.push({
      Sid: "AlarmSourcesPublish",
      Effect: "Allow",
      Principal: { Service: ["cloudwatch.amazonaws.com", "events.amazonaws.com"] },
      Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
      Resource: "*",
    });
  }
  if (purpose === "ebs") {
    // Managed node groups launch instances through Auto Scaling, whose service-linked role
    // must be able to use the key of the encrypted root volumes.
    statements.push({
      Sid: "AutoScalingUsesKeyForNodeVolumes",
      Effect: "Allow",
      Principal: {
        AWS:
          `arn:${partition}:iam::${accountId}:role/aws-service-role/` +
          `autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`,
      },
      Action: [
        "kms:Encrypt",
        "kms:Decrypt",
        "kms:ReEncrypt*",
        "kms:GenerateDataKey*",
        "kms:DescribeKey",
        "kms:CreateGrant",
      ],
      Resource: "*",
    });
  }
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

export class Keys extends pulumi.ComponentResource {
  /** Key ARNs by purpose. */
  public readonly arns: Record<KeyPurpose, pulumi.Output<string>>;
  public readonly keys: Record<KeyPurpose, aws.kms.Key>;

  constructor(name: string, args: KeysArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pra:aws:Keys", name, {}, opts);
    const identity = aws.getCallerIdentityOutput({}, { parent: this });
    const partition = aws.getPartitionOutput({}, { parent: this });
    this.keys = perPurpose((purpose) => {
      const key = new aws.kms.Key(
        `${name}-${purpose}`,
        {
          description: `pra: ${DESCRIPTIONS[purpose]}`,
          enableKeyRotation: true,
          rotationPeriodInDays: 365,
          deletionWindowInDays: args.deletionWindowInDays ?? 30,
          policy: pulumi
            .all([identity.accountId, partition.partition, args.region])
            .apply(([accountId, part, region]) => keyPolicy(purpose, accountId, part, region)),
        },
        { parent: this },
      );
      new aws.kms.Alias(
        `${name}-${purpose}`,
        { name: `alias/${args.aliasPrefix}-${purpose}`, targetKeyId: key.keyId },
        { parent: this },
      );
      return key;
    });
    this.arns = perPurpose((purpose) => this.keys[purpose].arn);
    this.registerOutputs({ arns: this.arns });
  }
}
