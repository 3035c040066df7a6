/**
 * Everything the target runs in its EKS cluster: the platform add-ons, the synced charts
 * (through the same bridge as the lab) and the `pra-cloud` ConfigMap only Pulumi can write.
 * With `pra:deployWorkloads: false` only the add-ons: a GitOps tool syncs dist/<stack>/ and
 * `pra-cloud` is written from the stack's outputs (docs/deploying.md).
 */
import * as pulumi from "@pulumi/pulumi";
import { App } from "cdk8s";
import { isManifest } from "../../charts/manifest";
import { alertmanagerConfig, alertReceiverOf } from "../../charts/alertmanager-config";
import { defineStack } from "../../charts/stacks";
import type { TargetConfig } from "../../config";
import type { PodIdentities } from "../aws/workload-identity";
import { ChartDeployment } from "./chart-deployment";
import { cloudSettingsConfigMap } from "./cloud-settings";
import { PlatformAddons } from "./platform-addons";

/** What the workloads of one of the stack's EKS clusters (primary or DR) are given. */
export interface ClusterWorkloadsArgs {
  readonly config: TargetConfig;
  /** The EKS cluster's provider, built from its kubeconfig. */
  readonly provider: pulumi.ProviderResource;
  readonly clusterName: pulumi.Input<string>;
  readonly vpcId: pulumi.Input<string>;
  /** The export bucket (its replica, in the DR region) and its key. */
  readonly exportBucketName: pulumi.Input<string>;
  readonly exportBucketKeyArn: pulumi.Input<string>;
  /** The region's SNS topic of the alarms: Alertmanager sends the stack's alerts there too. */
  readonly alarmTopicArn: pulumi.Input<string>;
  /** Pod Identity associations of the app's commands and of the add-ons' controllers. */
  readonly podIdentities: PodIdentities;
}

/**
 * The platform add-ons of one of the stack's clusters, one definition for both: `config` is the
 * stack's settings as seen from that cluster's region (the DR cluster's Alertmanager signs its
 * SNS calls for the DR region's topic).
 */
export function clusterAddons(
  name: string,
  config: TargetConfig,
  args: ClusterWorkloadsArgs,
  parent: pulumi.Resource,
): PlatformAddons {
  return new PlatformAddons(
    `${name}-addons`,
    {
      provider: args.provider,
      monitoring: config.monitoring,
      alertmanagerConfig: pulumi
        .output(args.alarmTopicArn)
        .apply((arn) => alertmanagerConfig(config, alertReceiverOf(config, arn))),
      aws: {
        clusterName: args.clusterName,
        region: config.region,
        vpcId: args.vpcId,
        podIdentities: args.podIdentities,
      },
    },
    { parent },
  );
}

export class TargetWorkloads extends pulumi.ComponentResource {
  public readonly addons: PlatformAddons;
  /** Undefined with `pra:deployWorkloads: false`. */
  public readonly charts?: ChartDeployment;
  public readonly cloudSettings?: pulumi.Resource;
  /** The app's Ingress (`namespace/name`), and what creates it when Pulumi does. */
  public readonly ingress: { readonly id: string; readonly object?: pulumi.Resource };

  constructor(name: string, args: ClusterWorkloadsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pra:kubernetes:TargetWorkloads", name, {}, opts);
    const { config, provider } = args;
    this.addons = clusterAddons(name, config, args, this);
    const charts = defineStack(config, { synced: new App(), ops: new App() });
    const ingresses = charts.synced
      .flatMap((chart): unknown[] => chart.toJson())
      .filter(isManifest)
      .filter((o) => o.kind === "Ingress")
      .map((o) => `${o.metadata.namespace ?? config.namespace}/${o.metadata.name}`);
    const [ingressId, ...moreIngresses] = ingresses;
    if (ingressId === undefined || moreIngresses.length > 0)
      throw new Error(`the target's charts declare ${ingresses.length} Ingresses, not one`);
    if (!config.deployWorkloads) {
      this.ingress = { id: ingressId };
      this.registerOutputs({});
      return;
    }
    this.charts = new ChartDeployment(
      `${name}-charts`,
      {
        charts: charts.synced,
        provider,
        addons: this.addons.forCharts,
        // The app's pods and jobs use S3 as their own service accounts from their first start.
        objectsDependOn: [
          args.podIdentities.app,
          args.podIdentities.exportJob,
          args.podIdentities.restoreTest,
        ],
      },
      { parent: this },
    );
    const namespaceObject = this.charts.namespaces.get(config.namespace);
    if (!namespaceObject)
      throw new Error(`TargetWorkloads: the charts declare no namespace ${config.namespace}`);
    // Not a dependency of the app's objects: a pod started before it exists waits for it
    // (CreateContainerConfigError is retried), and the namespace must exist first anyway.
    this.cloudSettings = cloudSettingsConfigMap(
      `${name}-cloud-settings`,
      {
        namespace: config.namespace,
        bucketName: args.exportBucketName,
        kmsKeyArn: args.exportBucketKeyArn,
        region: config.region,
        provider,
        namespaceObject,
      },
      { parent: this },
    );
    const ingressObject = this.charts.objects.get(`Ingress/${ingressId}`);
    if (!ingressObject) throw new Error(`TargetWorkloads: no deployed Ingress ${ingressId}`);
    this.ingress = { id: ingressId, object: ingressObject };
    this.registerOutputs({});
  }
}
