/**
 * The `pra-cloud` ConfigMap: where the app's exports go (bucket, prefix, KMS key, region).
 * Pulumi writes it, not the charts: the bucket's name contains the AWS account id, which only
 * the cloud layer knows (cdk8s synthesizes without credentials, and the same dist/ must serve
 * any account). A GitOps user creates it from `pulumi stack output` (docs/deploying.md).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { TARGET } from "../../charts/constructs/names";

/** Where in the bucket the app writes; the app's own default (apps/pra-app/src/export/s3.ts). */
export const EXPORT_PREFIX = "exports/";

export interface CloudSettingsValues {
  readonly bucketName: string;
  readonly kmsKeyArn: string;
  readonly region: string;
}

/** The ConfigMap's data, as the app reads it from its environment. */
export function cloudSettingsData(values: CloudSettingsValues): Record<string, string> {
  return {
    EXPORT_BUCKET: values.bucketName,
    EXPORT_PREFIX,
    EXPORT_KMS_KEY_ID: values.kmsKeyArn,
    AWS_REGION: values.region,
  };
}

export interface CloudSettingsArgs {
  readonly namespace: string;
  readonly bucketName: pulumi.Input<string>;
  readonly kmsKeyArn: pulumi.Input<string>;
  readonly region: string;
  readonly provider: pulumi.ProviderResource;
  /** The Namespace object it lives in (created by the chart deployment). */
  readonly namespaceObject: pulumi.Resource;
}

export function cloudSettingsConfigMap(
  name: string,
  args: CloudSettingsArgs,
  opts: pulumi.CustomResourceOptions,
): k8s.core.v1.ConfigMap {
  return new k8s.core.v1.ConfigMap(
    name,
    {
      metadata: { name: TARGET.cloudSettings, namespace: args.namespace },
      data: pulumi
        .all([args.bucketName, args.kmsKeyArn])
        .apply(([bucketName, kmsKeyArn]) =>
          cloudSettingsData({ bucketName, kmsKeyArn, region: args.region }),
        ),
    },
    { ...opts, provider: args.provider, dependsOn: [args.namespaceObject] },
  );
}
