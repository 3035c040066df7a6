/**
 * The stack outputs, defined once. infra/index.ts exports whatever the program returns
 * (`export =`: Pulumi takes a CommonJS module's exports as the stack outputs), the lab returns
 * its `LabOutputs`, and the target's architecture assembles its `TargetOutputs` in one object
 * (infra/aws/target-architecture.ts). Adding an output means adding it here and there; the
 * compiler points at the second place.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { TargetConfig } from "../config";
import type { FailoverTargets } from "../config/failover-targets";

/** What every stack exports. */
export type CommonOutputs = {
  readonly namespace: string;
};

export type LabOutputs = CommonOutputs & {
  readonly topology: "lab";
};

/** What the target's architecture exports: names, ARNs and endpoints; kubeconfigs are secrets. */
export type TargetOutputs = {
  readonly region: string;
  readonly drRegion: string;
  readonly drStrategy: TargetConfig["dr"]["strategy"];
  readonly clusterName: pulumi.Output<string>;
  /**
   * The role the cluster's access entry makes administrator: `aws eks update-kubeconfig
   * --role-arn` with it (docs/aws-target.md).
   */
  readonly adminRoleArn: pulumi.Output<string>;
  /**
   * The ECR repository pra:image names, where the image is built and pushed to
   * (docs/aws-target.md#the-image). Absent when pra:image is not in ECR.
   */
  readonly imageRepository?: string;
  /** Secret: it names the endpoint and CA (and no credential: `aws eks get-token`). */
  readonly kubeconfig: pulumi.Output<string>;
  readonly databaseEndpoint: pulumi.Output<string>;
  /** Secrets Manager name of the database credentials (the name, never the value). */
  readonly databaseSecretName: pulumi.Output<string>;
  readonly exportBucketName: pulumi.Output<string>;
  readonly exportBucketKeyArn: pulumi.Output<string>;
  readonly replicaBucketName: pulumi.Output<string>;
  readonly appRoleArn: pulumi.Output<string>;
  readonly externalSecretsRoleArn: pulumi.Output<string>;
  readonly loadBalancerControllerRoleArn: pulumi.Output<string>;
  readonly backupVaultName: pulumi.Output<string>;
  readonly drBackupVaultName: pulumi.Output<string>;
  readonly alarmTopicArn: pulumi.Output<string>;
  readonly drClusterName: pulumi.Output<string>;
  /** Secret. */
  readonly drKubeconfig: pulumi.Output<string>;
  /**
   * The read replica's endpoint in warm standby. Absent in pilot light (no database there until
   * a restore) rather than undefined, which `pulumi up` would warn about.
   */
  readonly drDatabaseEndpoint?: pulumi.Output<string>;
  /**
   * Every name the failover and failback read (npm run failover, dr/failover-runbook.ts), in the
   * shape config/failover-targets.ts's schema checks: `pulumi stack output --json` feeds the runbook.
   */
  readonly failover: pulumi.Output<FailoverTargets>;
};

export type TargetStackOutputs = CommonOutputs & { readonly topology: "target" } & TargetOutputs;

/** A stack's outputs: the lab's or the target's, told apart by `topology`. */
export type StackOutputs = LabOutputs | TargetStackOutputs;
