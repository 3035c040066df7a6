/**
 * The target topology: the production architecture on AWS, then what runs in its EKS cluster
 * (add-ons, the synced charts, `pra-cloud`), deployed through the cluster's own provider.
 */
import type { TargetConfig } from "../config";
import { Target } from "./aws/target-architecture";
import { TargetWorkloads } from "./kubernetes/target-workloads";
import type { TargetStackOutputs } from "./outputs";

export function deployTarget(config: TargetConfig): TargetStackOutputs {
  const target = new Target("pra", { config });
  new TargetWorkloads("pra", {
    config,
    provider: target.kubernetesProvider,
    clusterName: target.outputs.clusterName,
    vpcId: target.vpcId,
    exportBucketName: target.outputs.exportBucketName,
    exportBucketKeyArn: target.outputs.exportBucketKeyArn,
    alarmTopicArn: target.outputs.alarmTopicArn,
    podIdentities: target.podIdentities,
  });
  return { topology: "target", namespace: config.namespace, ...target.outputs };
}
