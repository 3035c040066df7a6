/**
 * The AWS Load Balancer Controller's permissions, scoped to what this stack uses: one internal
 * HTTPS ALB per Ingress, IP targets, in one cluster's VPC. Derived from the controller's official
 * iam_policy.json (v2.17), with these simplifications:
 * - ACM read-only, to find the certificate of the Ingress's TLS host (certificate discovery);
 * - no WAF, WAFv2, Shield, Cognito, IAM server certificates, Outposts (COIP) or IPAM
 *   pools: no Ingress here uses them, and the release turns the WAF and Shield lookups off;
 * - read-only calls are listed one by one for EC2 (no `ec2:Describe*` over the whole account);
 *   `elasticloadbalancing:Describe*` stays a wildcard because each controller release reads a
 *   new attribute, and those calls reveal nothing outside load balancers;
 * - every write is limited to this account and region, and to the resources the controller
 *   tagged `elbv2.k8s.aws/cluster` with THIS cluster's name (the official policy accepts any
 *   value), security-group rule changes to security groups of this cluster's VPC.
 */

/** The tag the controller puts on everything it creates, valued with the cluster's name. */
export const CLUSTER_TAG = "elbv2.k8s.aws/cluster";

export interface LoadBalancerControllerScope {
  readonly accountId: string;
  readonly region: string;
  readonly clusterName: string;
  readonly vpcId: string;
}

