/**
 * The lab topology: the workshop on any Kubernetes cluster. It declares no cloud resource; the
 * cdk8s charts (deployed here later through a Kubernetes provider) are all there is.
 */
import type { LabConfig } from "../config";

export interface LabOutputs {
  readonly topology: "lab";
  readonly namespace: string;
}

/** Seam for the chart deployment: today it declares nothing. */
export function deployLab(config: LabConfig): LabOutputs {
  return { topology: "lab", namespace: config.namespace };
}
