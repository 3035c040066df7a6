/**
 * AWS Backup: a vault in each region (the DR one locked in compliance mode), a plan that
 * snapshots what holds data (dr/backup-selection.ts: the database, and EBS volumes only where the
 * stack deploys a claim) on a schedule derived from the RPO and
 * copies every recovery point to the DR vault, and a restore testing plan that restores the
 * database from its newest recovery point and checks the restored instance.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { TargetDesign } from "../../config";
import { BACKUP_TAG } from "./cluster";
import { POSTGRES_PORT } from "./database";
import { restoreValidatorCode } from "./restore-validator/bundle";
import { VPC_FUNCTION_NETWORK_STATEMENT } from "./vpc-function";
import {
  LAMBDA_CA_BUNDLE,
  PLAN_ARN_VARIABLE,
  SECRET_VARIABLE,
  STACK_VARIABLE,
  VALIDATOR_HANDLER,
  VALIDATOR_RUNTIME,
} from "./restore-validator/settings";

export interface BackupPlanArgs {
  /** Prefix of vault and plan names, such as `pra-prod`. */
  readonly baseName: string;
  readonly drProvider: aws.Provider;
  readonly keys: {
    /** Vault keys. */
    readonly primary: pulumi.Input<string>;
    readonly dr: pulumi.Input<string>;
    /** Keys of what gets backed up (RDS storage, EBS volumes) and of the function's logs. */
    readonly resources: pulumi.Input<string>[];
    readonly logs: pulumi.Input<string>;
  };
  readonly databaseArn: pulumi.Input<string>;
  /** The database's credentials (the restored instance has them) and the key they are encrypted with. */
  readonly databaseSecret: {
    readonly arn: pulumi.Input<string>;
    readonly keyArn: pulumi.Input<string>;
  };
  /**
   * The claims whose volumes hold data (dr/backup-selection.ts). None: no volume selection, which
   * would otherwise back up nothing while the plan looked as if it protected volumes.
   */
  readonly volumeClaims: readonly string[];
  /**
   * Where restore tests put the restored database: private subnets, a security group only the
   * validator may enter (it queries the restored data from those subnets).
   */
  readonly restoreTest: {
    readonly vpcId: pulumi.Input<string>;
    readonly subnetGroupName: pulumi.Input<string>;
    readonly subnetIds: pulumi.Input<string>[];
    /** A small class: the test checks the data is there, not performance. @default "db.t4g.medium" */
    readonly instanceClass?: string;
  };
  /** Schedules, retention and lock figures, from describeTargetDesign. */
  readonly plan: TargetDesign["backupPlan"];
  readonly restoreTesting: TargetDesign["restoreTesting"];
}

export function validateBackupPlanArgs(args: Pick<BackupPlanArgs, "plan">): void {
  const { plan } = args;
  if (plan.retentionDays < 1)
    throw new Error(
      `BackupPlan: expected a retention of at least 1 day; found ${plan.retentionDays}`,
    );
  if (
    plan.vaultLock.minRetentionDays > plan.retentionDays ||
    plan.vaultLock.maxRetentionDays < plan.retentionDays
  ) {
    throw new Error(
      `BackupPlan: the DR vault lock (${plan.vaultLock.minRetentionDays}..${plan.vaultLock.maxRetentionDays} days) ` +
        `would refuse copies kept ${plan.retentionDays} days`,
    );
  }
}

