/**
 * The one bridge from cdk8s to a cluster: the objects a stack's charts synthesize, deployed by
 * Pulumi through a given provider, in the order the API server needs: namespaces first, then
 * everything in them; custom resources after the add-ons that install their definitions.
 * It receives only the synced charts' objects: the ops/ objects are never deployed.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Chart } from "cdk8s";
import { KubernetesObject, type Manifest } from "./kubernetes-object";

/** API groups the API server serves without any add-on. */
const BUILT_IN_GROUPS = new Set([
  "",
  "apps",
  "batch",
  "autoscaling",
  "policy",
  "networking.k8s.io",
  "rbac.authorization.k8s.io",
  "storage.k8s.io",
  "scheduling.k8s.io",
  "coordination.k8s.io",
  "discovery.k8s.io",
  "apiextensions.k8s.io",
]);

export function isCustomResource(manifest: Manifest): boolean {
  const group = manifest.apiVersion.includes("/") ? manifest.apiVersion.split("/")[0]! : "";
  return !BUILT_IN_GROUPS.has(group);
}

export interface ChartDeploymentArgs {
  /** The synced charts of one stack, in dependency order. */
  readonly charts: readonly Chart[];
  /** The cluster to deploy into. */
  readonly provider: pulumi.ProviderResource;
  /** What custom resources wait for: the add-ons that define their kinds. @default nothing */
  readonly customResourcesDependOn?: readonly pulumi.Resource[];
}

export class ChartDeployment extends pulumi.ComponentResource {
  /** Every deployed object, keyed `Kind/namespace/name`. */
  public readonly objects: ReadonlyMap<string, KubernetesObject>;

  constructor(name: string, args: ChartDeploymentArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pra:kubernetes:ChartDeployment", name, {}, opts);
    const manifests = args.charts.flatMap((chart) => chart.toJson() as Manifest[]);
    assertUnique(manifests);
    const options = { parent: this, provider: args.provider };
    const objects = new Map<string, KubernetesObject>();
    const namespaces = manifests
      .filter((m) => m.kind === "Namespace")
      .map((m) => {
        const object = new KubernetesObject(`${name}-namespace-${m.metadata.name}`, m, options);
        objects.set(keyOf(m), object);
        return object;
      });
    for (const manifest of manifests.filter((m) => m.kind !== "Namespace")) {
      const dependsOn = [
        ...namespaces,
        ...(isCustomResource(manifest) ? (args.customResourcesDependOn ?? []) : []),
      ];
      const resourceName = `${name}-${manifest.kind.toLowerCase()}-${manifest.metadata.name}`;
      objects.set(keyOf(manifest), new KubernetesObject(resourceName, manifest, { ...options, dependsOn }));
    }
    this.objects = objects;
    this.registerOutputs({ objectCount: objects.size });
  }
}

function keyOf(manifest: Manifest): string {
  return `${manifest.kind}/${manifest.metadata.namespace ?? ""}/${manifest.metadata.name}`;
}

function assertUnique(manifests: readonly Manifest[]): void {
  const seen = new Set<string>();
  for (const manifest of manifests) {
    const key = keyOf(manifest);
    if (seen.has(key)) throw new Error(`ChartDeployment: ${key} is declared twice`);
    seen.add(key);
  }
}
