/**
 * The target topology: the production architecture on AWS, then what runs in its EKS cluster
 * (add-ons, the synced charts, `pra-cloud`), deployed through the cluster's own provider; what
 * the DR cluster holds before a failover (infra/kubernetes/dr-workloads.ts); and the service's
 * stable name, first pointing at the primary's load balancer.
 */
import * as k8s from "@pulumi/kubernetes";
import type { TargetConfig } from "../config";
import { drDesignOf } from "../config/dr-design";
import { serviceRecord } from "./aws/service-name";
import { Target } from "./aws/target-architecture";
import { DrWorkloads } from "./kubernetes/dr-workloads";
import { TargetWorkloads } from "./kubernetes/target-workloads";
import type { TargetStackOutputs } from "./outputs";

/** The load balancer's name an Ingress's status reports (the Load Balancer Controller writes it). */
export function loadBalancerHostname(status: unknown): string {
  const ingress =
    typeof status === "object" && status !== null && "loadBalancer" in status
      ? status.loadBalancer
      : undefined;
  const entries =
    typeof ingress === "object" && ingress !== null && "ingress" in ingress
      ? ingress.ingress
      : undefined;
  const first: unknown = Array.isArray(entries) ? entries[0] : undefined;
  const hostname =
    typeof first === "object" && first !== null && "hostname" in first ? first.hostname : undefined;
  if (typeof hostname !== "string" || hostname === "")
    throw new Error(
      "the app's Ingress reports no load balancer: is the Load Balancer Controller running?",
    );
  return hostname;
}

export function deployTarget(config: TargetConfig): TargetStackOutputs {
  const target = new Target("pra", { config });
  const workloads = new TargetWorkloads("pra", {
    config,
    provider: target.kubernetesProvider,
    clusterName: target.outputs.clusterName,
    vpcId: target.vpcId,
    exportBucketName: target.outputs.exportBucketName,
    exportBucketKeyArn: target.outputs.exportBucketKeyArn,
    alarmTopicArn: target.outputs.alarmTopicArn,
    podIdentities: target.podIdentities,
  });
  new DrWorkloads("pra-dr", {
    config,
    provider: target.dr.kubernetesProvider,
    clusterName: target.dr.clusterName,
    vpcId: target.dr.vpcId,
    exportBucketName: target.dr.exportBucketName,
    exportBucketKeyArn: target.dr.exportKeyArn,
    alarmTopicArn: target.dr.alarmTopicArn,
    podIdentities: target.dr.podIdentities,
  });

  // The primary's Ingress as the cluster reports it once its load balancer exists. With
  // pra:deployWorkloads: false a GitOps tool creates it: until its first sync has, `pulumi up`
  // stops here (run it again then; docs/deploying.md#gitops).
  const ingress = k8s.networking.v1.Ingress.get("pra-primary-ingress", workloads.ingress.id, {
    provider: target.kubernetesProvider,
    ...(workloads.ingress.object ? { dependsOn: [workloads.ingress.object] } : {}),
  });
  const name = drDesignOf(config).serviceName;
  serviceRecord(
    "pra-service-name",
    {
      zoneId: target.serviceZoneId,
      record: name.record,
      ttl: name.ttl,
      target: ingress.status.apply(loadBalancerHostname),
    },
    {},
  );
  return { topology: "target", namespace: config.namespace, ...target.outputs };
}
