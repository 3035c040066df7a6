/**
 * Keeping enough of the app up through voluntary disruptions (node drains, upgrades) and load:
 * a PodDisruptionBudget and a HorizontalPodAutoscaler on CPU.
 */
import * as kplus from "cdk8s-plus-28";
import { k8s } from "cdk8s-plus-28";
import { Construct } from "constructs";
import type { AppWorkload } from "./app-workload";

export interface AppAvailabilityProps {
  readonly app: AppWorkload;
  /** The fewest pods that serve; also the autoscaler's floor. Must be at least 2. */
  readonly minReplicas: number;
  /** @default three times minReplicas */
  readonly maxReplicas?: number;
  /** Average CPU use, in percent of requests, the autoscaler aims for. @default 70 */
  readonly targetCpuPercent?: number;
}

export class AppAvailability extends Construct {
  constructor(scope: Construct, id: string, props: AppAvailabilityProps) {
    super(scope, id);
    const maxReplicas = props.maxReplicas ?? props.minReplicas * 3;
    if (props.minReplicas < 2) {
      throw new Error(
        `AppAvailability: minReplicas must be at least 2 to survive a disruption, got ${props.minReplicas}`,
      );
    }
    if (maxReplicas < props.minReplicas) {
      throw new Error(
        `AppAvailability: maxReplicas (${maxReplicas}) is below minReplicas (${props.minReplicas})`,
      );
    }
    // One pod at a time may be evicted: a drain never takes the service below minReplicas - 1.
    new k8s.KubePodDisruptionBudget(this, "pdb", {
      metadata: { name: props.app.name },
      spec: {
        maxUnavailable: k8s.IntOrString.fromNumber(1),
        selector: { matchLabels: { ...props.app.selectorLabels } },
      },
    });
    new kplus.HorizontalPodAutoscaler(this, "hpa", {
      metadata: { name: props.app.name },
      target: props.app.deployment,
      minReplicas: props.minReplicas,
      maxReplicas,
      metrics: [
        kplus.Metric.resourceCpu(
          kplus.MetricTarget.averageUtilization(props.targetCpuPercent ?? 70),
        ),
      ],
    });
  }
}
