/**
 * Synthesizing charts in memory, finding objects with their kind's type (charts/manifest.ts), and
 * checking manifests against the Kubernetes OpenAPI schema (kubernetes-models has a validator
 * per kind).
 */
import { readFileSync } from "node:fs";
import { type Chart, Testing } from "cdk8s";
import { parse as parseYaml } from "yaml";
import {
  type IContainer,
  isKind,
  type Kind,
  type Manifest,
  type ManifestOf,
  podSpecOf,
  toManifests,
  type Workload,
} from "../../charts/manifest";
import { defineStack } from "../../charts/stacks";
import { type PraConfig, parseStackConfig } from "../../config";

export {
  isKind,
  isWorkload,
  type Manifest,
  manifestsFromYaml,
  ofKind,
  podSpecOf,
  specOf,
  type Workload,
} from "../../charts/manifest";

/** A stack's config from `pra:` values as they would stand in a stack file. */
export function configOf(values: Record<string, unknown>, stack = "test"): PraConfig {
  const prefixed = Object.fromEntries(
    Object.entries(values).map(([k, v]) => [k.includes(":") ? k : `pra:${k}`, v]),
  );
  return parseStackConfig({ stack, file: `Pulumi.${stack}.yaml`, values: prefixed });
}

export function synthCharts(charts: readonly Chart[]): Manifest[] {
  return charts.flatMap((chart) => toManifests(Testing.synth(chart), chart.node.path));
}

/** Every manifest of a stack, synced and ops, synthesized in memory. */
export function synthStackInMemory(config: PraConfig): { synced: Manifest[]; ops: Manifest[] } {
  const charts = defineStack(config, { synced: Testing.app(), ops: Testing.app() });
  return { synced: synthCharts(charts.synced), ops: synthCharts(charts.ops) };
}

/** The object `kind`/`name`, with its kind's fields; throws listing what is there instead. */
export function find<K extends Kind>(
  manifests: readonly Manifest[],
  kind: K,
  name: string,
): ManifestOf<K> {
  const found = manifests.find(
    (m): m is ManifestOf<K> => isKind(m, kind) && m.metadata.name === name,
  );
  if (!found) {
    const present = manifests.map((m) => `${m.kind}/${m.metadata.name}`).join(", ");
    throw new Error(`no ${kind}/${name} among ${present}`);
  }
  return found;
}

/** The first container of a workload's pod. */
export function containerOf(workload: Workload): IContainer {
  const [container] = podSpecOf(workload).containers;
  if (!container) throw new Error(`${workload.kind}/${workload.metadata.name} has no container`);
  return container;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * A copy of `manifest` with the value at `path` replaced: how a test builds a malformed object
 * (a field of the wrong type) that the types would otherwise refuse.
 */
export function withValue(
  manifest: Manifest,
  path: readonly (string | number)[],
  value: unknown,
): Manifest {
  const copy = structuredClone(manifest);
  const last = path.at(-1);
  let node: unknown = copy;
  for (const key of path.slice(0, -1)) {
    const next: unknown = Array.isArray(node)
      ? node[Number(key)]
      : isRecord(node)
        ? node[key]
        : undefined;
    node = next;
  }
  if (Array.isArray(node) && typeof last === "number") node[last] = value;
  else if (isRecord(node) && typeof last === "string") node[last] = value;
  else throw new Error(`${path.join(".")}: not in the object`);
  return copy;
}

interface Validator {
  validate(): void;
}

const isValidator = (value: unknown): value is Validator =>
  typeof value === "object" &&
  value !== null &&
  "validate" in value &&
  typeof value.validate === "function";

/** Throws with the schema's complaint when `manifest` is not a valid object of its kind. */
export function validateAgainstSchema(manifest: Manifest): void {
  const group = manifest.apiVersion.includes("/") ? manifest.apiVersion : `v1`;
  let models: unknown;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the module is chosen at run time by apiVersion
    models = require(`kubernetes-models/${group}`);
  } catch {
    throw new Error(`no schema for apiVersion ${manifest.apiVersion}`);
  }
  const Model = isRecord(models) ? models[manifest.kind] : undefined;
  if (typeof Model !== "function") {
    throw new Error(`no schema for ${manifest.apiVersion} ${manifest.kind}`);
  }
  const model: unknown = Reflect.construct(Model, [manifest]);
  if (!isValidator(model)) throw new Error(`${manifest.kind}: not a kubernetes-models class`);
  model.validate();
}

/** The files a kustomization.yaml lists under `resources`. */
export function kustomizationResources(file: string): string[] {
  const kustomization: unknown = parseYaml(readFileSync(file, "utf8"));
  const resources: unknown = isRecord(kustomization) ? kustomization.resources : undefined;
  if (!Array.isArray(resources) || !resources.every((r): r is string => typeof r === "string")) {
    throw new Error(`${file}: resources is not a list of file names`);
  }
  return resources;
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
