/**
 * The target's workload on EKS: the app on RDS PostgreSQL, several replicas spread over zones,
 * logical exports to S3 and their restore test, locked-down networking, and alerting derived
 * from the objectives. Cloud names come from config/cloud-names.ts, shared with infra/.
 */
import { Chart, type ChartProps } from "cdk8s";
import * as kplus from "cdk8s-plus-28";
import { k8s } from "cdk8s-plus-28";
import type { Construct } from "constructs";
import { type Destination, invocationOf, needsOf } from "../../apps/pra-app/src/contract";
import {
  cloudNames,
  describeTargetDesign,
  subnetPlan,
  type TargetConfig,
  VPC_CIDRS,
} from "../../config";
import { drDesignOf } from "../../config/dr-design";
import { AppWorkload } from "../constructs/app-workload";
import { AppAvailability } from "../constructs/availability";
import { BackupMonitoring } from "../constructs/backup-monitoring";
import { BackupSchedule } from "../constructs/backup-schedule";
import { PLATFORM, SERVICE_PORT, TARGET } from "../constructs/names";
import { type EgressRule, NetworkRules, PROMETHEUS_PEER } from "../constructs/network-rules";
import { PostgresAccess } from "../constructs/postgres-access";
import { RestoreTestSchedule } from "../constructs/restore-test-schedule";
import type { AppRuntime } from "../constructs/runtime";
import { TARGET_IDENTITIES } from "./identities";

export interface TargetChartProps extends ChartProps {
  readonly config: TargetConfig;
  /**
   * Which region's cluster this chart runs in: the standby runs the same workload against the
   * DR region's network. @default "primary"
   */
  readonly region?: "primary" | "dr";
}

/** TLS 1.3, and 1.2 with forward secrecy only: ELB's policy for modern clients. */
export const INGRESS_TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";

export class TargetChart extends Chart {
  readonly app: AppWorkload;

  constructor(scope: Construct, id: string, props: TargetChartProps) {
    const { config, region, ...chartProps } = props;
    super(scope, id, { namespace: config.namespace, ...chartProps });
    const vpc = region === "dr" ? VPC_CIDRS.dr : VPC_CIDRS.primary;

    const design = describeTargetDesign(config);
    const settings = kplus.ConfigMap.fromConfigMapName(
      this,
      "cloud-settings",
      TARGET.cloudSettings,
    );
    // One service account per command, each bound by EKS Pod Identity to a role allowing what that
    // command does (charts/target/identities.ts).
    const runtimeAs = (id: string, name: string): AppRuntime => {
      const account = new kplus.ServiceAccount(this, id, {
        metadata: { name },
        automountToken: false,
      });
      return {
        image: config.image,
        // By name: cdk8s-plus's ServiceAccount class (resourceName: string | undefined) does not
        // satisfy its own IServiceAccount (resourceName?: string) under exactOptionalPropertyTypes.
        serviceAccount: kplus.ServiceAccount.fromServiceAccountName(
          this,
          `${id}-ref`,
          account.name,
        ),
        settings,
      };
    };
    const runtime = runtimeAs("service-account", TARGET_IDENTITIES.app.serviceAccount);
    const database = new PostgresAccess(this, "database", {
      secretsManagerEntry: cloudNames(config.stack).databaseSecretName,
    });

    // The autoscaler owns the replica count, from config.app.replicas up.
    this.app = new AppWorkload(this, "app", { runtime, database, spread: true });
    new AppAvailability(this, "availability", { app: this.app, minReplicas: config.app.replicas });
    this.ingress(drDesignOf(config).serviceName.record);

    const backup = new BackupSchedule(this, "export", {
      runtime: runtimeAs("export-service-account", TARGET_IDENTITIES.export.serviceAccount),
      database,
      timing: config.backup.timing,
      keepWithinSeconds: config.backup.keepWithinSeconds,
      keepLast: config.backup.keepLast,
    });
    // The restore test restores the newest export into a server of its own, on scratch space sized
    // for the data. It never connects to the live database; it gets DATABASE_URL because that is
    // what makes the app read exports (apps/pra-app/src/contract.ts, backendOf).
    const restoreTestNeeds = needsOf(invocationOf(["verify"], "postgres"));
    const restoreTest = new RestoreTestSchedule(this, "restore-test", {
      runtime: runtimeAs(
        "restore-test-service-account",
        TARGET_IDENTITIES.restoreTest.serviceAccount,
      ),
      database,
      schedule: config.restoreTest.schedule,
      maxAgeSeconds: config.restoreTest.maxAgeSeconds,
      activeDeadlineSeconds: Math.max(300, design.workload.restoreTestSeconds),
      scratch: {
        sizeBytes: restoreTestNeeds.scratch.bytes(design.workload.dataBytes),
        storageClass: PLATFORM.scratchStorageClass,
      },
      memoryLimitMi: Math.ceil(restoreTestNeeds.memoryBytes / 1024 ** 2),
    });

    new NetworkRules(this, "network", {
      app: this.app,
      // The internal load balancer targets pods by IP from its own subnets (config/cloud-names.ts);
      // Prometheus scrapes /metrics.
      appClients: [{ cidr: subnetPlan(vpc).loadBalancerRange }, PROMETHEUS_PEER],
      egress: egressFor(
        (["serve", "backup", "verify"] as const).flatMap(
          (command) => needsOf(invocationOf([command], "postgres")).destinations,
        ),
        vpc,
      ),
    });

    if (config.monitoring) {
      new BackupMonitoring(this, "monitoring", {
        app: this.app,
        namespace: config.namespace,
        stack: config.stack,
        backup,
        restoreTest,
        rpoSeconds: config.objectives.rpoSeconds,
        policy: config.backup,
      });
    }
  }

