/**
 * The service's stable name: a Route 53 private hosted zone associated with both regions' VPCs,
 * and one CNAME record that clients use instead of a load balancer's name. Pulumi writes the
 * record once, to the primary's load balancer; after that the failover and failback runbooks
 * (dr/failover-runbook.ts) switch it, so `pulumi up` ignores its value rather than switch it back.
 *
 * Why a switch step rather than failover routing with a health check: the load balancers are
 * internal (Route 53's health checkers cannot reach them), and a failover decided by a metric
 * alarm in the lost region would move clients onto a database that was not promoted yet.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface ServiceNameArgs {
  /** The private zone's domain (config/dr-design.ts). */
  readonly zone: string;
  readonly vpcs: readonly { readonly vpcId: pulumi.Input<string>; readonly region: string }[];
}

export class ServiceNameZone extends pulumi.ComponentResource {
  public readonly zoneId: pulumi.Output<string>;

  constructor(name: string, args: ServiceNameArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pra:aws:ServiceNameZone", name, {}, opts);
    const zone = new aws.route53.Zone(
      `${name}-zone`,
      {
        name: args.zone,
        comment: "pra: the service's stable name, switched by the failover runbook",
        vpcs: args.vpcs.map((vpc) => ({ vpcId: vpc.vpcId, vpcRegion: vpc.region })),
      },
      { parent: this },
    );
    this.zoneId = zone.zoneId;
    this.registerOutputs({ zoneId: this.zoneId });
  }
}

export interface ServiceRecordArgs {
  readonly zoneId: pulumi.Input<string>;
  readonly record: string;
  readonly ttl: number;
  /** The primary load balancer's name (its Ingress's status). */
  readonly target: pulumi.Input<string>;
}

/** The record, written once: the runbooks own its value from then on. */
export function serviceRecord(
  name: string,
  args: ServiceRecordArgs,
  opts: pulumi.CustomResourceOptions,
): aws.route53.Record {
  return new aws.route53.Record(
    name,
    {
      zoneId: args.zoneId,
      name: args.record,
      type: "CNAME",
      ttl: args.ttl,
      records: [args.target],
    },
    { ...opts, ignoreChanges: ["records"] },
  );
}
