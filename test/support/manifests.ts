/**
 * Synthesizing charts in memory and checking manifests against the Kubernetes OpenAPI schema
 * (kubernetes-models has a validator per kind).
 */
import { type Chart, Testing } from "cdk8s";
import { defineStack } from "../../charts/stacks";
import { type PraConfig, parseStackConfig } from "../../config";

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- manifests are free-form JSON; tests index into them
  spec?: any;
  [key: string]: unknown;
}

/** A stack's config from `pra:` values as they would stand in a stack file. */
export function configOf(values: Record<string, unknown>, stack = "test"): PraConfig {
  const prefixed = Object.fromEntries(
    Object.entries(values).map(([k, v]) => [k.includes(":") ? k : `pra:${k}`, v]),
  );
  return parseStackConfig({ stack, file: `Pulumi.${stack}.yaml`, values: prefixed });
}

export function synthCharts(charts: readonly Chart[]): Manifest[] {
  return charts.flatMap((chart) => Testing.synth(chart) as Manifest[]);
}

/** Every manifest of a stack, synced and ops, synthesized in memory. */
export function synthStackInMemory(config: PraConfig): { synced: Manifest[]; ops: Manifest[] } {
  const charts = defineStack(config, { synced: Testing.app(), ops: Testing.app() });
  return { synced: synthCharts(charts.synced), ops: synthCharts(charts.ops) };
}

export function find(manifests: readonly Manifest[], kind: string, name: string): Manifest {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) {
    const present = manifests.map((m) => `${m.kind}/${m.metadata.name}`).join(", ");
    throw new Error(`no ${kind}/${name} among ${present}`);
  }
  return found;
}

/** The pod spec of a Deployment, Job or CronJob. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see Manifest.spec
export function podSpecOf(manifest: Manifest): any {
  if (manifest.kind === "CronJob") return manifest.spec.jobTemplate.spec.template.spec;
  return manifest.spec.template.spec;
}

/** Throws with the schema's complaint when `manifest` is not a valid object of its kind. */
export function validateAgainstSchema(manifest: Manifest): void {
  const group = manifest.apiVersion.includes("/") ? manifest.apiVersion : `v1`;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the module is chosen at run time by apiVersion
  let models: any;
  try {
    models = require(`kubernetes-models/${group}`);
  } catch {
    throw new Error(`no schema for apiVersion ${manifest.apiVersion}`);
  }
  const Model = models[manifest.kind];
  if (!Model) throw new Error(`no schema for ${manifest.apiVersion} ${manifest.kind}`);
  new Model(manifest).validate();
}

/** Kinds that live outside namespaces. */
export const CLUSTER_SCOPED_KINDS = new Set([
  "Namespace",
  "ClusterRole",
  "ClusterRoleBinding",
  "CustomResourceDefinition",
  "StorageClass",
  "PersistentVolume",
  "PriorityClass",
  "ValidatingWebhookConfiguration",
  "MutatingWebhookConfiguration",
]);
