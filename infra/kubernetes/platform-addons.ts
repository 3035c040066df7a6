/**
 * What the target chart relies on in the cluster, installed before it: External Secrets (fills
 * the database Secret from Secrets Manager), the Prometheus stack (Prometheus, kube-state-metrics
 * for the CronJob alerts, Grafana with its dashboard sidecar) and the AWS Load Balancer
 * Controller (the Ingress). Chart versions are pinned: an upgrade is a reviewed change.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { TARGET } from "../../charts/constructs/names";
import { KubernetesObject } from "./kubernetes-object";

export interface AddonChart {
  readonly chart: string;
  readonly version: string;
  readonly repository: string;
  readonly namespace: string;
}

export const ADDON_CHARTS = {
  externalSecrets: {
    chart: "external-secrets",
    version: "1.3.2",
    repository: "https://charts.external-secrets.io",
    namespace: "external-secrets",
  },
  prometheusStack: {
    chart: "kube-prometheus-stack",
    version: "87.21.0",
    repository: "https://prometheus-community.github.io/helm-charts",
    namespace: "monitoring",
  },
  loadBalancerController: {
    chart: "aws-load-balancer-controller",
    version: "1.17.1",
    repository: "https://aws.github.io/eks-charts",
    namespace: "kube-system",
  },
} as const satisfies Record<string, AddonChart>;

export interface PlatformAddonsArgs {
  readonly provider: pulumi.ProviderResource;
  readonly clusterName: pulumi.Input<string>;
  readonly region: string;
  readonly vpcId: pulumi.Input<string>;
  /** Service accounts bound to AWS roles by EKS Pod Identity (infra/aws/workload-identity.ts). */
  readonly serviceAccounts: { readonly externalSecrets: string; readonly loadBalancerController: string };
}

export class PlatformAddons extends pulumi.ComponentResource {
  /** Everything custom resources of the charts must wait for. */
  public readonly ready: pulumi.Resource[];

  constructor(name: string, args: PlatformAddonsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pra:kubernetes:PlatformAddons", name, {}, opts);
    const options = { parent: this, provider: args.provider };
    const release = (id: string, spec: AddonChart, values: pulumi.Inputs) =>
      new k8s.helm.v3.Release(
        `${name}-${id}`,
        {
          name: spec.chart,
          chart: spec.chart,
          version: spec.version,
          repositoryOpts: { repo: spec.repository },
          namespace: spec.namespace,
          createNamespace: true,
          // Roll back a failed upgrade rather than leave a half-installed add-on.
          atomic: true,
          values,
        },
        options,
      );

    const externalSecrets = release("external-secrets", ADDON_CHARTS.externalSecrets, {
      installCRDs: true,
      serviceAccount: { create: true, name: args.serviceAccounts.externalSecrets },
    });
    const prometheusStack = release("prometheus-stack", ADDON_CHARTS.prometheusStack, {
      prometheus: {
        prometheusSpec: {
          // Pick up every ServiceMonitor and PrometheusRule, not only the chart's own.
          serviceMonitorSelectorNilUsesHelmValues: false,
          ruleSelectorNilUsesHelmValues: false,
          retention: "15d",
        },
      },
      grafana: {
        sidecar: { dashboards: { enabled: true, label: "grafana_dashboard", searchNamespace: "ALL" } },
      },
    });
    const loadBalancerController = release("load-balancer-controller", ADDON_CHARTS.loadBalancerController, {
      clusterName: args.clusterName,
      region: args.region,
      vpcId: args.vpcId,
      serviceAccount: { create: true, name: args.serviceAccounts.loadBalancerController },
    });

    // No credentials here: External Secrets' controller reads Secrets Manager as its own
    // service account, which EKS Pod Identity binds to a read-only role.
    const secretStore = new KubernetesObject(
      `${name}-cluster-secret-store`,
      {
        apiVersion: "external-secrets.io/v1",
        kind: "ClusterSecretStore",
        metadata: { name: TARGET.clusterSecretStore },
        spec: { provider: { aws: { service: "SecretsManager", region: args.region } } },
      },
      { ...options, dependsOn: [externalSecrets] },
    );

    this.ready = [externalSecrets, prometheusStack, loadBalancerController, secretStore];
    this.registerOutputs({});
  }
}
