/**
 * One Kubernetes object, exactly as cdk8s synthesized it, as a Pulumi resource of its own
 * kind (`kubernetes:apps/v1:Deployment`). Any kind works, custom resources included, and
 * each object is a resource Pulumi's preview, diff and mocks can see.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Manifest } from "./deployment-plan";

export type { Manifest } from "./deployment-plan";

/** The Pulumi Kubernetes provider's type token of a kind: core objects live under `core/v1`. */
export function typeToken(apiVersion: string, kind: string): string {
  return `kubernetes:${apiVersion.includes("/") ? apiVersion : `core/${apiVersion}`}:${kind}`;
}

export class KubernetesObject extends pulumi.CustomResource {
  constructor(name: string, manifest: Manifest, opts?: pulumi.CustomResourceOptions) {
    // The chart fixes every object's name, so a replacement (an immutable field changed) cannot
    // create the new object beside the old one: it must delete first, as `kubectl replace` does.
    super(
      typeToken(manifest.apiVersion, manifest.kind),
      name,
      { ...manifest },
      {
        deleteBeforeReplace: true,
        ...opts,
      },
    );
  }
}
