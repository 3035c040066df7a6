/**
 * The stack's settings, read through Pulumi's config (never from the stack file directly) and
 * parsed by the same code the cdk8s charts use. Every problem is refused here, before the
 * program declares a single resource.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  ConfigError,
  type ConfigProblem,
  type PraConfig,
  parseStackConfig,
  type TargetConfig,
} from "../config";
import { CLUSTER_AUTOSCALER_MINOR } from "./kubernetes/addon-charts";

/**
 * EKS versions older than this are out of standard support on 2026-11-24 (extended support
 * costs six times as much per cluster-hour and ends in forced upgrades). Bump it with EKS's calendar.
 */
export const OLDEST_SUPPORTED_KUBERNETES = "1.34";
/** PostgreSQL majors before this have reached community end of life by November 2026. */
export const OLDEST_SUPPORTED_POSTGRES_MAJOR = 15;

/** Every key of the stack's config, as Pulumi hands it to the program: `pra:rpo` → `"15m"`. */
export function pulumiConfigValues(): Record<string, string> {
  return { ...pulumi.runtime.allConfig() };
}

function minor(version: string): number {
  return Number(version.split(".")[1]);
}

/**
 * Checks only the AWS side needs: versions AWS still supports. Returns the problems in the
 * config package's format, so they read like every other refused setting.
 */
export function targetInfraProblems(config: TargetConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (minor(config.cluster.kubernetesVersion) < minor(OLDEST_SUPPORTED_KUBERNETES)) {
    problems.push({
      key: "pra:kubernetesVersion",
      message:
        `expected an EKS version in standard support (${OLDEST_SUPPORTED_KUBERNETES} or later); ` +
        `found "${config.cluster.kubernetesVersion}"`,
    });
  } else if (config.cluster.kubernetesVersion !== CLUSTER_AUTOSCALER_MINOR) {
    // Cluster Autoscaler supports the Kubernetes minor it is built for: one pin moves both.
    problems.push({
      key: "pra:kubernetesVersion",
      message:
        `expected ${CLUSTER_AUTOSCALER_MINOR}, the version the pinned Cluster Autoscaler is built ` +
        "for (infra/kubernetes/addon-charts.ts: move its chart with the cluster); " +
        `found "${config.cluster.kubernetesVersion}"`,
    });
  }
  if (config.serviceDomain === undefined) {
    problems.push({
      key: "pra:serviceDomain",
      message:
        "expected a domain with a public Route 53 hosted zone in this account, such as " +
        "pra.example.com: the load balancer serves app.<domain> over TLS with an ACM certificate " +
        "validated in that zone (docs/aws-target.md); found nothing (the key is missing)",
    });
  }
  const major = Number(config.database.engineVersion.split(".")[0]);
  if (major < OLDEST_SUPPORTED_POSTGRES_MAJOR) {
    problems.push({
      key: "pra:dbEngineVersion",
      message:
        `expected a supported PostgreSQL major version (${OLDEST_SUPPORTED_POSTGRES_MAJOR} or later); ` +
        `found "${config.database.engineVersion}"`,
    });
  }
  return problems;
}

/** Parses `values` as the stack `stack`'s config; throws a ConfigError listing every problem. */
export function parseProgramConfig(
  stack: string,
  values: Readonly<Record<string, unknown>>,
): PraConfig {
  const file = `Pulumi.${stack}.yaml`;
  const config = parseStackConfig({ stack, file, values });
  if (config.topology === "target") {
    const problems = targetInfraProblems(config);
    if (problems.length > 0) throw new ConfigError(file, problems);
  }
  return config;
}

/** The current stack's typed settings. */
export function loadConfig(): PraConfig {
  return parseProgramConfig(pulumi.getStack(), pulumiConfigValues());
}

/** `kubernetes:context`, outside the `pra:` keys config/ validates: the lab's kube context. */
export function loadKubernetesContext(): string | undefined {
  return new pulumi.Config("kubernetes").get("context");
}
