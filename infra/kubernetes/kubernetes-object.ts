/**
 * One Kubernetes object, exactly as cdk8s synthesized it, as a Pulumi resource of its own
 * kind (`kubernetes:apps/v1:Deployment`). Any kind works, custom resources included, and
 * each object is a resource Pulumi's preview, diff and mocks can see.
 */
import * as pulumi from "@pulumi/pulumi";

/** A synthesized manifest: what `cdk8s synth` writes, one object. */
export interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly [key: string]: unknown };
  readonly [field: string]: unknown;
}

/** The Pulumi Kubernetes provider's type token of a kind: core objects live under `core/v1`. */
export function typeToken(apiVersion: string, kind: string): string {
  return `kubernetes:${apiVersion.includes("/") ? apiVersion : `core/${apiVersion}`}:${kind}`;
}

export class KubernetesObject extends pulumi.CustomResource {
  constructor(name: string, manifest: Manifest, opts?: pulumi.CustomResourceOptions) {
    super(typeToken(manifest.apiVersion, manifest.kind), name, { ...manifest }, opts);
  }
}
