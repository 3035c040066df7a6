/**
 * What the DR region's EKS cluster runs before any failover, so that a failover is a promotion and
 * a scale-up rather than an installation: the same platform add-ons as the primary (one
 * definition, PlatformAddons, given the DR cluster, region and identities), the `pra-cloud`
 * ConfigMap naming the DR region's bucket and key, and:
 *
 * - warm standby: the failover workload (dist/<stack>/failover/) deployed and scaled down: the
 *   Deployment at zero replicas, its autoscaler left out (it cannot scale to zero), every CronJob
 *   suspended. The failover applies the same manifests (the autoscaler comes back), scales the
 *   Deployment up and resumes the CronJobs.
 * - pilot light: the namespace only (pra-cloud lives there). The failover applies the workload,
 *   after resizing the node groups and restoring the database.
 *
 * Which of these exists is the `standby-workload` part of config/dr-design.ts.
 */
import * as pulumi from "@pulumi/pulumi";
import { App, type Chart } from "cdk8s";
import { stackLabels } from "../../charts/constructs/names";
import { NamespaceChart } from "../../charts/constructs/namespace-chart";
import { isKind, type Manifest } from "../../charts/manifest";
import { defineFailover } from "../../charts/stacks";
import { describeTargetDesign, type TargetConfig } from "../../config";
import { ChartDeployment } from "./chart-deployment";
import { cloudSettingsConfigMap } from "./cloud-settings";
import type { PlatformAddons } from "./platform-addons";
import { type ClusterWorkloadsArgs, clusterAddons } from "./target-workloads";

/** The failover workload held at zero: no pod runs, no schedule fires, nothing to scale it up. */
export function standbyManifests(manifests: readonly Manifest[]): Manifest[] {
  return manifests
    .filter((manifest) => !isKind(manifest, "HorizontalPodAutoscaler"))
    .map((manifest): Manifest => {
      if (isKind(manifest, "Deployment"))
        return { ...manifest, spec: { ...manifest.spec, replicas: 0 } };
      if (isKind(manifest, "CronJob") && manifest.spec)
        return { ...manifest, spec: { ...manifest.spec, suspend: true } };
      return manifest;
    });
}

/** The charts the DR cluster holds before a failover, per the stack's DR parts. */
export function drCharts(config: TargetConfig): Chart[] {
  if (describeTargetDesign(config).drParts.includes("standby-workload"))
    return defineFailover(config, new App());
  return [
    new NamespaceChart(new App(), `${config.stack}-dr-namespace`, {
      name: config.namespace,
      labels: stackLabels(config.stack),
    }),
  ];
}

export class DrWorkloads extends pulumi.ComponentResource {
  public readonly addons: PlatformAddons;
  public readonly charts: ChartDeployment;
  public readonly cloudSettings: pulumi.Resource;

  constructor(name: string, args: ClusterWorkloadsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pra:kubernetes:DrWorkloads", name, {}, opts);
    const { config, provider } = args;
    // Alertmanager in the DR cluster signs its SNS calls for the DR region's topic.
    const inDr: TargetConfig = { ...config, region: config.dr.region };
    this.addons = clusterAddons(name, inDr, args, this);
    this.charts = new ChartDeployment(
      `${name}-charts`,
      {
        charts: drCharts(config),
        provider,
        addons: this.addons.forCharts,
        objectsDependOn: [
          args.podIdentities.app,
          args.podIdentities.exportJob,
          args.podIdentities.restoreTest,
        ],
        transform: standbyManifests,
      },
      { parent: this },
    );
    const namespaceObject = this.charts.namespaces.get(config.namespace);
    if (!namespaceObject)
      throw new Error(`DrWorkloads: the DR charts declare no namespace ${config.namespace}`);
    this.cloudSettings = cloudSettingsConfigMap(
      `${name}-cloud-settings`,
      {
        namespace: config.namespace,
        bucketName: args.exportBucketName,
        kmsKeyArn: args.exportBucketKeyArn,
        region: config.dr.region,
        provider,
        namespaceObject,
      },
      { parent: this },
    );
    this.registerOutputs({});
  }
}
