import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Ajv from "ajv";
import { Testing } from "cdk8s";
import { synthStack } from "../../charts/stacks";
import { AppWorkload } from "../../charts/constructs/app-workload";
import { AppAvailability } from "../../charts/constructs/availability";
import { BackupMonitoring } from "../../charts/constructs/backup-monitoring";
import { BackupSchedule } from "../../charts/constructs/backup-schedule";
import { RestoreTestSchedule } from "../../charts/constructs/restore-test-schedule";
import { PostgresAccess } from "../../charts/constructs/postgres-access";
import { timingFor } from "../../config";
import {
  configOf,
  containerOf,
  find,
  isKind,
  kustomizationResources,
  manifestsFromYaml,
  podSpecOf,
  specOf,
  synthStackInMemory,
} from "../support/manifests";

const prodConfig = configOf(
  { topology: "target", "aws:region": "eu-west-3", drRegion: "eu-central-1" },
  "prod",
);
const prod = synthStackInMemory(prodConfig);
const all = prod.synced;
const deployment = find(all, "Deployment", "pra-app");
const appPod = podSpecOf(deployment);

test("the target synthesizes these objects, and no run-once operation", () => {
  expect(all.map((m) => `${m.kind}/${m.metadata.name}`).sort()).toEqual([
    "ConfigMap/pra-app-dashboard",
    "CronJob/postgres-export",
    "CronJob/postgres-restore-test",
    "Deployment/pra-app",
    "ExternalSecret/pra-database",
    "HorizontalPodAutoscaler/pra-app",
    "Ingress/pra-app",
    "Namespace/pra",
    "NetworkPolicy/allow-app-ingress",
    "NetworkPolicy/allow-dns",
    "NetworkPolicy/allow-egress-aws-apis",
    "NetworkPolicy/allow-egress-database",
    "NetworkPolicy/allow-egress-pod-identity-agent",
    "NetworkPolicy/allow-egress-pod-identity-agent-ipv6",
    "NetworkPolicy/default-deny",
    "PodDisruptionBudget/pra-app",
    "PrometheusRule/pra-app-recovery",
    "Service/pra-app",
    "ServiceAccount/pra-app",
    "ServiceAccount/pra-export",
    "ServiceAccount/pra-restore-test",
    "ServiceMonitor/pra-app",
  ]);
  expect(prod.ops).toEqual([]);
});

test("the namespace enforces the restricted Pod Security Standard", () => {
  expect(find(all, "Namespace", "pra").metadata.labels).toMatchObject({
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/audit": "restricted",
    "pod-security.kubernetes.io/warn": "restricted",
  });
});

describe("the workload", () => {
  test("at least three replicas by default, owned by the autoscaler", () => {
    expect(prodConfig.topology === "target" && prodConfig.app.replicas).toBe(3);
    expect(specOf(deployment).replicas).toBeUndefined();
    expect(find(all, "HorizontalPodAutoscaler", "pra-app").spec).toMatchObject({
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "pra-app" },
      minReplicas: 3,
      maxReplicas: 9,
      metrics: [
        {
          type: "Resource",
          resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } },
        },
      ],
    });
  });

  test("replicas come from the settings", () => {
    const { synced } = synthStackInMemory(
      configOf({
        topology: "target",
        "aws:region": "eu-west-3",
        drRegion: "eu-central-1",
        replicas: 5,
      }),
    );
    expect(find(synced, "HorizontalPodAutoscaler", "pra-app").spec).toMatchObject({
      minReplicas: 5,
      maxReplicas: 15,
    });
  });

  test("pods are spread over zones (strictly) and nodes (preferably), counting only nodes they can run on", () => {
    const selector = { matchLabels: { "app.kubernetes.io/name": "pra-app" } };
    expect(appPod.topologySpreadConstraints).toEqual([
      {
        maxSkew: 1,
        topologyKey: "topology.kubernetes.io/zone",
        whenUnsatisfiable: "DoNotSchedule",
        labelSelector: selector,
        nodeTaintsPolicy: "Honor",
      },
      {
        maxSkew: 1,
        topologyKey: "kubernetes.io/hostname",
        whenUnsatisfiable: "ScheduleAnyway",
        labelSelector: selector,
        nodeTaintsPolicy: "Honor",
      },
    ]);
  });

  test("a disruption budget lets drains take one pod at a time", () => {
    expect(find(all, "PodDisruptionBudget", "pra-app").spec).toEqual({
      maxUnavailable: 1,
      selector: { matchLabels: { "app.kubernetes.io/name": "pra-app" } },
    });
  });

  test("rolls one extra pod at a time, never below the serving count", () => {
    expect(specOf(deployment).strategy).toEqual({
      type: "RollingUpdate",
      rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
    });
  });

  test("probes and the lab's hardening", () => {
    const container = containerOf(deployment);
    expect(container.livenessProbe?.httpGet?.path).toBe("/health");
    expect(container.readinessProbe?.httpGet?.path).toBe("/ready");
    expect(container.securityContext).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    });
  });

  test("runs as the pra-app service account (Pod Identity), without an API token", () => {
    expect(appPod.serviceAccountName).toBe("pra-app");
    expect(appPod.automountServiceAccountToken).toBe(false);
    expect(find(all, "ServiceAccount", "pra-app").automountServiceAccountToken).toBe(false);
  });
});

