/**
 * What the charts rely on in the cluster, installed before their custom resources: the
 * Prometheus stack (the operator's CRDs, Prometheus, kube-state-metrics for the CronJob alerts,
 * Grafana with its dashboard sidecar) wherever monitoring is on; on EKS also External Secrets
 * (fills the database Secret from Secrets Manager, through the ClusterSecretStore declared
 * here), the AWS Load Balancer Controller (the Ingress) and metrics-server (the autoscaler's CPU
 * figures). Chart versions are pinned in addon-charts.ts.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { prometheusStackValues } from "../../charts/addon-values";
import type { AlertmanagerConfig } from "../../charts/alertmanager-config";
import { TARGET } from "../../charts/constructs/names";
import {
  ADDON_CHARTS,
  ADDON_SERVICE_ACCOUNTS,
  type AddonChart,
  LOAD_BALANCER_CONTROLLER_WEBHOOK_KINDS,
} from "./addon-charts";
import type { ChartAddons } from "./chart-deployment";
import { KubernetesObject } from "./kubernetes-object";

/** Seconds a release may take to become ready; the Prometheus stack's first install is slow. */
const RELEASE_TIMEOUT_SECONDS = 600;

/**
 * Cluster Autoscaler's values: it finds the node groups by the tags EKS puts on their Auto
 * Scaling groups, keeps the zones' groups balanced (one group per zone, so a scale-up does not
 * pile into one zone), and runs as the service account Pod Identity binds to its role.
 */
export function clusterAutoscalerValues(clusterName: pulumi.Input<string>, region: string) {
  return {
    cloudProvider: "aws",
    awsRegion: region,
    autoDiscovery: { clusterName },
    rbac: { serviceAccount: { create: true, name: ADDON_SERVICE_ACCOUNTS.clusterAutoscaler.name } },
    extraArgs: { "balance-similar-node-groups": true, expander: "least-waste" },
  };
}

export interface AwsAddonsArgs {
  readonly clusterName: pulumi.Input<string>;
  readonly region: string;
  /** Given, not discovered: the nodes' metadata hop limit keeps pods away from IMDS. */
  readonly vpcId: pulumi.Input<string>;
  /**
   * The Pod Identity associations of the controllers' service accounts: a pod gets AWS
   * credentials only if its association exists when the pod starts, so the releases wait.
   */
  readonly podIdentities: {
    readonly externalSecrets: pulumi.Resource;
    readonly loadBalancerController: pulumi.Resource;
    readonly alertmanager: pulumi.Resource;
    readonly clusterAutoscaler: pulumi.Resource;
  };
}

export interface PlatformAddonsArgs {
  readonly provider: pulumi.ProviderResource;
  /** The Prometheus stack, for the charts' ServiceMonitor, PrometheusRule and dashboard. */
  readonly monitoring: boolean;
  /** Where Alertmanager sends the stack's alerts (charts/alertmanager-config.ts), with monitoring. */
  readonly alertmanagerConfig?: pulumi.Input<AlertmanagerConfig>;
  /** On EKS: External Secrets with its ClusterSecretStore, and the AWS Load Balancer Controller. */
  readonly aws?: AwsAddonsArgs;
}

export class PlatformAddons extends pulumi.ComponentResource {
  /** The releases, by add-on. */
  public readonly releases: Partial<Record<keyof typeof ADDON_CHARTS, k8s.helm.v3.Release>>;
  /** What the charts' custom resources, and the kinds the add-ons' webhooks intercept, wait for. */
  public readonly forCharts: ChartAddons;

  constructor(name: string, args: PlatformAddonsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pra:kubernetes:PlatformAddons", name, {}, opts);
    const release = (
      id: string,
      spec: AddonChart,
      values: pulumi.Inputs,
      dependsOn: pulumi.Resource[] = [],
    ) =>
      new k8s.helm.v3.Release(
        `${name}-${id}`,
        {
          name: spec.chart,
          chart: spec.chart,
          version: spec.version,
          repositoryOpts: { repo: spec.repository },
          namespace: spec.namespace,
          createNamespace: true,
          // Waits for the pods (and their webhooks) to be ready, and rolls a failed upgrade back
          // rather than leave a half-installed add-on.
          atomic: true,
          timeout: RELEASE_TIMEOUT_SECONDS,
          values,
        },
        { parent: this, provider: args.provider, dependsOn },
      );

    const releases: PlatformAddons["releases"] = {};
    const ready: pulumi.Resource[] = [];
    if (args.monitoring) {
      if (args.alertmanagerConfig === undefined) {
        throw new Error("PlatformAddons: monitoring needs the stack's Alertmanager configuration");
      }
      releases.prometheusStack = release(
        "prometheus-stack",
        ADDON_CHARTS.prometheusStack,
        prometheusStackValues(args.alertmanagerConfig),
        // Alertmanager signs its SNS calls with its Pod Identity role from its first start.
        args.aws ? [args.aws.podIdentities.alertmanager] : [],
      );
      ready.push(releases.prometheusStack);
    }
    if (args.aws) {
      const { aws } = args;
      const externalSecrets = release(
        "external-secrets",
        ADDON_CHARTS.externalSecrets,
        {
          installCRDs: true,
          serviceAccount: { create: true, name: ADDON_SERVICE_ACCOUNTS.externalSecrets.name },
        },
        [aws.podIdentities.externalSecrets],
      );
      const loadBalancerController = release(
        "load-balancer-controller",
        ADDON_CHARTS.loadBalancerController,
        {
          clusterName: aws.clusterName,
          region: aws.region,
          vpcId: aws.vpcId,
          serviceAccount: {
            create: true,
            name: ADDON_SERVICE_ACCOUNTS.loadBalancerController.name,
          },
          // Its role has no WAF or Shield permission (load-balancer-controller-policy.ts).
          enableShield: false,
          enableWaf: false,
          enableWafv2: false,
        },
        [aws.podIdentities.loadBalancerController],
      );
      // No credentials here: External Secrets' controller reads Secrets Manager as its own
      // service account, which EKS Pod Identity binds to a read-only role.
      const secretStore = new KubernetesObject(
        `${name}-cluster-secret-store`,
        {
          apiVersion: "external-secrets.io/v1",
          kind: "ClusterSecretStore",
          metadata: { name: TARGET.clusterSecretStore },
          spec: { provider: { aws: { service: "SecretsManager", region: aws.region } } },
        },
        { parent: this, provider: args.provider, dependsOn: [externalSecrets] },
      );
      // Two replicas: the autoscaler keeps its figures through a node drain.
      const metricsServer = release("metrics-server", ADDON_CHARTS.metricsServer, {
        replicas: 2,
      });
      const clusterAutoscaler = release(
        "cluster-autoscaler",
        ADDON_CHARTS.clusterAutoscaler,
        clusterAutoscalerValues(aws.clusterName, aws.region),
        [aws.podIdentities.clusterAutoscaler],
      );
      Object.assign(releases, {
        externalSecrets,
        loadBalancerController,
        metricsServer,
        clusterAutoscaler,
      });
      // The app's replicas and the jobs get nodes only once the autoscaler runs: it is ready first.
      ready.push(
        externalSecrets,
        loadBalancerController,
        secretStore,
        metricsServer,
        clusterAutoscaler,
      );
    }
    this.releases = releases;
    this.forCharts = {
      ready,
      webhookKinds: args.aws ? LOAD_BALANCER_CONTROLLER_WEBHOOK_KINDS : [],
    };
    this.registerOutputs({});
  }
}
