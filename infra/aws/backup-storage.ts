/**
 * The export bucket (the app's backups written by the in-cluster backup job) and its replica
 * in the DR region: versioned, KMS-encrypted, private, TLS-only, old versions expired, and
 * replicated with Replication Time Control (15 minutes), its metrics and delete markers.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface BackupStorageArgs {
  /** Bucket names; global, so they include the account id and region. */
  readonly bucketName: pulumi.Input<string>;
  readonly replicaBucketName: pulumi.Input<string>;
  readonly keys: { readonly primary: pulumi.Input<string>; readonly dr: pulumi.Input<string> };
  /** The provider of the DR region (the replica bucket lives there). */
  readonly drProvider: aws.Provider;
  /** Days a replaced or deleted object version is kept. */
  readonly noncurrentVersionDays: number;
  /** Replication Time Control threshold, minutes (S3 only offers 15). @default 15 */
  readonly replicationTimeMinutes?: number;
}

export function validateBackupStorageArgs(args: BackupStorageArgs): void {
  if (args.noncurrentVersionDays < 1) {
    throw new Error(
      `BackupStorage: expected old versions kept at least 1 day; found ${args.noncurrentVersionDays}`,
    );
  }
}

/** Refuses every request that does not use TLS. */
export function tlsOnlyPolicy(bucketArn: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [bucketArn, `${bucketArn}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ],
  });
}

interface SecureBucket {
  readonly bucket: aws.s3.Bucket;
  readonly versioning: aws.s3.BucketVersioning;
}

export class BackupStorage extends pulumi.ComponentResource {
  public readonly bucketName: pulumi.Output<string>;
  public readonly bucketArn: pulumi.Output<string>;
  public readonly replicaBucketName: pulumi.Output<string>;
  public readonly replicaBucketArn: pulumi.Output<string>;
  /** The replication rule's id, a dimension of the replication metrics. */
  public readonly replicationRuleId = "to-dr-region";

  constructor(name: string, args: BackupStorageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pra:aws:BackupStorage", name, {}, opts);
    validateBackupStorageArgs(args);
    const primary = this.secureBucket(`${name}-exports`, args.bucketName, args.keys.primary, args, {
      parent: this,
    });
    const replica = this.secureBucket(
      `${name}-replica`,
      args.replicaBucketName,
      args.keys.dr,
      args,
      {
        parent: this,
        provider: args.drProvider,
      },
    );

    const role = new aws.iam.Role(
      `${name}-replication`,
      {
        assumeRolePolicy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { Service: "s3.amazonaws.com" },
              Action: "sts:AssumeRole",
            },
          ],
        }),
      },
      { parent: this },
    );
    new aws.iam.RolePolicy(
      `${name}-replication`,
      {
        role: role.id,
        policy: pulumi
          .all([primary.bucket.arn, replica.bucket.arn, args.keys.primary, args.keys.dr])
          .apply(([source, destination, sourceKey, destinationKey]) =>
            JSON.stringify({
              Version: "2012-10-17",
              Statement: [
                {
                  Effect: "Allow",
                  Action: ["s3:GetReplicationConfiguration", "s3:ListBucket"],
                  Resource: source,
                },
                {
                  Effect: "Allow",
                  Action: [
                    "s3:GetObjectVersionForReplication",
                    "s3:GetObjectVersionAcl",
                    "s3:GetObjectVersionTagging",
                  ],
                  Resource: `${source}/*`,
                },
                {
                  Effect: "Allow",
                  Action: ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
                  Resource: `${destination}/*`,
                },
                { Effect: "Allow", Action: ["kms:Decrypt"], Resource: sourceKey },
                {
                  Effect: "Allow",
                  Action: ["kms:Encrypt", "kms:GenerateDataKey"],
                  Resource: destinationKey,
                },
              ],
            }),
          ),
      },
      { parent: this },
    );

    const minutes = args.replicationTimeMinutes ?? 15;
    new aws.s3.BucketReplicationConfig(
      `${name}-replication`,
      {
        bucket: primary.bucket.id,
        role: role.arn,
        rules: [
          {
            id: this.replicationRuleId,
            status: "Enabled",
            priority: 1,
            filter: { prefix: "" },
            deleteMarkerReplication: { status: "Enabled" },
            sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: "Enabled" } },
            destination: {
              bucket: replica.bucket.arn,
              storageClass: "STANDARD",
              encryptionConfiguration: { replicaKmsKeyId: args.keys.dr },
              replicationTime: { status: "Enabled", time: { minutes } },
              metrics: { status: "Enabled", eventThreshold: { minutes } },
            },
          },
        ],
      },
      { parent: this, dependsOn: [primary.versioning, replica.versioning] },
    );

    this.bucketName = primary.bucket.bucket;
    this.bucketArn = primary.bucket.arn;
    this.replicaBucketName = replica.bucket.bucket;
    this.replicaBucketArn = replica.bucket.arn;
    this.registerOutputs({
      bucketName: this.bucketName,
      replicaBucketName: this.replicaBucketName,
    });
  }

  private secureBucket(
    name: string,
    bucketName: pulumi.Input<string>,
    keyArn: pulumi.Input<string>,
    args: BackupStorageArgs,
    opts: pulumi.CustomResourceOptions,
  ): SecureBucket {
    const bucket = new aws.s3.Bucket(name, { bucket: bucketName, forceDestroy: false }, opts);
    new aws.s3.BucketOwnershipControls(
      name,
      { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
      opts,
    );
    new aws.s3.BucketPublicAccessBlock(
      name,
      {
        bucket: bucket.id,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
      opts,
    );
    const versioning = new aws.s3.BucketVersioning(
      name,
      { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
      opts,
    );
    new aws.s3.BucketServerSideEncryptionConfiguration(
      name,
      {
        bucket: bucket.id,
        rules: [
          {
            applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: keyArn },
            bucketKeyEnabled: true,
          },
        ],
      },
      opts,
    );
    new aws.s3.BucketPolicy(
      name,
      { bucket: bucket.id, policy: bucket.arn.apply(tlsOnlyPolicy) },
      opts,
    );
    new aws.s3.BucketLifecycleConfiguration(
      name,
      {
        bucket: bucket.id,
        rules: [
          {
            id: "expire-old-versions",
            status: "Enabled",
            filter: { prefix: "" },
            noncurrentVersionExpiration: { noncurrentDays: args.noncurrentVersionDays },
            expiration: { expiredObjectDeleteMarker: true },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
          },
        ],
      },
      { ...opts, dependsOn: [versioning] },
    );
    return { bucket, versioning };
  }
}