export function loadBalancerControllerPolicy(scope: LoadBalancerControllerScope): string {
  const { accountId, region, clusterName, vpcId } = scope;
  const elb = (resource: string) =>
    `arn:aws:elasticloadbalancing:${region}:${accountId}:${resource}`;
  const ec2 = (resource: string) => `arn:aws:ec2:${region}:${accountId}:${resource}`;
  const loadBalancers = [elb("loadbalancer/app/*/*"), elb("loadbalancer/net/*/*")];
  const targetGroups = elb("targetgroup/*/*");
  const listeners = [
    elb("listener/app/*/*/*"),
    elb("listener/net/*/*/*"),
    elb("listener-rule/app/*/*/*/*"),
    elb("listener-rule/net/*/*/*/*"),
  ];
  const taggedForCluster = { StringEquals: { [`aws:ResourceTag/${CLUSTER_TAG}`]: clusterName } };
  const taggingForCluster = { StringEquals: { [`aws:RequestTag/${CLUSTER_TAG}`]: clusterName } };
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ElbServiceLinkedRole",
        Effect: "Allow",
        Action: "iam:CreateServiceLinkedRole",
        Resource: "*",
        Condition: { StringEquals: { "iam:AWSServiceName": "elasticloadbalancing.amazonaws.com" } },
      },
      {
        // These calls support no resource-level permissions.
        Sid: "Discover",
        Effect: "Allow",
        Action: [
          "ec2:DescribeAccountAttributes",
          "ec2:DescribeAddresses",
          "ec2:DescribeAvailabilityZones",
          "ec2:DescribeInternetGateways",
          "ec2:DescribeVpcs",
          "ec2:DescribeVpcPeeringConnections",
          "ec2:DescribeSubnets",
          "ec2:DescribeSecurityGroups",
          "ec2:DescribeInstances",
          "ec2:DescribeNetworkInterfaces",
          "ec2:DescribeTags",
          "ec2:DescribeRouteTables",
          "ec2:GetSecurityGroupsForVpc",
          "elasticloadbalancing:Describe*",
        ],
        Resource: "*",
      },
      {
        // Certificate discovery: the Ingress names its TLS host, not a certificate ARN. These
        // calls support no resource-level permissions; they read certificates, never keys.
        Sid: "DiscoverCertificates",
        Effect: "Allow",
        Action: ["acm:ListCertificates", "acm:DescribeCertificate"],
        Resource: "*",
      },
      {
        // The controller lets the load balancer's security group reach the pods' (node) groups.
        Sid: "SecurityGroupRulesInClusterVpc",
        Effect: "Allow",
        Action: ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"],
        Resource: ec2("security-group/*"),
        Condition: { ArnEquals: { "ec2:Vpc": ec2(`vpc/${vpcId}`) } },
      },
      {
        Sid: "CreateSecurityGroupInClusterVpc",
        Effect: "Allow",
        Action: "ec2:CreateSecurityGroup",
        Resource: [ec2(`vpc/${vpcId}`), ec2("security-group/*")],
      },
      {
        Sid: "TagSecurityGroupOnCreate",
        Effect: "Allow",
        Action: "ec2:CreateTags",
        Resource: ec2("security-group/*"),
        Condition: {
          StringEquals: {
            [`aws:RequestTag/${CLUSTER_TAG}`]: clusterName,
            "ec2:CreateAction": "CreateSecurityGroup",
          },
        },
      },
      {
        Sid: "ManageOwnSecurityGroups",
        Effect: "Allow",
        Action: [
          "ec2:CreateTags",
          "ec2:DeleteTags",
          "ec2:AuthorizeSecurityGroupIngress",
          "ec2:RevokeSecurityGroupIngress",
          "ec2:DeleteSecurityGroup",
        ],
        Resource: ec2("security-group/*"),
        Condition: taggedForCluster,
      },
      {
        Sid: "CreateLoadBalancersForCluster",
        Effect: "Allow",
        Action: [
          "elasticloadbalancing:CreateLoadBalancer",
          "elasticloadbalancing:CreateTargetGroup",
        ],
        Resource: [...loadBalancers, targetGroups],
        Condition: taggingForCluster,
      },
      {
        Sid: "TagOnCreate",
        Effect: "Allow",
        Action: "elasticloadbalancing:AddTags",
        Resource: [...loadBalancers, targetGroups],
        Condition: {
          StringEquals: {
            [`aws:RequestTag/${CLUSTER_TAG}`]: clusterName,
            "elasticloadbalancing:CreateAction": ["CreateTargetGroup", "CreateLoadBalancer"],
          },
        },
      },
      {
        Sid: "ManageOwnLoadBalancers",
        Effect: "Allow",
        Action: [
          "elasticloadbalancing:AddTags",
          "elasticloadbalancing:RemoveTags",
          "elasticloadbalancing:ModifyLoadBalancerAttributes",
          "elasticloadbalancing:SetIpAddressType",
          "elasticloadbalancing:SetSecurityGroups",
          "elasticloadbalancing:SetSubnets",
          "elasticloadbalancing:DeleteLoadBalancer",
          "elasticloadbalancing:ModifyTargetGroup",
          "elasticloadbalancing:ModifyTargetGroupAttributes",
          "elasticloadbalancing:DeleteTargetGroup",
          "elasticloadbalancing:RegisterTargets",
          "elasticloadbalancing:DeregisterTargets",
        ],
        Resource: [...loadBalancers, targetGroups],
        Condition: taggedForCluster,
      },
      {
        // Listeners and rules are created on the cluster's own load balancers (checked above
        // through their tags); their ARNs are scoped to this account and region.
        Sid: "ListenersAndRules",
        Effect: "Allow",
        Action: [
          "elasticloadbalancing:CreateListener",
          "elasticloadbalancing:DeleteListener",
          "elasticloadbalancing:ModifyListener",
          "elasticloadbalancing:ModifyListenerAttributes",
          "elasticloadbalancing:CreateRule",
          "elasticloadbalancing:DeleteRule",
          "elasticloadbalancing:ModifyRule",
          "elasticloadbalancing:SetRulePriorities",
        ],
        Resource: [...loadBalancers, ...listeners],
      },
      {
        // Not on load balancers: retagging one would bring it under ManageOwnLoadBalancers.
        Sid: "TagListenersAndRules",
        Effect: "Allow",
        Action: ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"],
        Resource: listeners,
      },
    ],
  });
}
