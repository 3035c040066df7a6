/**
 * The lab topology: the workshop on any Kubernetes cluster. It declares no cloud resource: the
 * cdk8s charts, deployed into the cluster of the configured kube context, are all there is.
 */
import type { LabConfig } from "../config";
import { LabWorkloads } from "./kubernetes/lab-workloads";
import type { LabOutputs } from "./outputs";

export interface LabOptions {
  /** `kubernetes:context`: the kubeconfig context to deploy into. @default the current context */
  readonly kubeContext?: string;
}

export function deployLab(config: LabConfig, options: LabOptions = {}): LabOutputs {
  new LabWorkloads("pra", {
    config,
    ...(options.kubeContext ? { kubeContext: options.kubeContext } : {}),
  });
  return { topology: "lab", namespace: config.namespace };
}