describe("database credentials", () => {
  test("DATABASE_URL comes from the Secret External Secrets fills, the cloud settings from pra-cloud", () => {
    const container = containerOf(deployment);
    expect(container.env).toContainEqual({
      name: "DATABASE_URL",
      valueFrom: { secretKeyRef: { name: "pra-database", key: "DATABASE_URL" } },
    });
    expect(container.env?.map((e) => e.name)).not.toContain("DB_PATH");
    expect(container.envFrom).toEqual([{ configMapRef: { name: "pra-cloud" } }]);
  });

  test("the ExternalSecret reads the Secrets Manager entry the database component writes", () => {
    const spec = specOf(find(all, "ExternalSecret", "pra-database"));
    expect(spec.secretStoreRef).toEqual({
      kind: "ClusterSecretStore",
      name: "aws-secrets-manager",
    });
    expect(spec.dataFrom).toEqual([{ extract: { key: "pra/prod/database" } }]);
    expect(spec.target).toMatchObject({ name: "pra-database", creationPolicy: "Owner" });
    expect(spec.target.template?.data?.DATABASE_URL).toMatch(
      /^postgres:\/\/\{\{ \.username \| urlquery \}\}:\{\{ \.password \| urlquery \}\}@\{\{ \.host \}\}/,
    );
    expect(spec.target.template?.data?.DATABASE_URL).toContain("sslmode=verify-full");
  });

  test("no secret value appears in any synthesized object", () => {
    const text = JSON.stringify(all);
    expect(all.some((m) => m.kind === "Secret")).toBe(false);
    // Only templates and references: no literal connection string, no password field with a value.
    expect(text).not.toMatch(/postgres:\/\/[^{]/);
    expect(text).not.toMatch(/"password"\s*:/i);
    for (const workload of all.filter((m) => isKind(m, "Deployment") || isKind(m, "CronJob"))) {
      for (const container of podSpecOf(workload).containers) {
        for (const variable of container.env ?? []) {
          if (/URL|PASSWORD|SECRET|TOKEN/.test(variable.name))
            expect(variable.value).toBeUndefined();
        }
      }
    }
  });
});

describe("logical exports and their restore test", () => {
  const exportJob = find(all, "CronJob", "postgres-export");
  const restoreTest = find(all, "CronJob", "postgres-restore-test");

  test("pra-app backup hourly: 50 GiB dumped and checked at 50 MiB/s may take 36m8s, plus 10m to start", () => {
    expect(exportJob.spec).toMatchObject({
      schedule: "0 * * * *",
      timeZone: "Etc/UTC",
      concurrencyPolicy: "Forbid",
      startingDeadlineSeconds: 600,
    });
    // Two streamed passes over 50 GiB at 50 MiB/s (1024 s each), plus two minutes to start.
    expect(specOf(exportJob).jobTemplate.spec?.activeDeadlineSeconds).toBe(2168);
    expect(containerOf(exportJob).args).toEqual([
      "backup",
      "--keep-last",
      "3",
      "--keep-within",
      "14d",
    ]);
  });

  test("pra-app verify hourly against the age the exports guarantee", () => {
    expect(specOf(restoreTest).schedule).toBe("0 * * * *");
    // The hour between exports, 10m late at most, 36m8s to run.
    expect(containerOf(restoreTest).args).toEqual(["verify", "--max-age", "1h46m8s"]);
  });

  test("postgres-export reaches S3 as pra-export, with the database and cloud settings", () => {
    const cronJob = find(all, "CronJob", "postgres-export");
    const pod = podSpecOf(cronJob);
    expect(pod.serviceAccountName).toBe("pra-export");
    expect(containerOf(cronJob).envFrom).toEqual([{ configMapRef: { name: "pra-cloud" } }]);
    expect(containerOf(cronJob).env).toContainEqual({
      name: "DATABASE_URL",
      valueFrom: { secretKeyRef: { name: "pra-database", key: "DATABASE_URL" } },
    });
    // Nothing ReadWriteOnce to share: no placement rule, no volume but /tmp.
    expect(pod.affinity).toBeUndefined();
    expect(pod.volumes?.map((v) => v.name)).toEqual(["tmp"]);
  });

  test("postgres-restore-test reads S3 as pra-restore-test, on scratch sized for the data", () => {
    const cronJob = find(all, "CronJob", "postgres-restore-test");
    const pod = podSpecOf(cronJob);
    expect(pod.serviceAccountName).toBe("pra-restore-test");
    expect(containerOf(cronJob).envFrom).toEqual([{ configMapRef: { name: "pra-cloud" } }]);
    // DATABASE_URL selects the exports; the test never connects to the database.
    expect(containerOf(cronJob).env).toEqual([
      {
        name: "DATABASE_URL",
        valueFrom: { secretKeyRef: { name: "pra-database", key: "DATABASE_URL" } },
      },
    ]);
    expect(pod.affinity).toBeUndefined();
    // prod provisions 50 GiB: 62.5 GiB restored, plus WAL and the runtime's own.
    expect(pod.volumes).toEqual([
      {
        name: "scratch",
        ephemeral: {
          volumeClaimTemplate: {
            spec: {
              accessModes: ["ReadWriteOnce"],
              storageClassName: "gp3-scratch",
              resources: { requests: { storage: "63Gi" } },
            },
          },
        },
      },
    ]);
    expect(containerOf(cronJob).volumeMounts).toEqual([{ name: "scratch", mountPath: "/tmp" }]);
    // 50 GiB at 50 MiB/s, plus two minutes to start.
    expect(specOf(cronJob).jobTemplate.spec?.activeDeadlineSeconds).toBe(1144);
  });
});

describe("monitoring, from the objectives", () => {
  const rulesOf = (manifests: typeof all) =>
    Object.fromEntries(
      specOf(find(manifests, "PrometheusRule", "pra-app-recovery"))
        .groups.flatMap((group) => group.rules)
        .map((rule) => [rule.alert, rule]),
    );

  test("a ServiceMonitor scrapes the app's /metrics through its Service", () => {
    expect(find(all, "ServiceMonitor", "pra-app").spec).toEqual({
      selector: { matchLabels: { "app.kubernetes.io/name": "pra-app" } },
      endpoints: [{ port: "http", path: "/metrics", interval: "30s" }],
    });
    expect(find(all, "Service", "pra-app").metadata.labels).toMatchObject({
      "app.kubernetes.io/name": "pra-app",
    });
  });

  test("alerts on a backup older than the RPO and on backups running late, with derived thresholds", () => {
    const lab = synthStackInMemory(configOf({ topology: "lab", monitoring: true }, "lab")).synced;
    const rules = rulesOf(lab);
    const last =
      'kube_cronjob_status_last_successful_time{namespace="pra", cronjob="sqlite-backup"}';
    // Late: the 1m interval, its 10s starting deadline and half its 20s run deadline.
    expect(rules.PraBackupLate?.expr).toBe(`time() - ${last} > 80`);
    expect(rules.PraRpoBreached?.expr).toBe(`time() - ${last} > 120`);
    expect(rules.PraBackupNeverSucceeded).toMatchObject({ expr: `absent(${last})`, for: "2m" });
    expect(rules.PraRpoBreached?.labels).toEqual({ severity: "critical", pra_stack: "lab" });

    const slower = rulesOf(
      synthStackInMemory(configOf({ topology: "lab", monitoring: true, rpo: "1h" }, "lab")).synced,
    );
    expect(slower.PraRpoBreached?.expr).toContain("> 3600");
    // 30m interval, 5m starting deadline, half of the 10m run deadline.
    expect(slower.PraBackupLate?.expr).toContain("> 2400");
  });

  test("alerts on failed backup and restore-test Jobs, the app down, and the app's own restore point age", () => {
    const rules = rulesOf(all);
    expect(rules.PraBackupJobFailed?.expr).toContain('job_name=~"postgres-export-[0-9]+"');
    expect(rules.PraRestoreTestFailed?.expr).toContain('job_name=~"postgres-restore-test-[0-9]+"');
    const available =
      'kube_deployment_status_replicas_available{namespace="pra", deployment="pra-app"}';
    expect(rules.PraAppUnavailable?.expr).toBe(`${available} < 1 or absent(${available})`);
    expect(rules.PraAppNotScraped?.expr).toBe('absent(up{namespace="pra", job="pra-app"} == 1)');
    // The exports' own worst case on time (the RPO is RDS's): 1h + 10m + 36m8s.
    expect(rules.PraRestorePointTooOld?.expr).toBe(
      'max by (namespace) (pra_restore_point_newest_age_seconds{namespace="pra"}) > 6368',
    );
  });

  test("a Grafana dashboard with the exports' overdue age as a threshold, labelled for the sidecar", () => {
    const configMap = find(all, "ConfigMap", "pra-app-dashboard");
    expect(configMap.metadata.labels).toMatchObject({ grafana_dashboard: "1" });
    const dashboard: unknown = JSON.parse(configMap.data?.["pra-recovery.json"] ?? "null");
    const title: unknown = expect.stringContaining("overdue past 1h46m8s");
    const redAtRpo: unknown = expect.arrayContaining([{ color: "red", value: 6368 }]);
    expect(dashboard).toHaveProperty(["panels", 0, "title"], title);
    expect(dashboard).toHaveProperty(
      ["panels", 0, "fieldConfig", "defaults", "thresholds", "steps"],
      redAtRpo,
    );
  });

  test("the lab has no monitoring objects unless asked for", () => {
    const lab = synthStackInMemory(configOf({ topology: "lab" }, "lab")).synced;
    expect(lab.some((m) => m.kind === "PrometheusRule" || m.kind === "ServiceMonitor")).toBe(false);
  });

  test("monitoring refuses thresholds that could never hold the RPO", () => {
    const chart = Testing.chart();
    const database = new PostgresAccess(chart, "db", { secretsManagerEntry: "x" });
    const runtime = { image: "x:1" };
    const app = new AppWorkload(chart, "app", { runtime, database });
    const backup = new BackupSchedule(chart, "backup", {
      runtime,
      database,
      timing: timingFor("* * * * *", 60),
      keepLast: 1,
      keepWithinSeconds: 60,
    });
    const restoreTest = new RestoreTestSchedule(chart, "restore-test", {
      runtime,
      database,
      schedule: "*/10 * * * *",
      maxAgeSeconds: 90,
    });
    expect(
      () =>
        new BackupMonitoring(chart, "mon", {
          app,
          namespace: "pra",
          backup,
          restoreTest,
          stack: "test",
          rpoSeconds: 60,
          policy: { holdsRpo: true, overdueAfterSeconds: 60 },
        }),
    ).toThrow(
      "BackupMonitoring: backups on time leave restore points up to 90s old, more than the RPO (60s)",
    );
  });

  test("availability refuses fewer than two replicas", () => {
    const chart = Testing.chart();
    const database = new PostgresAccess(chart, "db", { secretsManagerEntry: "x" });
    const app = new AppWorkload(chart, "app", { runtime: { image: "x:1" }, database });
    expect(() => new AppAvailability(chart, "ha", { app, minReplicas: 1 })).toThrow(
      "AppAvailability: minReplicas must be at least 2 to survive a disruption, got 1",
    );
  });
});

test("the load balancer is internal and targets pod IPs, health-checking /ready", () => {
  const ingress = find(all, "Ingress", "pra-app");
  expect(ingress.metadata).toMatchObject({
    annotations: {
      "alb.ingress.kubernetes.io/scheme": "internal",
      "alb.ingress.kubernetes.io/target-type": "ip",
      "alb.ingress.kubernetes.io/healthcheck-path": "/ready",
    },
  });
  expect(specOf(ingress).ingressClassName).toBe("alb");
  expect(specOf(ingress).rules?.[0]?.http?.paths[0]?.backend).toEqual({
    service: { name: "pra-app", port: { number: 80 } },
  });
});

describe("encryption in transit to the load balancer", () => {
  const ingress = () => find(all, "Ingress", "pra-app");

  // Polaris (Fairwinds) is a Go binary, on neither npm nor Debian. Its Ingress check,
  // tlsSettingsMissing (checks/tlsSettingsMissing.yaml in FairwindsOps/polaris), is a JSON schema:
  // an object whose spec has a `tls` array that is not null. The same schema, evaluated by Ajv.
  const polarisTlsCheck = new Ajv({ strict: false }).compile({
    type: "object",
    required: ["spec"],
    properties: {
      spec: {
        type: "object",
        required: ["tls"],
        properties: { tls: { type: "array", not: { const: null } } },
      },
    },
  });

  test("Polaris's tlsSettingsMissing passes on the Ingress, and fails on one without TLS", () => {
    expect(polarisTlsCheck(ingress())).toBe(true);
    const { tls: _tls, ...plain } = specOf(ingress());
    expect(polarisTlsCheck({ ...ingress(), spec: plain })).toBe(false);
  });

  test("the Ingress has TLS for every host it serves", () => {
    const spec = specOf(ingress());
    expect(spec.tls?.length).toBeGreaterThan(0);
    const tlsHosts = (spec.tls ?? []).flatMap((tls) => tls.hosts ?? []);
    const hosts = (spec.rules ?? []).map((rule) => rule.host);
    expect(hosts).toEqual(["app.prod.pra.internal"]);
    for (const host of hosts) expect(tlsHosts).toContain(host);
  });

  test("the ALB listens on 443 with a TLS 1.2+ policy, and port 80 only redirects", () => {
    expect(ingress().metadata.annotations).toMatchObject({
      "alb.ingress.kubernetes.io/listen-ports": '[{"HTTP":80},{"HTTPS":443}]',
      "alb.ingress.kubernetes.io/ssl-redirect": "443",
      "alb.ingress.kubernetes.io/ssl-policy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
    });
  });

  test("with pra:serviceDomain, the host is under that domain, where its certificate is validated", () => {
    const config = configOf(
      {
        topology: "target",
        "aws:region": "eu-west-3",
        drRegion: "eu-central-1",
        serviceDomain: "pra.example.com",
      },
      "prod",
    );
    const host = find(synthStackInMemory(config).synced, "Ingress", "pra-app");
    expect(specOf(host).tls).toEqual([{ hosts: ["app.pra.example.com"] }]);
  });
});

describe("the failover manifests (dist/<stack>/failover/), applied by a person in the DR cluster", () => {
  const outdir = mkdtempSync(join(tmpdir(), "pra-failover-"));
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));
  const files = synthStack(prodConfig, outdir);
  const failover = readdirSync(join(outdir, "failover"))
    .filter((file) => file.endsWith(".k8s.yaml"))
    .sort()
    .flatMap((file) =>
      manifestsFromYaml(readFileSync(join(outdir, "failover", file), "utf8"), file),
    );

  test("are written beside the synced files, and the kustomization leaves them out", () => {
    expect(files).toEqual(
      expect.arrayContaining([
        "failover/0000-prod-failover-namespace.k8s.yaml",
        "failover/0001-prod-failover.k8s.yaml",
      ]),
    );
    const resources = kustomizationResources(join(outdir, "kustomization.yaml"));
    expect(resources.some((r) => r.includes("failover"))).toBe(false);
  });

  test("failover/ has its own kustomization, listing exactly its manifests, that apply -f skips", () => {
    // No .yaml extension: `kubectl apply -f dist/<stack>/failover/` reads only .yaml/.yml/.json.
    expect(files).toContain("failover/Kustomization");
    expect(kustomizationResources(join(outdir, "failover", "Kustomization"))).toEqual([
      "0000-prod-failover-namespace.k8s.yaml",
      "0001-prod-failover.k8s.yaml",
    ]);
  });

  test("run the same workload, with the network rules naming the DR VPC's ranges", () => {
    expect(failover.map((m) => `${m.kind}/${m.metadata.name}`).sort()).toEqual(
      all.map((m) => `${m.kind}/${m.metadata.name}`).sort(),
    );
    const appIngress = specOf(find(failover, "NetworkPolicy", "allow-app-ingress"));
    expect(appIngress.ingress?.[0]?.from?.[0]).toEqual({
      ipBlock: { cidr: "10.21.224.0/19" },
    });
    const databaseEgress = specOf(find(failover, "NetworkPolicy", "allow-egress-database"));
    expect(databaseEgress.egress?.[0]?.to).toEqual([{ ipBlock: { cidr: "10.21.0.0/16" } }]);
  });

  test("the lab has none", () => {
    const labDir = mkdtempSync(join(tmpdir(), "pra-failover-lab-"));
    try {
      synthStack(configOf({ topology: "lab" }, "lab"), labDir);
      expect(readdirSync(labDir)).not.toContain("failover");
    } finally {
      rmSync(labDir, { recursive: true, force: true });
    }
  });
});
