/**
 * The whole program as a function of the stack's settings: the lab deploys its charts into a
 * kube context and declares no AWS resource; the target declares the production architecture
 * and deploys its charts into its EKS cluster. index.ts turns the result into stack outputs.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { PraConfig } from "../config";
import { assertObjectivesMet } from "../dr/assess";
import { deployLab } from "./deploy-lab";
import type { deployTarget as DeployTarget } from "./deploy-target";

/** Stack outputs. Secrets (kubeconfigs) are pulumi secrets; the rest are names, ARNs and endpoints. */
export interface StackOutputs {
  readonly topology: PraConfig["topology"];
  readonly namespace: string;
  readonly region?: string;
  readonly drRegion?: string;
  readonly drStrategy?: string;
  readonly clusterName?: pulumi.Output<string>;
  readonly kubeconfig?: pulumi.Output<string>;
  readonly databaseEndpoint?: pulumi.Output<string>;
  readonly databaseSecretName?: pulumi.Output<string>;
  readonly exportBucketName?: pulumi.Output<string>;
  readonly exportBucketKeyArn?: pulumi.Output<string>;
  readonly replicaBucketName?: pulumi.Output<string>;
  readonly appRoleArn?: pulumi.Output<string>;
  readonly externalSecretsRoleArn?: pulumi.Output<string>;
  readonly loadBalancerControllerRoleArn?: pulumi.Output<string>;
  readonly backupVaultName?: pulumi.Output<string>;
  readonly drBackupVaultName?: pulumi.Output<string>;
  readonly alarmTopicArn?: pulumi.Output<string>;
  readonly drClusterName?: pulumi.Output<string>;
  readonly drKubeconfig?: pulumi.Output<string>;
  readonly drDatabaseEndpoint?: pulumi.Output<string | undefined>;
}

/** Settings outside the `pra:` namespace, which config/ does not read. */
export interface ProgramOptions {
  /** `kubernetes:context`: the lab's kubeconfig context. @default the kubeconfig's current context */
  readonly kubeContext?: string;
}

export function program(config: PraConfig, options: ProgramOptions = {}): StackOutputs {
  // The declared recovery objectives must hold for the design about to be deployed
  // (dr/assess.ts); like a bad setting, a broken objective stops before anything is declared.
  assertObjectivesMet(config);
  if (config.topology === "lab") return deployLab(config, options);
  // Loaded only for the target: the lab must not pay for loading @pulumi/aws.
  const { deployTarget } = require("./deploy-target") as { deployTarget: typeof DeployTarget };
  return deployTarget(config);
}
