/**
 * RDS PostgreSQL for the app: Multi-AZ, encrypted with a customer-managed key, point-in-time
 * recovery for the configured retention, deletion protection and a final snapshot, TLS
 * enforced by its parameter group, reachable only from the cluster's nodes. Its credentials
 * live in Secrets Manager under a name derived from the stack, replicated to the DR region.
 */
import { randomBytes } from "node:crypto";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { CredentialRotation } from "./credential-rotation";
import { DatabaseBootstrap } from "./database-bootstrap/function";
import { RDS_MAX_BACKUP_RETENTION_DAYS, type TargetDesign } from "../../config";

export const POSTGRES_PORT = 5432;

export interface DatabaseArgs {
  /** The RDS instance identifier, also the prefix of its final snapshot. */
  readonly identifier: string;
  readonly vpcId: pulumi.Input<string>;
  /** Private subnets of at least two zones. */
  readonly subnetIds: pulumi.Input<string>[];
  /** The only security group allowed to connect: the cluster's nodes. */
  readonly clientSecurityGroupId: pulumi.Input<string>;
  /**
   * The database's figures (config/target-design.ts): class, version, storage, Multi-AZ, days of
   * point-in-time recovery (at least 1: 0 would turn automated backups off), TLS parameters. No
   * default here: the DR model reads the same object, so what it assumes is what is built.
   */
  readonly design: TargetDesign["database"];
  /** Customer-managed keys for the storage and for the secret. */
  readonly keys: { readonly rds: pulumi.Input<string>; readonly secrets: pulumi.Input<string> };
  /** Secrets Manager name of the credentials, such as `pra/prod/database`. */
  readonly secretName: string;
  /** Replicate the secret to this region with this key, so a failover has the credentials. */
  readonly secretReplica?: { readonly region: string; readonly kmsKeyArn: pulumi.Input<string> };
  /** @default "pra" */
  readonly databaseName?: string;
  /** The master user, whose password RDS manages and rotates in Secrets Manager. @default "pra_admin" */
  readonly username?: string;
  /**
   * The app's own user, with no power over other databases or roles (the master's secret never
   * reaches the cluster). @default "pra_app"
   */
  readonly appUsername?: string;
  /** The region, for the rotation function's Secrets Manager endpoint. */
  readonly region: string;
}

export function validateDatabaseArgs(args: DatabaseArgs): void {
  const days = args.design.backupRetentionDays;
  if (!Number.isInteger(days) || days < 1 || days > RDS_MAX_BACKUP_RETENTION_DAYS) {
    throw new Error(
      `Database ${args.identifier}: expected a backup retention from 1 to ` +
        `${RDS_MAX_BACKUP_RETENTION_DAYS} days (0 turns point-in-time recovery off); found ${days}`,
    );
  }
  if (args.subnetIds.length < 2) {
    throw new Error(
      `Database ${args.identifier}: Multi-AZ needs subnets in at least 2 zones; found ${args.subnetIds.length}`,
    );
  }
}

/** A password RDS accepts (no '/', '@', '"' or space): 32 URL-safe characters. */
export function generatePassword(): string {
  return randomBytes(24).toString("base64url");
}

export class Database extends pulumi.ComponentResource {
  public readonly instanceArn: pulumi.Output<string>;
  public readonly identifier: pulumi.Output<string>;
  /** host:port */
  public readonly endpoint: pulumi.Output<string>;
  public readonly address: pulumi.Output<string>;
  public readonly securityGroupId: pulumi.Output<string>;
  public readonly subnetGroupName: pulumi.Output<string>;
  /** The TLS-only parameter group: a failback's re-seeded instance uses it too. */
  public readonly parameterGroupName: pulumi.Output<string>;
  public readonly secretName: pulumi.Output<string>;
  public readonly secretArn: pulumi.Output<string>;
  /** The RDS-managed secret of the master user (rotated by RDS): for the rotation function only. */
  public readonly masterSecretArn: pulumi.Output<string>;

