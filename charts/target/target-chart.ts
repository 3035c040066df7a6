/**
 * The target's workload on EKS: the app on RDS PostgreSQL, several replicas spread over zones,
 * logical exports to S3 and their restore test, locked-down networking, and alerting derived
 * from the objectives. Cloud names come from config/cloud-names.ts, shared with infra/.
 */
import { Chart, type ChartProps } from "cdk8s";
import * as kplus from "cdk8s-plus-28";
import { k8s } from "cdk8s-plus-28";
import type { Construct } from "constructs";
import { cloudNames, subnetPlan, type TargetConfig, VPC_CIDRS } from "../../config";
import { AppWorkload } from "../constructs/app-workload";
import { AppAvailability } from "../constructs/availability";
import { BackupMonitoring } from "../constructs/backup-monitoring";
import { BackupSchedule } from "../constructs/backup-schedule";
import { SERVICE_PORT, TARGET } from "../constructs/names";
import { NetworkRules, PROMETHEUS_PEER } from "../constructs/network-rules";
import { PostgresAccess } from "../constructs/postgres-access";
import { RestoreTestSchedule } from "../constructs/restore-test-schedule";

export interface TargetChartProps extends ChartProps {
  readonly config: TargetConfig;
  /**
   * Which region's cluster this chart runs in: the standby runs the same workload against the
   * DR region's network. @default "primary"
   */
  readonly region?: "primary" | "dr";
}

const POSTGRES_PORT = 5432;
const HTTPS_PORT = 443;

export class TargetChart extends Chart {
  readonly app: AppWorkload;

  constructor(scope: Construct, id: string, props: TargetChartProps) {
    const { config, region, ...chartProps } = props;
    super(scope, id, { namespace: config.namespace, ...chartProps });
    const vpc = region === "dr" ? VPC_CIDRS.dr : VPC_CIDRS.primary;

    // EKS Pod Identity binds the app's AWS role (export bucket, its KMS key) to this account.
    const serviceAccount = new kplus.ServiceAccount(this, "service-account", {
      metadata: { name: TARGET.serviceAccount },
      automountToken: false,
    });
    const runtime = {
      image: config.image,
      // By name: cdk8s-plus's ServiceAccount class (resourceName: string | undefined) does not
      // satisfy its own IServiceAccount (resourceName?: string) under exactOptionalPropertyTypes.
      serviceAccount: kplus.ServiceAccount.fromServiceAccountName(
        this,
        "app-service-account",
        serviceAccount.name,
      ),
      settings: kplus.ConfigMap.fromConfigMapName(this, "cloud-settings", TARGET.cloudSettings),
    };
    const database = new PostgresAccess(this, "database", {
      secretsManagerEntry: cloudNames(config.stack).databaseSecretName,
    });

    // The autoscaler owns the replica count, from config.app.replicas up.
    this.app = new AppWorkload(this, "app", { runtime, database, spread: true });
    new AppAvailability(this, "availability", { app: this.app, minReplicas: config.app.replicas });
    this.ingress();

    new BackupSchedule(this, "export", {
      name: TARGET.exportCronJob,
      runtime,
      database,
      timing: config.backup.timing,
      keepWithinSeconds: config.backup.keepWithinSeconds,
      keepLast: config.backup.keepLast,
    });
    new RestoreTestSchedule(this, "restore-test", {
      name: TARGET.restoreTestCronJob,
      runtime,
      database,
      schedule: config.restoreTest.schedule,
      maxAgeSeconds: config.restoreTest.maxAgeSeconds,
    });

    new NetworkRules(this, "network", {
      app: this.app,
      // The internal load balancer targets pods by IP from its own subnets (config/cloud-names.ts);
      // Prometheus scrapes /metrics.
      appClients: [{ cidr: subnetPlan(vpc).loadBalancerRange }, PROMETHEUS_PEER],
      egress: [
        // RDS lives in the VPC's private subnets.
        { purpose: "database", to: { cidr: vpc }, port: POSTGRES_PORT },
        // S3, KMS, STS and Pod Identity are public HTTPS endpoints.
        { purpose: "aws-apis", to: { cidr: "0.0.0.0/0" }, port: HTTPS_PORT },
      ],
    });

    if (config.monitoring) {
      new BackupMonitoring(this, "monitoring", {
        app: this.app,
        namespace: config.namespace,
        stack: config.stack,
        backupCronJob: TARGET.exportCronJob,
        restoreTestCronJob: TARGET.restoreTestCronJob,
        rpoSeconds: config.objectives.rpoSeconds,
        backupTiming: config.backup.timing,
      });
    }
  }

  // An internal Application Load Balancer (AWS Load Balancer Controller) sending to pod IPs.
  // Internal by default: making the service public is a decision, with a certificate, not a default.
  private ingress(): void {
    new k8s.KubeIngress(this, "ingress", {
      metadata: {
        name: this.app.name,
        annotations: {
          "alb.ingress.kubernetes.io/scheme": "internal",
          "alb.ingress.kubernetes.io/target-type": "ip",
          "alb.ingress.kubernetes.io/healthcheck-path": "/ready",
        },
      },
      spec: {
        ingressClassName: "alb",
        rules: [
          {
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
