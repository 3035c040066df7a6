/**
 * The function that creates the app's database user (bootstrap.ts), in the private subnets, and
 * its one invocation by the Pulumi program once the database and the app's secret exist (again
 * only when its inputs change: the SQL is idempotent either way). Its role may read the two
 * secrets and decrypt them, nothing else.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { LAMBDA_CA_BUNDLE, VALIDATOR_RUNTIME } from "../restore-validator/settings";
import { databaseBootstrapCode } from "./bundle";
import { APP_SECRET_VARIABLE, MASTER_SECRET_VARIABLE } from "./settings";
import { databaseClientGroup, VPC_FUNCTION_NETWORK_STATEMENT } from "../vpc-function";

export interface DatabaseBootstrapArgs {
  readonly baseName: string;
  readonly vpcId: pulumi.Input<string>;
  readonly subnetIds: pulumi.Input<string>[];
  readonly databaseSecurityGroupId: pulumi.Input<string>;
  readonly port: number;
  readonly masterSecretArn: pulumi.Input<string>;
  readonly appSecretArn: pulumi.Input<string>;
  readonly secretsKeyArn: pulumi.Input<string>;
}

export class DatabaseBootstrap extends pulumi.ComponentResource {
  constructor(name: string, args: DatabaseBootstrapArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pra:aws:DatabaseBootstrap", name, {}, opts);
    const parent = { parent: this };
    const group = databaseClientGroup(
      name,
      {
        vpcId: args.vpcId,
        databaseSecurityGroupId: args.databaseSecurityGroupId,
        port: args.port,
        description: `Creates ${args.baseName}'s app database user`,
        admitted: "the database bootstrap function",
      },
      parent,
    );
    const role = new aws.iam.Role(
      `${name}-function`,
      {
        assumeRolePolicy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { Service: "lambda.amazonaws.com" },
              Action: "sts:AssumeRole",
            },
          ],
        }),
      },
      parent,
    );
    new aws.iam.RolePolicy(
      `${name}-function`,
      {
        role: role.id,
        policy: pulumi
          .all([args.masterSecretArn, args.appSecretArn, args.secretsKeyArn])
          .apply(([master, app, key]) =>
            JSON.stringify({
              Version: "2012-10-17",
              Statement: [
                {
                  Effect: "Allow",
                  Action: "secretsmanager:GetSecretValue",
                  Resource: [master, app],
                },
                { Effect: "Allow", Action: "kms:Decrypt", Resource: key },
                {
                  Effect: "Allow",
                  Action: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                  Resource: "*",
                },
                VPC_FUNCTION_NETWORK_STATEMENT,
              ],
            }),
          ),
      },
      parent,
    );
    const fn = new aws.lambda.Function(
      `${name}-function`,
      {
        description: `Creates ${args.baseName}'s least-privilege app database user`,
        runtime: VALIDATOR_RUNTIME.lambda,
        handler: "index.handler",
        role: role.arn,
        timeout: 60,
        code: databaseBootstrapCode(),
        environment: {
          variables: {
            [MASTER_SECRET_VARIABLE]: args.masterSecretArn,
            [APP_SECRET_VARIABLE]: args.appSecretArn,
            NODE_EXTRA_CA_CERTS: LAMBDA_CA_BUNDLE,
          },
        },
        vpcConfig: { subnetIds: args.subnetIds, securityGroupIds: [group.id] },
      },
      parent,
    );
    new aws.lambda.Invocation(
      `${name}-run`,
      { functionName: fn.name, input: JSON.stringify({ reason: "create the app's user" }) },
      parent,
    );
    this.registerOutputs({});
  }
}