  // An internal Application Load Balancer (AWS Load Balancer Controller) sending to pod IPs.
  // Internal by default: making the service public is a decision, not a default. TLS on 443 for
  // the service's name, whose ACM certificate (infra/aws/service-certificate.ts) the controller
  // finds by that host; port 80 only redirects to it.
  private ingress(host: string): void {
    new k8s.KubeIngress(this, "ingress", {
      metadata: {
        name: this.app.name,
        annotations: {
          "alb.ingress.kubernetes.io/scheme": "internal",
          "alb.ingress.kubernetes.io/target-type": "ip",
          "alb.ingress.kubernetes.io/healthcheck-path": "/ready",
          "alb.ingress.kubernetes.io/listen-ports": JSON.stringify([{ HTTP: 80 }, { HTTPS: 443 }]),
          "alb.ingress.kubernetes.io/ssl-redirect": "443",
          "alb.ingress.kubernetes.io/ssl-policy": INGRESS_TLS_POLICY,
        },
      },
      spec: {
        ingressClassName: "alb",
        tls: [{ hosts: [host] }],
        rules: [
          {
            host,
            http: {
              paths: [
                {
                  path: "/",
                  pathType: "Prefix",
                  backend: { service: { name: this.app.name, port: { number: SERVICE_PORT } } },
                },
              ],
            },
          },
        ],
      },
    });
  }
}

/**
 * The egress rules the app's commands need (their contract's destinations), one per purpose: RDS
 * in the VPC's private subnets, S3's public HTTPS endpoints (also through the VPC's gateway
 * endpoint), and the node-local EKS Pod Identity agent that hands out their AWS credentials.
 */
export function egressFor(destinations: readonly Destination[], vpcCidr: string): EgressRule[] {
  const rules = new Map<string, EgressRule>();
  for (const destination of destinations) {
    switch (destination.kind) {
      case "database":
        rules.set("database", {
          purpose: "database",
          to: { cidr: vpcCidr },
          port: destination.port,
        });
        break;
      case "aws-api":
        rules.set("aws-apis", {
          purpose: "aws-apis",
          to: { cidr: "0.0.0.0/0" },
          port: destination.port,
        });
        break;
      case "credentials-agent":
        for (const [index, address] of destination.addresses.entries()) {
          const purpose = `pod-identity-agent${index === 0 ? "" : `-ipv${address.includes(":") ? 6 : 4}`}`;
          rules.set(purpose, {
            purpose,
            to: { cidr: address.includes(":") ? `${address}/128` : `${address}/32` },
            port: destination.port,
          });
        }
        break;
    }
  }
  return [...rules.values()];
}
