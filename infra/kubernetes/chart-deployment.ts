/**
 * The one bridge from cdk8s to a cluster: the objects a stack's charts synthesize, deployed by
 * Pulumi through a given provider, in the order deploymentPlan computes (namespaces and CRDs
 * before what needs them; custom resources, and kinds add-on webhooks intercept, after the
 * add-ons). It receives only the synced charts: the ops/ objects are never deployed.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Chart } from "cdk8s";
import { toManifests } from "../../charts/manifest";
import { deploymentPlan, type Manifest } from "./deployment-plan";
import { KubernetesObject } from "./kubernetes-object";

export interface ChartAddons {
  /** What must be running first: Helm releases, and objects they serve such as a ClusterSecretStore. */
  readonly ready: readonly pulumi.Resource[];
  /** Built-in kinds their admission webhooks intercept. @default none */
  readonly webhookKinds?: readonly string[];
}

export interface ChartDeploymentArgs {
  /** The synced charts of one stack (defineStack(...).synced), never the ops charts. */
  readonly charts: readonly Chart[];
  /** The cluster to deploy into. */
  readonly provider: pulumi.ProviderResource;
  /** The add-ons the charts rely on. @default none */
  readonly addons?: ChartAddons;
  /**
   * What every object but the namespaces also waits for: cloud-side bindings a pod only picks
   * up when it is created, such as the Pod Identity association of the app's service account.
   * @default nothing
   */
  readonly objectsDependOn?: readonly pulumi.Resource[];
  /**
   * Changes the synthesized objects before they are deployed (the DR region's standby scales
   * them down). @default none
   */
  readonly transform?: (manifests: Manifest[]) => Manifest[];
}

/** The synced charts' objects, in the order and with the content `cdk8s synth` writes them. */
export function chartManifests(charts: readonly Chart[]): Manifest[] {
  return charts.flatMap((chart) => toManifests(chart.toJson(), chart.node.path));
}

/** `name-kind-namespace-name`, lower case: unique per object, readable in `pulumi preview`. */
export function objectResourceName(prefix: string, manifest: Manifest): string {
  const namespace = manifest.metadata.namespace ? `${manifest.metadata.namespace}-` : "";
  return `${prefix}-${manifest.kind.toLowerCase()}-${namespace}${manifest.metadata.name}`;
}

export class ChartDeployment extends pulumi.ComponentResource {
  /** Every deployed object, keyed `Kind/namespace/name`. */
  public readonly objects: ReadonlyMap<string, KubernetesObject>;
  /** The deployed Namespace objects, by namespace name: what other objects in them wait for. */
  public readonly namespaces: ReadonlyMap<string, KubernetesObject>;

  constructor(name: string, args: ChartDeploymentArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pra:kubernetes:ChartDeployment", name, {}, opts);
    const manifests = chartManifests(args.charts);
    const plan = deploymentPlan(args.transform ? args.transform(manifests) : manifests, {
      addonWebhookKinds: args.addons?.webhookKinds ?? [],
    });
    const objects = new Map<string, KubernetesObject>();
    const namespaces = new Map<string, KubernetesObject>();
    // The plan lists every object after what it waits for, so each dependency already exists here.
    for (const planned of plan) {
      const dependsOn = [
        ...planned.waitsFor.map((key) => objects.get(key)!),
        ...(planned.waitsForAddons ? (args.addons?.ready ?? []) : []),
        ...(planned.manifest.kind === "Namespace" ? [] : (args.objectsDependOn ?? [])),
      ];
      const object = new KubernetesObject(
        objectResourceName(name, planned.manifest),
        planned.manifest,
        {
          parent: this,
          provider: args.provider,
          dependsOn,
        },
      );
      objects.set(planned.key, object);
      if (planned.manifest.kind === "Namespace")
        namespaces.set(planned.manifest.metadata.name, object);
    }
    this.objects = objects;
    this.namespaces = namespaces;
    this.registerOutputs({ objectCount: objects.size });
  }
}
