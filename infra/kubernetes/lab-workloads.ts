/**
 * The lab in the cluster of a kube context: the synced charts through the same bridge as the
 * target and, when monitoring is on, the Prometheus stack whose operator defines the kinds of
 * the chart's ServiceMonitor and PrometheusRule. Nothing else: no cloud resource, and without
 * monitoring no Helm release. With `pra:deployWorkloads: false` only the Prometheus stack.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { App } from "cdk8s";
import { alertmanagerConfig, alertReceiverOf } from "../../charts/alertmanager-config";
import { defineStack } from "../../charts/stacks";
import type { LabConfig } from "../../config";
import { ChartDeployment } from "./chart-deployment";
import { PlatformAddons } from "./platform-addons";

export interface LabWorkloadsArgs {
  readonly config: LabConfig;
  /** The kubeconfig context to deploy into (`kubernetes:context`). @default the kubeconfig's current context */
  readonly kubeContext?: string;
}

export class LabWorkloads extends pulumi.ComponentResource {
  public readonly provider: k8s.Provider;
  public readonly addons?: PlatformAddons;
  /** Undefined with `pra:deployWorkloads: false`: a GitOps tool syncs dist/<stack>/ instead. */
  public readonly charts?: ChartDeployment;

  constructor(name: string, args: LabWorkloadsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pra:kubernetes:LabWorkloads", name, {}, opts);
    const { config } = args;
    this.provider = new k8s.Provider(
      `${name}-k8s`,
      { ...(args.kubeContext ? { context: args.kubeContext } : {}), enableServerSideApply: true },
      { parent: this },
    );
    if (config.monitoring) {
      this.addons = new PlatformAddons(
        `${name}-addons`,
        {
          provider: this.provider,
          monitoring: true,
          alertmanagerConfig: alertmanagerConfig(config, alertReceiverOf(config)),
        },
        { parent: this },
      );
    }
    if (!config.deployWorkloads) {
      this.registerOutputs({});
      return;
    }
    const charts = defineStack(config, { synced: new App(), ops: new App() });
    this.charts = new ChartDeployment(
      `${name}-charts`,
      {
        charts: charts.synced,
        provider: this.provider,
        ...(this.addons ? { addons: this.addons.forCharts } : {}),
      },
      { parent: this },
    );
    this.registerOutputs({});
  }
}
