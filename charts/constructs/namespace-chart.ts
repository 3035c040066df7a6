/**
 * The stack's cluster-scoped objects, in a chart of their own: a chart's namespace would
 * otherwise be stamped onto them, and a Namespace carrying `metadata.namespace` is wrong.
 */
import { Chart, type ChartProps } from "cdk8s";
import * as kplus from "cdk8s-plus-28";
import type { Construct } from "constructs";

export interface NamespaceChartProps extends ChartProps {
  /** The namespace to create. */
  readonly name: string;
}

export class NamespaceChart extends Chart {
  readonly namespaceObject: kplus.Namespace;

  constructor(scope: Construct, id: string, props: NamespaceChartProps) {
    const { name, ...chartProps } = props;
    super(scope, id, chartProps);
    this.namespaceObject = new kplus.Namespace(this, "namespace", {
      metadata: {
        name,
        // Every pod of this project meets the `restricted` Pod Security Standard; enforcing it
        // keeps anything added later (a debug pod, a sidecar) to the same bar.
        labels: {
          "pod-security.kubernetes.io/enforce": "restricted",
          "pod-security.kubernetes.io/enforce-version": "latest",
          "pod-security.kubernetes.io/warn": "restricted",
          "pod-security.kubernetes.io/audit": "restricted",
        },
      },
    });
  }
}
