/**
 * Physical names of a target stack's cloud resources, derived from the stack so two stacks never
 * collide. The AWS components create them and the charts refer to them: one definition for both.
 */
export function cloudNames(stack: string) {
  const base = `pra-${stack}`;
  return {
    base,
    clusterName: base,
    drClusterName: `${base}-dr`,
    databaseIdentifier: base,
    /**
     * Secrets Manager entry holding the database's connection settings (JSON: host, port, dbname,
     * username, password).
     */
    databaseSecretName: `pra/${stack}/database`,
    keyAliasPrefix: base,
    /** SNS topics of the alarms (CloudWatch, EventBridge, Alertmanager), in each region. */
    alarmTopic: `${base}-alarms`,
    drAlarmTopic: `${base}-dr-alarms`,
    /** Bucket names are global: the account and region make them unique. */
    exportBucket: (accountId: string, region: string) => `${base}-exports-${accountId}-${region}`,
  } as const;
}

/**
 * Address plans of the two regions' VPCs. Distinct, so the two can be peered during a failover;
 * the charts' network rules use them to name where the database and the load balancers are.
 */
export const VPC_CIDRS = { primary: "10.20.0.0/16", dr: "10.21.0.0/16" } as const;

/**
 * The subnets of a 10.x.0.0/16 VPC: zone `i` gets a private /19 (nodes, pods, the database)
 * at 10.x.(32i).0, a public /22 (NAT gateways, internet-facing load balancers) at
 * 10.x.(192+4i).0, and a /22 for internal load balancers at 10.x.(224+4i).0. Internal load
 * balancers get subnets of their own so that a network rule can admit them (10.x.224.0/19)
 * without admitting every pod, which in EKS takes its address from the private subnets.
 */
export function subnetPlan(vpcCidr: string) {
  const second = vpcCidr.split(".")[1];
  return {
    privateSubnet: (zone: number) => `10.${second}.${zone * 32}.0/19`,
    publicSubnet: (zone: number) => `10.${second}.${192 + zone * 4}.0/22`,
    loadBalancerSubnet: (zone: number) => `10.${second}.${224 + zone * 4}.0/22`,
    publicRange: `10.${second}.192.0/19`,
    loadBalancerRange: `10.${second}.224.0/19`,
  };
}
