/**
 * A VPC over several availability zones: a public and a private subnet in each, NAT gateways
 * (one per zone, or one shared), an S3 gateway endpoint (exports and backups do not pay NAT
 * traffic) and flow logs to an encrypted log group.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { subnetPlan } from "../../config";

export interface NetworkArgs {
  /** The VPC's range; subnets are carved from it (/19 private, /22 public, up to 6 zones). */
  readonly cidrBlock: string;
  /** Availability zones to span, at least 2. @default 3 */
  readonly availabilityZones?: number;
  /** NAT gateways: one per zone (survives a zone loss) or a single shared one (cheaper). @default "per-zone" */
  readonly natGateways?: "per-zone" | "single";
  /** Customer-managed key of the flow log group. */
  readonly logsKeyArn: pulumi.Input<string>;
  /** Days flow logs are kept. @default 90 */
  readonly flowLogRetentionDays?: number;
  /** The region, for the S3 endpoint's service name. */
  readonly region: string;
  /** Name of the EKS cluster that will use the subnets, for the load balancer discovery tags. */
  readonly clusterName: string;
}

/** Refuses what cannot work; plain so it is tested without mocks. */
export function validateNetworkArgs(args: NetworkArgs): void {
  const zones = args.availabilityZones ?? 3;
  if (!Number.isInteger(zones) || zones < 2 || zones > 6) {
    throw new Error(
      `Network: expected 2 to 6 availability zones (a single zone is no disaster recovery); found ${zones}`,
    );
  }
  if (!/^10\.\d{1,3}\.0\.0\/16$/.test(args.cidrBlock)) {
    throw new Error(`Network: expected a /16 such as 10.20.0.0/16; found ${args.cidrBlock}`);
  }
}

/** The private and public ranges of zone `index` (config/cloud-names.ts holds the address plan). */
export function subnetRanges(
  cidrBlock: string,
  index: number,
): { private: string; public: string; loadBalancers: string } {
  const plan = subnetPlan(cidrBlock);
  return {
    private: plan.privateSubnet(index),
    public: plan.publicSubnet(index),
    loadBalancers: plan.loadBalancerSubnet(index),
  };
}

/** The first `count` zone names, or an error naming what the region has. */
export function pickZones(available: readonly string[], count: number, region: string): string[] {
  if (available.length < count) {
    throw new Error(
      `Network: ${region} has ${available.length} availability zones (${available.join(", ")}); ` +
        `pra:availabilityZones asks for ${count}`,
    );
  }
  return [...available].sort().slice(0, count);
}

export class Network extends pulumi.ComponentResource {
  public readonly vpcId: pulumi.Output<string>;
  /** Zone names, in the order of the subnet lists. */
  public readonly zones: pulumi.Output<string>[];
  public readonly publicSubnetIds: pulumi.Output<string>[];
  public readonly privateSubnetIds: pulumi.Output<string>[];
  public readonly natGatewayCount: number;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pra:aws:Network", name, {}, opts);
    validateNetworkArgs(args);
    const zoneCount = args.availabilityZones ?? 3;
    const perZoneNat = (args.natGateways ?? "per-zone") === "per-zone";
    const parent = { parent: this };

    const available = aws.getAvailabilityZonesOutput(
      { state: "available", filters: [{ name: "opt-in-status", values: ["opt-in-not-required"] }] },
      parent,
    );
    const zones = available.names.apply((names) => pickZones(names, zoneCount, args.region));

    const vpc = new aws.ec2.Vpc(
      `${name}-vpc`,
      {
        cidrBlock: args.cidrBlock,
        enableDnsHostnames: true,
        enableDnsSupport: true,
        tags: { Name: `${name}-vpc` },
      },
      parent,
    );
    // The default security group of a VPC allows everything between its members: empty it.
    new aws.ec2.DefaultSecurityGroup(`${name}-default-sg`, { vpcId: vpc.id }, parent);