function policy(statements: object[]): string {
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

export class BackupPlan extends pulumi.ComponentResource {
  public readonly vaultName: pulumi.Output<string>;
  public readonly vaultArn: pulumi.Output<string>;
  public readonly drVaultName: pulumi.Output<string>;
  public readonly drVaultArn: pulumi.Output<string>;
  public readonly planId: pulumi.Output<string>;
  public readonly restoreTestingPlanName: pulumi.Output<string>;

  constructor(name: string, args: BackupPlanArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pra:aws:BackupPlan", name, {}, opts);
    validateBackupPlanArgs(args);
    const parent = { parent: this };
    const inDr = { parent: this, provider: args.drProvider };
    const partition = aws.getPartitionOutput({}, parent).partition;

    const vault = new aws.backup.Vault(
      `${name}-vault`,
      { name: `${args.baseName}-vault`, kmsKeyArn: args.keys.primary },
      parent,
    );
    const drVault = new aws.backup.Vault(
      `${name}-dr-vault`,
      { name: `${args.baseName}-dr-vault`, kmsKeyArn: args.keys.dr },
      inDr,
    );
    const lock = args.plan.vaultLock;
    new aws.backup.VaultLockConfiguration(
      `${name}-dr-vault-lock`,
      {
        backupVaultName: drVault.name,
        changeableForDays: lock.changeableForDays,
        minRetentionDays: lock.minRetentionDays,
        maxRetentionDays: lock.maxRetentionDays,
      },
      inDr,
    );

    const role = new aws.iam.Role(
      `${name}-backup`,
      {
        assumeRolePolicy: policy([
          {
            Effect: "Allow",
            Principal: { Service: "backup.amazonaws.com" },
            Action: "sts:AssumeRole",
          },
        ]),
      },
      parent,
    );
    for (const managed of [
      "AWSBackupServiceRolePolicyForBackup",
      "AWSBackupServiceRolePolicyForRestores",
    ]) {
      new aws.iam.RolePolicyAttachment(
        `${name}-${managed}`,
        {
          role: role.name,
          policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/service-role/${managed}`,
        },
        parent,
      );
    }
    new aws.iam.RolePolicy(
      `${name}-backup-kms`,
      {
        role: role.id,
        policy: pulumi
          .all([args.keys.primary, args.keys.dr, ...args.keys.resources])
          .apply((keys) =>
            policy([
              {
                Effect: "Allow",
                Action: [
                  "kms:Decrypt",
                  "kms:Encrypt",
                  "kms:ReEncrypt*",
                  "kms:GenerateDataKey*",
                  "kms:DescribeKey",
                  "kms:CreateGrant",
                ],
                Resource: keys,
              },
            ]),
          ),
      },
      parent,
    );

    const lifecycle = { deleteAfter: args.plan.retentionDays };
    const plan = new aws.backup.Plan(
      `${name}-plan`,
      {
        name: `${args.baseName}-plan`,
        rules: [
          {
            ruleName: "snapshots",
            targetVaultName: vault.name,
            schedule: args.plan.schedule,
            scheduleExpressionTimezone: "Etc/UTC",
            startWindow: 60,
            completionWindow: 180,
            enableContinuousBackup: args.plan.continuousBackup,
            lifecycle,
            copyActions: [{ destinationVaultArn: drVault.arn, lifecycle }],
            recoveryPointTags: { "pra-stack": args.baseName },
          },
        ],
      },
      parent,
    );
    new aws.backup.Selection(
      `${name}-database`,
      {
        name: `${args.baseName}-database`,
        planId: plan.id,
        iamRoleArn: role.arn,
        resources: [args.databaseArn],
      },
      parent,
    );
    if (args.volumeClaims.length > 0) {
      new aws.backup.Selection(
        `${name}-volumes`,
        {
          name: `${args.baseName}-volumes`,
          planId: plan.id,
          iamRoleArn: role.arn,
          resources: [pulumi.interpolate`arn:${partition}:ec2:*:*:volume/*`],
          conditions: [
            {
              stringEquals: [{ key: `aws:ResourceTag/${BACKUP_TAG.key}`, value: BACKUP_TAG.value }],
            },
          ],
        },
        parent,
      );
    }

    // Restore testing: a restored copy in the private subnets, behind a group only the validator
    // may enter, on PostgreSQL's port; the validator may leave only for it and for AWS's APIs.
    const restoreTestGroup = new aws.ec2.SecurityGroup(
      `${name}-restore-test`,
      {
        vpcId: args.restoreTest.vpcId,
        description: "Databases restored by AWS Backup restore tests: the validator only",
      },
      parent,
    );
    const validatorGroup = new aws.ec2.SecurityGroup(
      `${name}-restore-validator`,
      {
        vpcId: args.restoreTest.vpcId,
        description: "The restore-test validator: to restored databases and AWS APIs only",
      },
      parent,
    );
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-restore-test-from-validator`,
      {
        securityGroupId: restoreTestGroup.id,
        referencedSecurityGroupId: validatorGroup.id,
        ipProtocol: "tcp",
        fromPort: POSTGRES_PORT,
        toPort: POSTGRES_PORT,
        description: "PostgreSQL from the restore-test validator",
      },
      parent,
    );
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-restore-validator-to-database`,
      {
        securityGroupId: validatorGroup.id,
        referencedSecurityGroupId: restoreTestGroup.id,
        ipProtocol: "tcp",
        fromPort: POSTGRES_PORT,
        toPort: POSTGRES_PORT,
        description: "PostgreSQL of the restored database",
      },
      parent,
    );
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-restore-validator-to-aws`,
      {
        securityGroupId: validatorGroup.id,
        cidrIpv4: "0.0.0.0/0",
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        description: "AWS Backup, RDS and Secrets Manager APIs (through the NAT gateways)",
      },
      parent,
    );
    const testing = args.restoreTesting;
    const restorePlan = new aws.backup.RestoreTestingPlan(
      `${name}-restore-test`,
      {
        name: `${args.baseName.replace(/-/g, "_")}_restore_test`,
        scheduleExpression: testing.schedule,
        scheduleExpressionTimezone: "Etc/UTC",
        startWindowHours: 1,
        recoveryPointSelection: {
          algorithm: testing.algorithm,
          includeVaults: [vault.arn],
          recoveryPointTypes: ["SNAPSHOT"],
          selectionWindowDays: testing.selectionWindowDays,
        },
      },
      parent,
    );
    new aws.backup.RestoreTestingSelection(
      `${name}-restore-test-database`,
      {
        name: `${args.baseName.replace(/-/g, "_")}_database`,
        restoreTestingPlanName: restorePlan.name,
        protectedResourceType: "RDS",
        protectedResourceArns: [args.databaseArn],
        iamRoleArn: role.arn,
        validationWindowHours: testing.validationWindowHours,
        restoreMetadataOverrides: {
          dbInstanceClass: args.restoreTest.instanceClass ?? "db.t4g.medium",
          dbSubnetGroupName: args.restoreTest.subnetGroupName,
          vpcSecurityGroupIds: pulumi.jsonStringify([restoreTestGroup.id]),
        },
      },
      parent,
    );

    // The check: when a restore test's job completes, a function (restore-validator/) inspects
    // the restored instance and reports SUCCESSFUL or FAILED to AWS Backup (a failure reaches
    // the alarm topic).
    const validatorLogs = new aws.cloudwatch.LogGroup(
      `${name}-restore-validator`,
      {
        name: `/pra/${args.baseName}/restore-validator`,
        kmsKeyId: args.keys.logs,
        retentionInDays: 90,
      },
      parent,
    );
    const validatorRole = new aws.iam.Role(
      `${name}-restore-validator`,
      {
        assumeRolePolicy: policy([
          {
            Effect: "Allow",
            Principal: { Service: "lambda.amazonaws.com" },
            Action: "sts:AssumeRole",
          },
        ]),
      },
      parent,
    );
    new aws.iam.RolePolicy(
      `${name}-restore-validator`,
      {
        role: validatorRole.id,
        policy: pulumi
          .all([validatorLogs.arn, args.databaseSecret.arn, args.databaseSecret.keyArn])
          .apply(([logArn, secretArn, keyArn]) =>
            policy([
              {
                Effect: "Allow",
                Action: [
                  "backup:DescribeRestoreJob",
                  "backup:PutRestoreValidationResult",
                  "rds:DescribeDBInstances",
                ],
                Resource: "*",
              },
              {
                Effect: "Allow",
                Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
                Resource: `${logArn}:*`,
              },
              // The restored instance's login: the source's credentials.
              { Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: secretArn },
              { Effect: "Allow", Action: "kms:Decrypt", Resource: keyArn },
              VPC_FUNCTION_NETWORK_STATEMENT,
            ]),
          ),
      },
      parent,
    );
    const validator = new aws.lambda.Function(
      `${name}-restore-validator`,
      {
        description: "Checks databases restored by the AWS Backup restore testing plan",
        runtime: VALIDATOR_RUNTIME.lambda,
        handler: VALIDATOR_HANDLER,
        role: validatorRole.arn,
        timeout: 60,
        code: restoreValidatorCode(),
        // The stack's base name is the validation metric's dimension (alarms.ts watches it).
        environment: {
          variables: {
            [PLAN_ARN_VARIABLE]: restorePlan.arn,
            [STACK_VARIABLE]: args.baseName,
            [SECRET_VARIABLE]: args.databaseSecret.arn,
            // The RDS certificate authorities, for the data check's TLS (verify-full).
            NODE_EXTRA_CA_CERTS: LAMBDA_CA_BUNDLE,
          },
        },
        // In the private subnets, beside the restored database it queries.
        vpcConfig: {
          subnetIds: args.restoreTest.subnetIds,
          securityGroupIds: [validatorGroup.id],
        },
        loggingConfig: { logFormat: "JSON", logGroup: validatorLogs.name },
      },
      parent,
    );
    const completed = new aws.cloudwatch.EventRule(
      `${name}-restore-completed`,
      {
        description: "A restore job completed: validate it if a restore test started it",
        eventPattern: JSON.stringify({
          source: ["aws.backup"],
          "detail-type": ["Restore Job State Change"],
          detail: { $or: [{ status: ["COMPLETED"] }, { state: ["COMPLETED"] }] },
        }),
      },
      parent,
    );
    new aws.cloudwatch.EventTarget(
      `${name}-restore-completed`,
      { rule: completed.name, arn: validator.arn },
      parent,
    );
    new aws.lambda.Permission(
      `${name}-restore-completed`,
      {
        action: "lambda:InvokeFunction",
        function: validator.name,
        principal: "events.amazonaws.com",
        sourceArn: completed.arn,
      },
      parent,
    );

    this.vaultName = vault.name;
    this.vaultArn = vault.arn;
    this.drVaultName = drVault.name;
    this.drVaultArn = drVault.arn;
    this.planId = plan.id;
    this.restoreTestingPlanName = restorePlan.name;
    this.registerOutputs({
      vaultName: this.vaultName,
      drVaultName: this.drVaultName,
      planId: this.planId,
    });
  }
}
