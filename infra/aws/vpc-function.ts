/**
 * What a Lambda function in the VPC needs to reach the database: a security group of its own
 * with egress to PostgreSQL and to the AWS APIs over HTTPS (through the NAT), the database's
 * group admitting it, and the EC2 actions Lambda takes as the function's role to attach its
 * network interfaces. Shared by the credential rotation and the database bootstrap, which both
 * log in to the live instance.
 */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";

export interface DatabaseClientGroupArgs {
  readonly vpcId: pulumi.Input<string>;
  /** The database's security group: the function is let in on `port`. */
  readonly databaseSecurityGroupId: pulumi.Input<string>;
  readonly port: number;
  /** The group's own description. */
  readonly description: string;
  /** Who the database admits, in its ingress rule's description ("the database bootstrap function"). */
  readonly admitted: string;
}

/** The function's group; the rules are named `${name}-https`, `${name}-postgres`, `${name}-into-database`. */
export function databaseClientGroup(
  name: string,
  args: DatabaseClientGroupArgs,
  opts: pulumi.CustomResourceOptions,
): aws.ec2.SecurityGroup {
  const group = new aws.ec2.SecurityGroup(
    `${name}-function`,
    { vpcId: args.vpcId, description: args.description },
    opts,
  );
  new aws.vpc.SecurityGroupEgressRule(
    `${name}-https`,
    {
      securityGroupId: group.id,
      ipProtocol: "tcp",
      fromPort: 443,
      toPort: 443,
      cidrIpv4: "0.0.0.0/0",
      description: "Secrets Manager API",
    },
    opts,
  );
  new aws.vpc.SecurityGroupEgressRule(
    `${name}-postgres`,
    {
      securityGroupId: group.id,
      ipProtocol: "tcp",
      fromPort: args.port,
      toPort: args.port,
      referencedSecurityGroupId: args.databaseSecurityGroupId,
      description: "PostgreSQL",
    },
    opts,
  );
  new aws.vpc.SecurityGroupIngressRule(
    `${name}-into-database`,
    {
      securityGroupId: args.databaseSecurityGroupId,
      referencedSecurityGroupId: group.id,
      ipProtocol: "tcp",
      fromPort: args.port,
      toPort: args.port,
      description: `PostgreSQL from ${args.admitted}`,
    },
    opts,
  );
  return group;
}

/**
 * A function in a VPC: Lambda attaches network interfaces as the function's role (these EC2
 * actions take no resource scoping).
 */
export const VPC_FUNCTION_NETWORK_STATEMENT = {
  Effect: "Allow",
  Action: [
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
  ],
  Resource: "*",
} as const;
