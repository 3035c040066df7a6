/**
 * Rotation of the app's database credentials by Secrets Manager, with AWS's own PostgreSQL
 * rotation function for alternating users (Serverless Application Repository,
 * SecretsManagerRDSPostgreSQLRotationMultiUser), run in the VPC's private subnets. Each rotation
 * gives the other of two users (`pra_app`, `pra_app_clone`) a new password and points the secret
 * at it, using the RDS-managed master secret (`masterarn` in the app's secret) to do so; the
 * previous user keeps its password until the next rotation. So credentials a pod read up to
 * one rotation interval ago still work: External Secrets refreshes the Kubernetes Secret far
 * sooner, and a pod whose credentials are rejected exits and restarts with the current ones.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { databaseClientGroup } from "./vpc-function";

/** AWS's rotation application, pinned: an upgrade is a reviewed change. */
export const ROTATION_APPLICATION = {
  id: "arn:aws:serverlessrepo:us-east-1:297356227824:applications/SecretsManagerRDSPostgreSQLRotationMultiUser",
  version: "1.1.671",
} as const;

export interface CredentialRotationArgs {
  /** Prefix of the function's name, such as `pra-prod`. */
  readonly baseName: string;
  readonly region: string;
  readonly vpcId: pulumi.Input<string>;
  readonly subnetIds: pulumi.Input<string>[];
  /** The database's security group: the function is let in on the PostgreSQL port. */
  readonly databaseSecurityGroupId: pulumi.Input<string>;
  readonly port: number;
  /** The app's secret (rotated) and the RDS-managed master secret, with their keys. */
  readonly secretArn: pulumi.Input<string>;
  readonly masterSecretArn: pulumi.Input<string>;
  readonly secretsKeyArn: pulumi.Input<string>;
  readonly rotationDays: number;
}

export class CredentialRotation extends pulumi.ComponentResource {
  constructor(name: string, args: CredentialRotationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pra:aws:CredentialRotation", name, {}, opts);
    const parent = { parent: this };
    const group = databaseClientGroup(
      name,
      {
        vpcId: args.vpcId,
        databaseSecurityGroupId: args.databaseSecurityGroupId,
        port: args.port,
        description: `Rotation of ${args.baseName}'s database credentials`,
        admitted: "the credential rotation function",
      },
      parent,
    );
    const functionName = `${args.baseName}-db-rotation`;
    const application = new aws.serverlessrepository.CloudFormationStack(
      `${name}-function`,
      {
        name: functionName,
        applicationId: ROTATION_APPLICATION.id,
        semanticVersion: ROTATION_APPLICATION.version,
        capabilities: ["CAPABILITY_IAM", "CAPABILITY_RESOURCE_POLICY"],
        parameters: {
          functionName,
          endpoint: `https://secretsmanager.${args.region}.amazonaws.com`,
          vpcSubnetIds: pulumi.all(args.subnetIds).apply((ids) => ids.join(",")),
          vpcSecurityGroupIds: group.id,
          kmsKeyArn: args.secretsKeyArn,
          masterSecretArn: args.masterSecretArn,
          masterSecretKmsKeyArn: args.secretsKeyArn,
        },
      },
      parent,
    );
    new aws.secretsmanager.SecretRotation(
      `${name}-schedule`,
      {
        secretId: args.secretArn,
        rotationLambdaArn: application.outputs.apply((outputs) => {
          const arn = outputs.RotationLambdaARN;
          if (arn === undefined) throw new Error(`${functionName}: no RotationLambdaARN output`);
          return arn;
        }),
        rotationRules: { automaticallyAfterDays: args.rotationDays },
      },
      parent,
    );
    this.registerOutputs({});
  }
}
