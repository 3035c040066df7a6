/**
 * Everything the target runs in its EKS cluster: the platform add-ons, the synced charts
 * (through the same bridge as the lab) and the `pra-cloud` ConfigMap only Pulumi can write.
 */
import * as pulumi from "@pulumi/pulumi";
import { App } from "cdk8s";
import { alertmanagerConfig, alertReceiverOf } from "../../charts/alertmanager-config";
import { defineStack } from "../../charts/stacks";
import type { TargetConfig } from "../../config";
import { ChartDeployment } from "./chart-deployment";
import { cloudSettingsConfigMap } from "./cloud-settings";
import { PlatformAddons } from "./platform-addons";

export interface TargetWorkloadsArgs {
  readonly config: TargetConfig;
  /** The EKS cluster's provider, built from its kubeconfig. */
  readonly provider: pulumi.ProviderResource;
  readonly clusterName: pulumi.Input<string>;
  readonly vpcId: pulumi.Input<string>;
  readonly exportBucketName: pulumi.Input<string>;
  readonly exportBucketKeyArn: pulumi.Input<string>;
  /** The SNS topic of the alarms: Alertmanager sends the stack's alerts there too. */
  readonly alarmTopicArn: pulumi.Input<string>;
  /** Pod Identity associations of the app's commands and of the add-ons' controllers. */
  readonly podIdentities: {
    readonly app: pulumi.Resource;
    readonly exportJob: pulumi.Resource;
    readonly restoreTest: pulumi.Resource;
    readonly externalSecrets: pulumi.Resource;
    readonly loadBalancerController: pulumi.Resource;
    readonly alertmanager: pulumi.Resource;
    readonly clusterAutoscaler: pulumi.Resource;
  };
}

export class TargetWorkloads extends pulumi.ComponentResource {
  public readonly addons: PlatformAddons;
  public readonly charts: ChartDeployment;
  public readonly cloudSettings: pulumi.Resource;

  constructor(name: string, args: TargetWorkloadsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pra:kubernetes:TargetWorkloads", name, {}, opts);
    const { config, provider } = args;
    this.addons = new PlatformAddons(
      `${name}-addons`,
      {
        provider,
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
      { parent: this },
    );
    const charts = defineStack(config, { synced: new App(), ops: new App() });
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
    this.registerOutputs({});
  }
}