    const igw = new aws.ec2.InternetGateway(
      `${name}-igw`,
      { vpcId: vpc.id, tags: { Name: `${name}-igw` } },
      parent,
    );
    const publicRoutes = new aws.ec2.RouteTable(
      `${name}-public`,
      {
        vpcId: vpc.id,
        routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }],
        tags: { Name: `${name}-public` },
      },
      parent,
    );

    this.zones = [];
    this.publicSubnetIds = [];
    this.privateSubnetIds = [];
    const natIds: pulumi.Output<string>[] = [];
    const privateRouteTableIds: pulumi.Output<string>[] = [];
    for (let i = 0; i < zoneCount; i++) {
      const zone = zones.apply((names) => names[i]!);
      const ranges = subnetRanges(args.cidrBlock, i);
      const publicSubnet = new aws.ec2.Subnet(
        `${name}-public-${i}`,
        {
          vpcId: vpc.id,
          availabilityZone: zone,
          cidrBlock: ranges.public,
          mapPublicIpOnLaunch: false,
          tags: {
            Name: `${name}-public-${i}`,
            "kubernetes.io/role/elb": "1",
            [`kubernetes.io/cluster/${args.clusterName}`]: "shared",
          },
        },
        parent,
      );
      new aws.ec2.RouteTableAssociation(
        `${name}-public-${i}`,
        { subnetId: publicSubnet.id, routeTableId: publicRoutes.id },
        parent,
      );
      const privateSubnet = new aws.ec2.Subnet(
        `${name}-private-${i}`,
        {
          vpcId: vpc.id,
          availabilityZone: zone,
          cidrBlock: ranges.private,
          tags: {
            Name: `${name}-private-${i}`,
            [`kubernetes.io/cluster/${args.clusterName}`]: "shared",
          },
        },
        parent,
      );
      // Internal load balancers only (the Load Balancer Controller picks subnets by this tag):
      // the app's network rules admit this range and nothing else of the VPC.
      const loadBalancerSubnet = new aws.ec2.Subnet(
        `${name}-internal-lb-${i}`,
        {
          vpcId: vpc.id,
          availabilityZone: zone,
          cidrBlock: ranges.loadBalancers,
          tags: {
            Name: `${name}-internal-lb-${i}`,
            "kubernetes.io/role/internal-elb": "1",
            [`kubernetes.io/cluster/${args.clusterName}`]: "shared",
          },
        },
        parent,
      );
      if (perZoneNat || i === 0) {
        const eip = new aws.ec2.Eip(
          `${name}-nat-${i}`,
          { domain: "vpc", tags: { Name: `${name}-nat-${i}` } },
          parent,
        );
        const nat = new aws.ec2.NatGateway(
          `${name}-nat-${i}`,
          {
            allocationId: eip.allocationId,
            subnetId: publicSubnet.id,
            tags: { Name: `${name}-nat-${i}` },
          },
          { parent: this, dependsOn: [igw] },
        );
        natIds.push(nat.id);
      }
      const privateRoutes = new aws.ec2.RouteTable(
        `${name}-private-${i}`,
        {
          vpcId: vpc.id,
          routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: perZoneNat ? natIds[i]! : natIds[0]! }],
          tags: { Name: `${name}-private-${i}` },
        },
        parent,
      );
      new aws.ec2.RouteTableAssociation(
        `${name}-private-${i}`,
        { subnetId: privateSubnet.id, routeTableId: privateRoutes.id },
        parent,
      );
      new aws.ec2.RouteTableAssociation(
        `${name}-internal-lb-${i}`,
        { subnetId: loadBalancerSubnet.id, routeTableId: privateRoutes.id },
        parent,
      );
      privateRouteTableIds.push(privateRoutes.id);
      this.zones.push(zone);
      this.publicSubnetIds.push(publicSubnet.id);
      this.privateSubnetIds.push(privateSubnet.id);
    }
    this.natGatewayCount = natIds.length;

    new aws.ec2.VpcEndpoint(
      `${name}-s3`,
      {
        vpcId: vpc.id,
        serviceName: `com.amazonaws.${args.region}.s3`,
        vpcEndpointType: "Gateway",
        routeTableIds: privateRouteTableIds,
      },
      parent,
    );

    const flowLogGroup = new aws.cloudwatch.LogGroup(
      `${name}-flow-logs`,
      {
        name: `/pra/${name}/vpc-flow-logs`,
        kmsKeyId: args.logsKeyArn,
        retentionInDays: args.flowLogRetentionDays ?? 90,
      },
      parent,
    );
    const flowLogRole = new aws.iam.Role(
      `${name}-flow-logs`,
      {
        assumeRolePolicy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { Service: "vpc-flow-logs.amazonaws.com" },
              Action: "sts:AssumeRole",
            },
          ],
        }),
      },
      parent,
    );
    new aws.iam.RolePolicy(
      `${name}-flow-logs`,
      {
        role: flowLogRole.id,
        policy: flowLogGroup.arn.apply((arn) =>
          JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Effect: "Allow",
                Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                Resource: [arn, `${arn}:*`],
              },
            ],
          }),
        ),
      },
      parent,
    );
    new aws.ec2.FlowLog(
      `${name}-flow-logs`,
      {
        vpcId: vpc.id,
        trafficType: "ALL",
        logDestinationType: "cloud-watch-logs",
        logDestination: flowLogGroup.arn,
        iamRoleArn: flowLogRole.arn,
        maxAggregationInterval: 60,
      },
      parent,
    );

    this.vpcId = vpc.id;
    this.registerOutputs({
      vpcId: this.vpcId,
      publicSubnetIds: this.publicSubnetIds,
      privateSubnetIds: this.privateSubnetIds,
    });
  }
}