  constructor(name: string, args: DatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pra:aws:Database", name, {}, opts);
    validateDatabaseArgs(args);
    const parent = { parent: this };
    const databaseName = args.databaseName ?? "pra";
    const username = args.username ?? "pra_admin";

    const subnetGroup = new aws.rds.SubnetGroup(
      `${name}-subnets`,
      {
        name: `${args.identifier}-subnets`,
        description: `Private subnets of ${args.identifier}`,
        subnetIds: args.subnetIds,
      },
      parent,
    );
    const securityGroup = new aws.ec2.SecurityGroup(
      `${name}-sg`,
      {
        vpcId: args.vpcId,
        description: `PostgreSQL ${args.identifier}: reachable from the cluster nodes only`,
      },
      parent,
    );
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-from-nodes`,
      {
        securityGroupId: securityGroup.id,
        referencedSecurityGroupId: args.clientSecurityGroupId,
        ipProtocol: "tcp",
        fromPort: POSTGRES_PORT,
        toPort: POSTGRES_PORT,
        description: "PostgreSQL from the EKS cluster security group (nodes)",
      },
      parent,
    );
    const parameterGroup = new aws.rds.ParameterGroup(
      `${name}-params`,
      {
        name: `${args.identifier}-params`,
        family: args.design.parameterGroupFamily,
        description: `TLS-only connections for ${args.identifier}`,
        parameters: [
          ...args.design.tlsParameters,
          { name: "log_min_duration_statement", value: "1000" },
        ],
      },
      parent,
    );

    // The master password is RDS's: it keeps it in a Secrets Manager secret of its own and rotates
    // it (every 7 days); nothing in Pulumi's state or the cluster holds it. The app's user gets a
    // first password here, write-only (never in the state), that Secrets Manager then rotates
    // (credential-rotation.ts); the version stays 1, so Pulumi never writes over a rotated value.
    const CREDENTIALS_VERSION = 1;
    const appUsername = args.appUsername ?? "pra_app";
    const password = pulumi.secret(generatePassword());

    const instance = new aws.rds.Instance(
      `${name}-postgres`,
      {
        identifier: args.identifier,
        engine: "postgres",
        engineVersion: args.design.engineVersion,
        instanceClass: args.design.instanceClass,
        allocatedStorage: args.design.allocatedStorageGb,
        maxAllocatedStorage: args.design.maxAllocatedStorageGb,
        storageType: "gp3",
        storageEncrypted: true,
        kmsKeyId: args.keys.rds,
        multiAz: args.design.multiAz,
        dbName: databaseName,
        username,
        manageMasterUserPassword: true,
        masterUserSecretKmsKeyId: args.keys.secrets,
        port: POSTGRES_PORT,
        dbSubnetGroupName: subnetGroup.name,
        vpcSecurityGroupIds: [securityGroup.id],
        parameterGroupName: parameterGroup.name,
        publiclyAccessible: false,
        backupRetentionPeriod: args.design.backupRetentionDays,
        backupWindow: "01:00-01:30",
        maintenanceWindow: "sun:02:00-sun:03:00",
        copyTagsToSnapshot: true,
        deleteAutomatedBackups: false,
        deletionProtection: true,
        skipFinalSnapshot: false,
        finalSnapshotIdentifier: `${args.identifier}-final`,
        autoMinorVersionUpgrade: true,
        performanceInsightsEnabled: true,
        performanceInsightsKmsKeyId: args.keys.rds,
        enabledCloudwatchLogsExports: ["postgresql", "upgrade"],
        caCertIdentifier: "rds-ca-rsa2048-g1",
      },
      parent,
    );

    const masterSecretArn = instance.masterUserSecrets.apply((secrets) => {
      const arn = secrets[0]?.secretArn;
      if (arn === undefined) throw new Error(`${args.identifier}: RDS reports no master secret`);
      return arn;
    });
    const secret = new aws.secretsmanager.Secret(
      `${name}-credentials`,
      {
        name: args.secretName,
        description: `Credentials of PostgreSQL ${args.identifier} (read by External Secrets)`,
        kmsKeyId: args.keys.secrets,
        recoveryWindowInDays: 30,
        replicas: args.secretReplica
          ? [{ region: args.secretReplica.region, kmsKeyId: args.secretReplica.kmsKeyArn }]
          : [],
      },
      parent,
    );
    const secretVersion = new aws.secretsmanager.SecretVersion(
      `${name}-credentials`,
      {
        secretId: secret.id,
        secretStringWo: pulumi.secret(
          pulumi.all([instance.address, password, masterSecretArn]).apply(([host, pass, master]) =>
            JSON.stringify({
              engine: "postgres",
              host,
              port: POSTGRES_PORT,
              dbname: databaseName,
              username: appUsername,
              password: pass,
              sslmode: "verify-full",
              // The rotation function signs in as the master to set the app users' passwords.
              masterarn: master,
            }),
          ),
        ),
        secretStringWoVersion: CREDENTIALS_VERSION,
      },
      parent,
    );

    // The app's user exists before the first rotation or the app's first start.
    const bootstrap = new DatabaseBootstrap(
      `${name}-bootstrap`,
      {
        baseName: args.identifier,
        vpcId: args.vpcId,
        subnetIds: args.subnetIds,
        databaseSecurityGroupId: securityGroup.id,
        port: POSTGRES_PORT,
        masterSecretArn,
        appSecretArn: secret.arn,
        secretsKeyArn: args.keys.secrets,
      },
      { parent: this, dependsOn: [instance, secretVersion] },
    );
    new CredentialRotation(
      `${name}-rotation`,
      {
        baseName: args.identifier,
        region: args.region,
        vpcId: args.vpcId,
        subnetIds: args.subnetIds,
        databaseSecurityGroupId: securityGroup.id,
        port: POSTGRES_PORT,
        secretArn: secret.arn,
        masterSecretArn,
        secretsKeyArn: args.keys.secrets,
        rotationDays: args.design.credentialRotationDays,
      },
      { parent: this, dependsOn: [secretVersion, bootstrap] },
    );

    this.masterSecretArn = masterSecretArn;
    this.instanceArn = instance.arn;
    this.identifier = instance.identifier;
    this.endpoint = instance.endpoint;
    this.address = instance.address;
    this.securityGroupId = securityGroup.id;
    this.subnetGroupName = subnetGroup.name;
    this.parameterGroupName = parameterGroup.name;
    this.secretName = secret.name;
    this.secretArn = secret.arn;
    this.registerOutputs({
      endpoint: this.endpoint,
      secretName: this.secretName,
      instanceArn: this.instanceArn,
    });
  }
}
