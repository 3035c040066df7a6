/**
 * What each synthesized object must wait for before the API server accepts it: its namespace,
 * the CustomResourceDefinition of its kind, the add-ons that serve its kind or intercept it. A
 * pure function of the manifests, so the order is tested without Pulumi; ChartDeployment turns
 * it into dependsOn.
 */

import type { Manifest } from "../../charts/manifest";

/** A synthesized manifest: what `cdk8s synth` writes, one object (charts/manifest.ts). */
export type { Manifest } from "../../charts/manifest";

/**
 * API groups the API server serves without any add-on. Anything else is a custom resource:
 * a group missing here only adds a needless wait, never a failed create.
 */
const BUILT_IN_GROUPS = new Set([
  "",
  "admissionregistration.k8s.io",
  "apiextensions.k8s.io",
  "apiregistration.k8s.io",
  "apps",
  "autoscaling",
  "batch",
  "certificates.k8s.io",
  "coordination.k8s.io",
  "discovery.k8s.io",
  "events.k8s.io",
  "flowcontrol.apiserver.k8s.io",
  "networking.k8s.io",
  "node.k8s.io",
  "policy",
  "rbac.authorization.k8s.io",
  "resource.k8s.io",
  "scheduling.k8s.io",
  "storage.k8s.io",
]);

export function apiGroup(apiVersion: string): string {
  return apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.lastIndexOf("/")) : "";
}

export function isCustomResource(manifest: Manifest): boolean {
  return !BUILT_IN_GROUPS.has(apiGroup(manifest.apiVersion));
}

const isCrd = (manifest: Manifest) =>
  manifest.kind === "CustomResourceDefinition" &&
  apiGroup(manifest.apiVersion) === "apiextensions.k8s.io";

/** Whether a CRD defines `kind` in `group` (its `spec.group` and `spec.names.kind`). */
function definesKind(crd: Manifest, group: string, kind: string): boolean {
  const spec = crd.spec;
  if (typeof spec !== "object" || spec === null) return false;
  const names = "names" in spec ? spec.names : undefined;
  return (
    "group" in spec &&
    spec.group === group &&
    typeof names === "object" &&
    names !== null &&
    "kind" in names &&
    names.kind === kind
  );
}

/** `Kind/namespace/name`: unique within one cluster (namespace empty for cluster-scoped objects). */
export function objectKey(manifest: Manifest): string {
  return `${manifest.kind}/${manifest.metadata.namespace ?? ""}/${manifest.metadata.name}`;
}

export interface PlannedObject {
  readonly key: string;
  readonly manifest: Manifest;
  /** Keys of the objects of the same deployment this one waits for (its namespace, its kind's CRD). */
  readonly waitsFor: readonly string[];
  /** Whether it waits for the platform add-ons: it is a custom resource, or an add-on's webhook intercepts its kind. */
  readonly waitsForAddons: boolean;
}

export interface PlanOptions {
  /** Built-in kinds that add-ons' admission webhooks intercept. @default none */
  readonly addonWebhookKinds?: readonly string[];
}

/**
 * Every manifest once, with what it waits for, listed so that each object comes after what it
 * waits for (namespaces, then CRDs, then the rest in chart order). Refuses an object declared
 * twice: two Pulumi resources would fight over one Kubernetes object.
 */
export function deploymentPlan(
  manifests: readonly Manifest[],
  options: PlanOptions = {},
): PlannedObject[] {
  const seen = new Set<string>();
  for (const manifest of manifests) {
    const key = objectKey(manifest);
    if (seen.has(key)) throw new Error(`deploymentPlan: ${key} is declared twice`);
    seen.add(key);
  }
  const webhookKinds = new Set(options.addonWebhookKinds ?? []);
  const namespaces = new Map(
    manifests
      .filter((m) => m.kind === "Namespace" && apiGroup(m.apiVersion) === "")
      .map((m) => [m.metadata.name, m]),
  );
  const crds = manifests.filter(isCrd);
  const definitionOf = (manifest: Manifest) =>
    crds.find((crd) => definesKind(crd, apiGroup(manifest.apiVersion), manifest.kind));

  const plan = (manifest: Manifest): PlannedObject => {
    const waitsFor: string[] = [];
    const namespace = manifest.metadata.namespace
      ? namespaces.get(manifest.metadata.namespace)
      : undefined;
    if (namespace) waitsFor.push(objectKey(namespace));
    const custom = isCustomResource(manifest);
    const definition = custom ? definitionOf(manifest) : undefined;
    if (definition) waitsFor.push(objectKey(definition));
    return {
      key: objectKey(manifest),
      manifest,
      waitsFor,
      waitsForAddons: custom || webhookKinds.has(manifest.kind),
    };
  };
  const rank = (manifest: Manifest) =>
    namespaces.get(manifest.metadata.name) === manifest ? 0 : isCrd(manifest) ? 1 : 2;
  // Array.prototype.sort is stable: chart order is kept within each rank.
  return [...manifests].sort((a, b) => rank(a) - rank(b)).map(plan);
}
