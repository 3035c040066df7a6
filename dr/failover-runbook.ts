/**
 * The target's failover to the DR region, and its failback, as ordered steps: AWS CLI calls,
 * kubectl calls on the DR cluster, and HTTP requests through the service's stable name. Building
 * the list runs nothing: scripts/failover.ts executes it (`npm run failover`), the DR report prints
 * it, and the DR model adds up its figures for the region loss's RTO, so what a person reads,
 * what the command does and what the model counts are one list.
 *
 * Every name comes from the stack: cloud names from its outputs (`FailoverTargets`, the `failover`
 * output of infra/outputs.ts), in-cluster names from the synthesized failover manifests. A value
 * only known while the failover runs (the restored database's host, the DR load balancer's name)
 * is captured by the step that reads it and written `$NAME` in the plan.
 */
import { DR_PART_TITLES, type DrDesign, type DrPart, drDesignOf } from "../config/dr-design";
import type { FailoverTargets } from "../config/failover-targets";
import { cloudNames, describeTargetDesign, formatDuration, type TargetConfig } from "../config";
import { App } from "cdk8s";
import { type Manifest, ofKind, specOf, toManifests } from "../charts/manifest";
import { defineFailover } from "../charts/stacks";
import {
  AWS_API_CALL,
  DNS_SWITCH,
  EKS_NODE_LAUNCH,
  EXTERNAL_SECRETS_SYNC,
  type Figure,
  POD_START,
  RDS_REPLICA_PROMOTION,
  rdsRestore,
} from "./figures";
import { type CheckResult, shellLine } from "./lab-restore-runbook";

export type FailoverDirection = "failover" | "failback";

/** Values captured while the runbook runs, by name (`DB_HOST`); `STARTED` is the start's unix seconds. */
export type Captured = Readonly<Record<string, string>>;

export interface FailoverStep {
  /** Stable key for tests and messages. */
  readonly id: string;
  readonly description: string;
  /**
   * The command, or for `http` the method and URL. `$NAME` stands for a value an earlier step
   * captured; the runner substitutes it, the plan prints it as is.
   */
  readonly argv: readonly string[];
  readonly tool: "aws" | "kubectl" | "http";
  /** For `http`: the request body. */
  readonly body?: string;
  /** Builds stdin from the captured values; its content is never printed. */
  readonly stdin?: (captured: Captured) => string;
  /** One line saying what stdin holds. */
  readonly stdinSummary?: string;
  /** The shell line a person runs instead, when the step reads stdin. */
  readonly byHand?: string;
  /** Keep the trimmed stdout under this name for later steps. */
  readonly captures?: string;
  /** The captured value is a secret: never echoed, never printed. */
  readonly secret?: boolean;
  readonly check?: (stdout: string, captured: Captured) => CheckResult;
  /**
   * A failure whose stderr matches this is success: kubectl reports "no matching resources found"
   * when a wait for deletion is already met (the pods were already gone).
   */
  readonly succeedsOnStderr?: RegExp;
  /** Where the system stands when this step fails: what serves, what changed, what did not. */
  readonly standsIfFailed: string;
  /** What to inspect or decide when it fails. */
  readonly onFailure?: string;
  /** What this step takes at worst, counted in the failover's RTO. */
  readonly figure: Figure;
  /** The DR-side parts this step relies on. */
  readonly needs: readonly DrPart[];
}

/** In-cluster names, read from the synthesized failover manifests. */
export interface WorkloadNames {
  readonly namespace: string;
  readonly deployment: string;
  /** Replicas the failover scales to: the autoscaler's floor. */
  readonly replicas: number;
  readonly cronJobs: readonly string[];
  readonly externalSecret: string;
  readonly ingress: string;
  /** The app's pods, `key=value,...` as kubectl -l reads it. */
  readonly selector: string;
  /** Kinds whose controllers are add-ons, for the readiness check. */
  readonly needs: readonly DrPart[];
}

export function workloadNames(manifests: readonly Manifest[]): WorkloadNames {
  const [deployment, ...more] = ofKind(manifests, "Deployment");
  if (!deployment || more.length > 0) throw new Error("the failover manifests hold no single app");
  const name = deployment.metadata.name;
  const autoscaler = ofKind(manifests, "HorizontalPodAutoscaler").find(
    (m) => specOf(m).scaleTargetRef.name === name,
  );
  const [externalSecret] = ofKind(manifests, "ExternalSecret");
  const [ingress] = ofKind(manifests, "Ingress");
  const namespace = deployment.metadata.namespace;
  if (!externalSecret || !ingress || namespace === undefined)
    throw new Error("the failover manifests lack the app's ExternalSecret, Ingress or namespace");
  const needs = new Set<DrPart>();
  const kinds = new Set(manifests.map((m) => m.kind));
  if (kinds.has("ExternalSecret")) needs.add("external-secrets");
  if (kinds.has("ServiceMonitor") || kinds.has("PrometheusRule")) needs.add("prometheus-operator");
  if (specOf(ingress).ingressClassName === "alb") needs.add("load-balancer-controller");
  // Pods run as service accounts EKS Pod Identity binds, and read pra-cloud, which Pulumi writes.
  if (kinds.has("ServiceAccount")) needs.add("app-identity");
  const readsSettings = [...ofKind(manifests, "Deployment"), ...ofKind(manifests, "CronJob")].some(
    (m) => JSON.stringify(m.spec).includes('"pra-cloud"'),
  );
  if (readsSettings) needs.add("cloud-settings");
  return {
    namespace,
    deployment: name,
    replicas: autoscaler?.spec?.minReplicas ?? deployment.spec?.replicas ?? 1,
    cronJobs: ofKind(manifests, "CronJob").map((m) => m.metadata.name),
    externalSecret: externalSecret.metadata.name,
    ingress: ingress.metadata.name,
    selector: Object.entries(deployment.spec?.selector.matchLabels ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(","),
    needs: [...needs],
  };
}

/** The failover manifests as `cdk8s synth` writes them to dist/<stack>/failover/. */
export function failoverManifests(config: TargetConfig): Manifest[] {
  return defineFailover(config, new App()).flatMap((chart) =>
    toManifests(chart.toJson(), chart.node.path),
  );
}

const figure = (seconds: number, source: string): Figure => ({ seconds, source });

/** Options of one run. */
export interface FailoverOptions {
  /** Where `kubectl apply` reads the failover manifests. @default dist/<stack>/failover/ */
  readonly manifestsDir?: string;
  /** Where the read and write checks go. @default https://<the service's record> */
  readonly serviceUrl?: string;
}

/** The steps of `npm run failover` (or its failback) for `config`, with the stack's real names. */
export function failoverSteps(
  config: TargetConfig,
  targets: FailoverTargets,
  manifests: readonly Manifest[],
  direction: FailoverDirection = "failover",
  options: FailoverOptions = {},
): FailoverStep[] {
  if (targets.stack !== config.stack)
    throw new Error(`the outputs are stack ${targets.stack}'s, not ${config.stack}'s`);
  const names = workloadNames(manifests);
  const dr = drDesignOf(config);
  return direction === "failover"
    ? failover(config, targets, names, dr, options)
    : failback(config, targets, names, dr, options);
}

function common(config: TargetConfig, n: WorkloadNames, dr: DrDesign) {
  const awsIn =
    (region: string) =>
    (service: string, ...args: string[]) => ["aws", service, ...args, "--region", region];
  const kubectlIn =
    (context: string) =>
    (...args: string[]) => ["kubectl", "--context", context, "-n", n.namespace, ...args];
  const timeout = `--timeout=${config.objectives.rtoSeconds}s`;
  const call = figure(AWS_API_CALL.seconds, AWS_API_CALL.source);
  const none = figure(0, "runs in the background; a later step waits for it");
  return { awsIn, kubectlIn, timeout, call, none, dr };
}

/** The secret rewrite as a person types it, with $SECRET and $DB_HOST set by the steps before. */
const secretByHand = (secretId: string, region: string) =>
  `printf '%s' "$SECRET" | jq -c --arg h "$DB_HOST" '.host=$h' | ` +
  shellLine([
    "aws",
    "secretsmanager",
    "put-secret-value",
    "--secret-id",
    secretId,
    "--secret-string",
    "file:///dev/stdin",
    "--region",
    region,
  ]);

/** Sets `host` in the secret's JSON, keeping every other field (the password is never printed). */
export function withHost(secretJson: string, host: string): string {
  const value: unknown = JSON.parse(secretJson);
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new Error("the database secret is not a JSON object");
  if (host === "") throw new Error("no database host was captured");
  return JSON.stringify({ ...value, host });
}

const expectText =
  (expected: string, what: string) =>
  (stdout: string): CheckResult => {
    const found = stdout.trim();
    return found === expected
      ? { ok: true, message: `${what}: ${found}` }
      : { ok: false, message: `${what}: expected ${expected}, found "${found}"` };
  };

const nonEmpty =
  (what: string) =>
  (stdout: string): CheckResult =>
    stdout.trim() === "" || stdout.trim() === "None"
      ? { ok: false, message: `${what}: nothing was returned` }
      : { ok: true, message: `${what}: ${stdout.trim()}` };

function switchName(t: FailoverTargets, target: string): string {
  return JSON.stringify({
    Comment: "pra failover: the service's stable name",
    Changes: [
      {
        Action: "UPSERT",
        ResourceRecordSet: {
          Name: t.serviceName.record,
          Type: "CNAME",
          TTL: t.serviceName.ttl,
          ResourceRecords: [{ Value: target }],
        },
      },
    ],
  });
}

/** What differs where the failover and the failback take the same kind of step. */
type StepText = Pick<FailoverStep, "id" | "description" | "standsIfFailed" | "needs"> &
  Pick<Partial<FailoverStep>, "onFailure">;
type AwsCli = (service: string, ...args: string[]) => string[];
type KubectlCli = (...args: string[]) => string[];

const API_CALL = figure(AWS_API_CALL.seconds, AWS_API_CALL.source);

/**
 * The kinds of step both directions take, each toward its own side: the failover points the DR
 * side's secret and the service's name at the DR region, the failback the primary's. One builder
 * a kind, so the two directions cannot drift apart in what they run.
 */
const stepKind = {
  readDatabaseHost: (aws: AwsCli, instance: string, text: StepText): FailoverStep => ({
    ...text,
    tool: "aws",
    argv: aws(
      "rds",
      "describe-db-instances",
      "--db-instance-identifier",
      instance,
      "--query",
      "DBInstances[0].Endpoint.Address",
      "--output",
      "text",
    ),
    captures: "DB_HOST",
    check: nonEmpty("database address"),
    figure: API_CALL,
  }),
  readSecret: (aws: AwsCli, secretId: string, text: StepText): FailoverStep => ({
    ...text,
    tool: "aws",
    argv: aws(
      "secretsmanager",
      "get-secret-value",
      "--secret-id",
      secretId,
      "--query",
      "SecretString",
      "--output",
      "text",
    ),
    captures: "SECRET",
    secret: true,
    figure: API_CALL,
  }),
  /** The secret written back with host $DB_HOST, every other field as $SECRET had it. */
  pointSecret: (aws: AwsCli, secretId: string, region: string, text: StepText): FailoverStep => ({
    ...text,
    tool: "aws",
    argv: aws(
      "secretsmanager",
      "put-secret-value",
      "--secret-id",
      secretId,
      "--secret-string",
      "file:///dev/stdin",
    ),
    stdin: (captured) => withHost(captured.SECRET ?? "", captured.DB_HOST ?? ""),
    stdinSummary: "the secret's JSON with host set to $DB_HOST (never printed)",
    byHand: secretByHand(secretId, region),
    figure: API_CALL,
  }),
  refreshSecret: (k: KubectlCli, externalSecret: string, text: StepText): FailoverStep => ({
    ...text,
    tool: "kubectl",
    argv: k("annotate", `externalsecret/${externalSecret}`, "force-sync=$STARTED", "--overwrite"),
    figure: API_CALL,
  }),
  waitSecret: (
    k: KubectlCli,
    externalSecret: string,
    timeout: string,
    text: StepText,
  ): FailoverStep => ({
    ...text,
    tool: "kubectl",
    argv: k("wait", "--for=condition=Ready", `externalsecret/${externalSecret}`, timeout),
    figure: EXTERNAL_SECRETS_SYNC,
  }),
  waitApp: (k: KubectlCli, deployment: string, timeout: string, text: StepText): FailoverStep => ({
    ...text,
    tool: "kubectl",
    argv: k("rollout", "status", deployment, timeout),
    figure: POD_START,
  }),
  /** `what` names the load balancer in the check's message. */
  readLoadBalancer: (
    k: KubectlCli,
    ingress: string,
    what: string,
    text: StepText,
  ): FailoverStep => ({
    ...text,
    tool: "kubectl",
    argv: k(
      "get",
      `ingress/${ingress}`,
      "-o",
      "jsonpath={.status.loadBalancer.ingress[0].hostname}",
    ),
    captures: "LB_HOST",
    check: nonEmpty(what),
    figure: API_CALL,
  }),
  /** The service's name pointed at $LB_HOST (Route 53 is global: no region). */
  switchName: (t: FailoverTargets, text: StepText): FailoverStep => ({
    ...text,
    tool: "aws",
    argv: [
      "aws",
      "route53",
      "change-resource-record-sets",
      "--hosted-zone-id",
      t.serviceName.zoneId,
      "--change-batch",
      switchName(t, "$LB_HOST"),
      "--query",
      "ChangeInfo.Id",
      "--output",
      "text",
    ],
    captures: "CHANGE_ID",
    figure: API_CALL,
  }),
  waitName: (text: StepText): FailoverStep => ({
    ...text,
    tool: "aws",
    argv: ["aws", "route53", "wait", "resource-record-sets-changed", "--id", "$CHANGE_ID"],
    figure: DNS_SWITCH,
  }),
};

function verify(
  t: FailoverTargets,
  n: WorkloadNames,
  options: FailoverOptions,
  standing: string,
): FailoverStep[] {
  // HTTPS: the load balancers present the service name's certificate (infra/aws/service-certificate.ts).
  const url = options.serviceUrl ?? `https://${t.serviceName.record}`;
  const message = `pra failover check $STARTED`;
  return [
    {
      id: "verify-write",
      description: `Write an event through the service's name (${t.serviceName.record})`,
      tool: "http",
      argv: ["POST", `${url}/events`],
      body: JSON.stringify({ message }),
      captures: "WRITTEN",
      standsIfFailed: `${standing}; the service does not accept a write through its name`,
      onFailure:
        `Check the record (dig ${t.serviceName.record}), the Ingress's load balancer and the app's ` +
        `readiness (kubectl -n ${n.namespace} get pods)`,
      figure: figure(AWS_API_CALL.seconds, AWS_API_CALL.source),
      needs: ["service-name"],
    },
    {
      id: "verify-read",
      description: "Read the event back through the same name",
      tool: "http",
      argv: ["GET", `${url}/consultation`],
      check: (stdout, captured) =>
        stdout.includes(message.replace("$STARTED", captured.STARTED ?? "$STARTED"))
          ? { ok: true, message: "the written event reads back" }
          : { ok: false, message: "the written event does not read back" },
      standsIfFailed: `${standing}; a write was accepted but does not read back`,
      figure: figure(AWS_API_CALL.seconds, AWS_API_CALL.source),
      needs: ["service-name"],
    },
  ];
}

function failover(
  config: TargetConfig,
  t: FailoverTargets,
  n: WorkloadNames,
  dr: DrDesign,
  options: FailoverOptions,
): FailoverStep[] {
  const { awsIn, kubectlIn, timeout, call, none } = common(config, n, dr);
  const aws = awsIn(t.drRegion);
  const k = kubectlIn(dr.drContext);
  const warm = t.strategy === "warm-standby";
  const db = t.database;
  const design = describeTargetDesign(config);
  const restore = rdsRestore(config.database.allocatedStorageGb);
  const unchanged = "UNCHANGED: nothing was changed; the DR region is as the stack left it";
  const stillPrimary = "clients still resolve the primary's load balancer";
  const dbReady = `the database ${db.drIdentifier} serves writes in ${t.drRegion}; ${stillPrimary}`;
  const deployment = `deployment/${n.deployment}`;
  const events = shellLine(
    aws(
      "rds",
      "describe-events",
      "--source-identifier",
      db.drIdentifier,
      "--source-type",
      "db-instance",
    ),
  );

  // Node groups below the primary's capacity (pilot light): resized while the database restores.
  const primaryCapacity = design.cluster.primaryNodesPerZone;
  const resize = t.drCluster.nodeGroups.flatMap((group, zone) => {
    const wanted = primaryCapacity[zone];
    if (!wanted || group.desired >= wanted.desired) return [];
    return [{ group, wanted }];
  });

  const checks: FailoverStep[] = [
    {
      id: "check-cluster",
      description: `Check that the DR cluster ${t.drCluster.name} is active`,
      tool: "aws",
      argv: aws(
        "eks",
        "describe-cluster",
        "--name",
        t.drCluster.name,
        "--query",
        "cluster.status",
        "--output",
        "text",
      ),
      check: expectText("ACTIVE", "DR cluster"),
      standsIfFailed: unchanged,
      figure: call,
      needs: ["cluster"],
    },
    warm
      ? {
          id: "check-replica",
          description: `Check that the read replica ${db.drIdentifier} is available`,
          tool: "aws",
          argv: aws(
            "rds",
            "describe-db-instances",
            "--db-instance-identifier",
            db.drIdentifier,
            "--query",
            "DBInstances[0].DBInstanceStatus",
            "--output",
            "text",
          ),
          check: expectText("available", "read replica"),
          standsIfFailed: unchanged,
          onFailure:
            "A replica that is not available cannot be promoted: restore from the replicated backups",
          figure: call,
          needs: ["read-replica"],
        }
      : {
          id: "check-backups",
          description: "Read the latest restorable time of the backups replicated to the DR region",
          tool: "aws",
          argv: aws(
            "rds",
            "describe-db-instance-automated-backups",
            "--db-instance-automated-backups-arn",
            db.automatedBackupsArn,
            "--query",
            "DBInstanceAutomatedBackups[0].RestoreWindow.LatestTime",
            "--output",
            "text",
          ),
          check: nonEmpty("latest restorable time (the data lost is everything after it)"),
          standsIfFailed: unchanged,
          onFailure:
            "No replicated backups: restore the newest copy in the DR vault instead " +
            "(aws backup list-recovery-points-by-backup-vault)",
          figure: call,
          needs: ["automated-backups-replica"],
        },
  ];

  const database: FailoverStep[] = warm
    ? [
        {
          id: "promote-replica",
          description: `Promote ${db.drIdentifier} to a standalone, writable instance (replication stops)`,
          tool: "aws",
          argv: aws(
            "rds",
            "promote-read-replica",
            "--db-instance-identifier",
            db.drIdentifier,
            "--backup-retention-period",
            String(db.backupRetentionDays),
          ),
          standsIfFailed: `${unchanged}; the replica still follows the primary (if it is reachable)`,
          figure: call,
          needs: ["read-replica"],
        },
        {
          id: "wait-database",
          description: `Wait until ${db.drIdentifier} is available as a standalone instance`,
          tool: "aws",
          argv: aws(
            "rds",
            "wait",
            "db-instance-available",
            "--db-instance-identifier",
            db.drIdentifier,
          ),
          standsIfFailed:
            `PROMOTING: ${db.drIdentifier} no longer follows the primary and is not yet writable; ` +
            `the DR app is still at zero; ${stillPrimary}`,
          onFailure: events,
          figure: RDS_REPLICA_PROMOTION,
          needs: ["read-replica"],
        },
      ]
    : [
        ...resize.map(
          ({ group, wanted }): FailoverStep => ({
            id: `scale-nodes-${group.name}`,
            description:
              `Resize node group ${group.name} to the primary's capacity ` +
              `(${wanted.min}..${wanted.max}, ${wanted.desired} now), while the database restores`,
            tool: "aws",
            argv: aws(
              "eks",
              "update-nodegroup-config",
              "--cluster-name",
              t.drCluster.name,
              "--nodegroup-name",
              group.name,
              "--scaling-config",
              `minSize=${wanted.min},maxSize=${wanted.max},desiredSize=${wanted.desired}`,
            ),
            standsIfFailed: `${unchanged} but the node groups listed before this one, which are growing`,
            figure: none,
            needs: ["nodes"],
          }),
        ),
        {
          id: "restore-database",
          description:
            `Restore ${db.primaryIdentifier} in ${t.drRegion} as ${db.drIdentifier}, ` +
            "to its latest restorable time, into the subnets, security group and parameters kept ready",
          tool: "aws",
          argv: aws(
            "rds",
            "restore-db-instance-to-point-in-time",
            "--source-db-instance-automated-backups-arn",
            db.automatedBackupsArn,
            "--target-db-instance-identifier",
            db.drIdentifier,
            "--use-latest-restorable-time",
            "--multi-az",
            "--db-instance-class",
            db.instanceClass,
            "--kms-key-id",
            db.kmsKeyArn,
            "--db-subnet-group-name",
            db.subnetGroupName,
            "--db-parameter-group-name",
            db.parameterGroupName,
            "--vpc-security-group-ids",
            db.securityGroupId,
            "--deletion-protection",
            "--no-publicly-accessible",
          ),
          standsIfFailed: `${unchanged} but the node groups, which are growing`,
          onFailure:
            `An instance ${db.drIdentifier} that already exists (a previous attempt): delete it or go on ` +
            "from the next step once it is available",
          figure: call,
          needs: ["automated-backups-replica", "database-landing"],
        },
        {
          id: "wait-database",
          description: `Wait until ${db.drIdentifier} is available`,
          tool: "aws",
          argv: aws(
            "rds",
            "wait",
            "db-instance-available",
            "--db-instance-identifier",
            db.drIdentifier,
          ),
          standsIfFailed:
            `RESTORING: ${db.drIdentifier} is being created; nothing serves in ${t.drRegion}; ` +
            stillPrimary,
          onFailure: events,
          figure: restore,
          needs: ["automated-backups-replica"],
        },
        ...resize.map(
          ({ group }): FailoverStep => ({
            id: `wait-nodes-${group.name}`,
            description: `Wait until node group ${group.name} is active at its new size`,
            tool: "aws",
            argv: aws(
              "eks",
              "wait",
              "nodegroup-active",
              "--cluster-name",
              t.drCluster.name,
              "--nodegroup-name",
              group.name,
            ),
            standsIfFailed: `${dbReady}; the DR cluster may lack nodes for the app`,
            // Launched when the restore started: only what the launch takes beyond the restore counts.
            figure: figure(
              Math.max(0, EKS_NODE_LAUNCH.seconds - restore.seconds),
              `${EKS_NODE_LAUNCH.source}, beyond the restore it overlaps`,
            ),
            needs: ["nodes"],
          }),
        ),
      ];

  const secret: FailoverStep[] = [
    stepKind.readDatabaseHost(aws, db.drIdentifier, {
      id: "read-database-host",
      description: `Read the address of ${db.drIdentifier}`,
      standsIfFailed: dbReady,
      needs: [],
    }),
    {
      id: "stop-secret-replication",
      description: `Make the DR replica of the secret ${t.secret.name} standalone, so it can be written`,
      tool: "aws",
      argv: aws("secretsmanager", "stop-replication-to-replica", "--secret-id", t.secret.drArn),
      standsIfFailed: `${dbReady}; the secret in ${t.drRegion} still names the primary's host`,
      onFailure: "Already standalone (a previous attempt) is fine: go on from the next step",
      figure: call,
      needs: ["secret-replica"],
    },
    stepKind.readSecret(aws, t.secret.drArn, {
      id: "read-secret",
      description: `Read the secret ${t.secret.name} in ${t.drRegion} (kept in memory, never printed)`,
      standsIfFailed: `${dbReady}; the secret in ${t.drRegion} is standalone and still names the primary's host`,
      needs: ["secret-replica"],
    }),
    stepKind.pointSecret(aws, t.secret.drArn, t.drRegion, {
      id: "point-secret",
      description: `Write the secret back with host $DB_HOST, every other field unchanged`,
      standsIfFailed: `${dbReady}; the secret in ${t.drRegion} still names the primary's host`,
      needs: ["secret-replica"],
    }),
  ];

  const standing = `the app runs in ${t.drRegion} on ${db.drIdentifier}`;
  const workload: FailoverStep[] = [
    {
      id: "kubeconfig",
      description: `Add the DR cluster to the kubeconfig as context ${dr.drContext}`,
      tool: "aws",
      argv: aws("eks", "update-kubeconfig", "--name", t.drCluster.name, "--alias", dr.drContext),
      standsIfFailed: `${dbReady}; the secret names the DR database`,
      figure: call,
      needs: ["cluster"],
    },
    ...(warm
      ? [
          {
            id: "check-standby",
            description: `Check that the standby ${deployment} is deployed in the DR cluster`,
            tool: "kubectl" as const,
            argv: k("get", deployment, "-o", "jsonpath={.metadata.name}"),
            check: expectText(n.deployment, "standby workload"),
            standsIfFailed: `${dbReady}; the standby workload is missing: apply it as a pilot light does`,
            figure: call,
            needs: ["standby-workload" as const],
          },
        ]
      : []),
    {
      id: "check-cloud-settings",
      description: `Check that pra-cloud names the DR bucket ${t.exportBucket}`,
      tool: "kubectl",
      argv: k("get", "configmap", "pra-cloud", "-o", "jsonpath={.data.EXPORT_BUCKET}"),
      check: expectText(t.exportBucket, "pra-cloud's bucket"),
      standsIfFailed: `${dbReady}; the DR cluster's pra-cloud is missing or names another bucket`,
      figure: call,
      needs: ["cloud-settings", "export-replica"],
    },
    {
      id: "apply-failover",
      description:
        `Apply the failover manifests (the workload with the DR network's ranges and image ${t.image})` +
        (warm ? ": the standby's autoscaler and schedules" : ""),
      tool: "kubectl",
      argv: k("apply", "-f", options.manifestsDir ?? `dist/${config.stack}/failover/`),
      standsIfFailed: `${dbReady}; some failover objects may be applied, the app not yet scaled`,
      figure: call,
      needs: [
        ...n.needs,
        ...(dr.parts.includes("image-replica") ? (["image-replica"] as const) : []),
      ],
    },
    stepKind.refreshSecret(k, n.externalSecret, {
      id: "refresh-secret",
      description: `Ask External Secrets to read the secret again now (externalsecret/${n.externalSecret})`,
      standsIfFailed: `${dbReady}; the Kubernetes Secret may still name the primary's host`,
      needs: ["external-secrets"],
    }),
    stepKind.waitSecret(k, n.externalSecret, timeout, {
      id: "wait-secret",
      description: `Wait until externalsecret/${n.externalSecret} is synced`,
      standsIfFailed: `${dbReady}; the Kubernetes Secret may still name the primary's host`,
      onFailure: `kubectl --context ${dr.drContext} -n ${n.namespace} describe externalsecret ${n.externalSecret}`,
      needs: ["external-secrets"],
    }),
    {
      id: "scale-app",
      description: `Scale ${deployment} to ${n.replicas}`,
      tool: "kubectl",
      argv: k("scale", deployment, `--replicas=${n.replicas}`),
      standsIfFailed: `${dbReady}; the app is not scaled up`,
      figure: call,
      needs: [],
    },
    ...n.cronJobs.map(
      (cronJob): FailoverStep => ({
        id: `resume-${cronJob}`,
        description: `Resume cronjob/${cronJob}`,
        tool: "kubectl",
        argv: k(
          "patch",
          `cronjob/${cronJob}`,
          "--type=merge",
          "-p",
          JSON.stringify({ spec: { suspend: false } }),
        ),
        standsIfFailed: `the app is starting in ${t.drRegion}; cronjob/${cronJob} is still suspended`,
        figure: call,
        needs: [],
      }),
    ),
    stepKind.waitApp(k, deployment, timeout, {
      id: "wait-app",
      description: `Wait for ${deployment} to be ready`,
      standsIfFailed:
        `STARTING BUT NOT READY: ${deployment} is scaled to ${n.replicas} in ${t.drRegion}; ` +
        stillPrimary,
      onFailure: [
        `kubectl --context ${dr.drContext} -n ${n.namespace} get pods`,
        `kubectl --context ${dr.drContext} -n ${n.namespace} describe ${deployment}`,
      ].join("\n"),
      needs: [],
    }),
    stepKind.readLoadBalancer(k, n.ingress, "DR load balancer", {
      id: "read-load-balancer",
      description: `Read the DR load balancer's name from ingress/${n.ingress}`,
      standsIfFailed: `${standing}; ${stillPrimary}`,
      onFailure:
        "The Load Balancer Controller has not provisioned the ALB yet: describe the Ingress",
      needs: ["load-balancer-controller"],
    }),
    stepKind.switchName(t, {
      id: "switch-name",
      description: `Point ${t.serviceName.record} at the DR load balancer $LB_HOST`,
      standsIfFailed: `${standing}; ${stillPrimary}`,
      needs: ["service-name"],
    }),
    stepKind.waitName({
      id: "wait-name",
      description: `Wait until Route 53 has the new record everywhere`,
      standsIfFailed: `${standing}; the name is switching (${t.serviceName.ttl}s TTL)`,
      needs: ["service-name"],
    }),
  ];
  return [
    ...checks,
    ...database,
    ...(warm
      ? [
          {
            id: "multi-az",
            description: `Make ${db.drIdentifier} Multi-AZ (in the background; it serves meanwhile)`,
            tool: "aws" as const,
            argv: aws(
              "rds",
              "modify-db-instance",
              "--db-instance-identifier",
              db.drIdentifier,
              "--multi-az",
              "--apply-immediately",
            ),
            standsIfFailed:
              `the database ${db.drIdentifier} serves writes in ${t.drRegion}, in one zone only; ` +
              stillPrimary,
            figure: none,
            needs: [],
          },
        ]
      : []),
    ...secret,
    ...workload,
    ...verify(t, n, options, `${standing} behind ${t.serviceName.record}`),
  ];
}

function failback(
  config: TargetConfig,
  t: FailoverTargets,
  n: WorkloadNames,
  dr: DrDesign,
  options: FailoverOptions,
): FailoverStep[] {
  const { awsIn, kubectlIn, timeout, call, none } = common(config, n, dr);
  const inDr = awsIn(t.drRegion);
  const inPrimary = awsIn(t.region);
  const drK = kubectlIn(dr.drContext);
  const primaryContext = `pra-${config.stack}`;
  const k = kubectlIn(primaryContext);
  const db = t.database;
  const p = t.primary;
  const primaryId = db.primaryIdentifier;
  const aside = `${primaryId}-before-failback`;
  const deployment = `deployment/${n.deployment}`;
  const servingDr = `SERVING from ${t.drRegion} (${db.drIdentifier}); the primary region is not in use`;
  const down = `DOWN: the app is at zero in ${t.drRegion} and not yet serving in ${t.region}`;
  const stillNamesDr = `the app serves in ${t.region}, but ${t.serviceName.record} still names the DR load balancer`;
  const restore = rdsRestore(config.database.allocatedStorageGb);

  return [
    {
      id: "check-primary-cluster",
      description: `Check that the primary cluster ${p.clusterName} is active again`,
      tool: "aws",
      argv: inPrimary(
        "eks",
        "describe-cluster",
        "--name",
        p.clusterName,
        "--query",
        "cluster.status",
        "--output",
        "text",
      ),
      check: expectText("ACTIVE", "primary cluster"),
      standsIfFailed: servingDr,
      figure: call,
      needs: [],
    },
    {
      id: "rename-stale-primary",
      description:
        `Rename the stale primary ${primaryId} to ${aside} (kept, deletion-protected, for what it ` +
        "held after the last replication)",
      tool: "aws",
      argv: inPrimary(
        "rds",
        "modify-db-instance",
        "--db-instance-identifier",
        primaryId,
        "--new-db-instance-identifier",
        aside,
        "--apply-immediately",
      ),
      standsIfFailed: servingDr,
      onFailure: `No instance ${primaryId} (lost with the region) is fine: go on from the next step`,
      figure: call,
      needs: [],
    },
    {
      id: "wait-renamed",
      description: `Wait until ${aside} is available under its new name`,
      tool: "aws",
      argv: inPrimary("rds", "wait", "db-instance-available", "--db-instance-identifier", aside),
      standsIfFailed: servingDr,
      figure: figure(5 * 60, "estimate (a rename restarts no engine)"),
      needs: [],
    },
    {
      id: "reseed-primary",
      description:
        `Re-seed the primary region: a cross-region read replica of ${db.drIdentifier}, named ${primaryId}, ` +
        "in the primary's subnets, security group, parameters and key",
      tool: "aws",
      argv: inPrimary(
        "rds",
        "create-db-instance-read-replica",
        "--db-instance-identifier",
        primaryId,
        "--source-db-instance-identifier",
        `arn:aws:rds:${t.drRegion}:${accountOf(p.kmsKeyArn)}:db:${db.drIdentifier}`,
        "--source-region",
        t.drRegion,
        "--db-instance-class",
        db.instanceClass,
        "--kms-key-id",
        p.kmsKeyArn,
        "--db-subnet-group-name",
        p.subnetGroupName,
        "--db-parameter-group-name",
        p.parameterGroupName,
        "--vpc-security-group-ids",
        p.securityGroupId,
        "--no-publicly-accessible",
      ),
      standsIfFailed: servingDr,
      figure: call,
      needs: [],
    },
    {
      id: "wait-reseed",
      description: `Wait until the replica ${primaryId} is available (it copies the whole database)`,
      tool: "aws",
      argv: inPrimary(
        "rds",
        "wait",
        "db-instance-available",
        "--db-instance-identifier",
        primaryId,
      ),
      standsIfFailed: `${servingDr}; the replica ${primaryId} is being created`,
      figure: restore,
      needs: [],
    },
    {
      id: "kubeconfig-dr",
      description: `Add the DR cluster as context ${dr.drContext}`,
      tool: "aws",
      argv: inDr("eks", "update-kubeconfig", "--name", t.drCluster.name, "--alias", dr.drContext),
      standsIfFailed: servingDr,
      figure: call,
      needs: [],
    },
    {
      id: "stop-dr-writes",
      description: `The switch window starts: scale the DR ${deployment} to zero`,
      tool: "kubectl",
      argv: drK("scale", deployment, "--replicas=0"),
      standsIfFailed: `${servingDr}; it may be scaling down`,
      figure: call,
      needs: [],
    },
    ...n.cronJobs.map(
      (cronJob): FailoverStep => ({
        id: `suspend-dr-${cronJob}`,
        description: `Suspend the DR cronjob/${cronJob}`,
        tool: "kubectl",
        argv: drK(
          "patch",
          `cronjob/${cronJob}`,
          "--type=merge",
          "-p",
          JSON.stringify({ spec: { suspend: true } }),
        ),
        standsIfFailed: down,
        figure: call,
        needs: [],
      }),
    ),
    {
      id: "wait-dr-gone",
      description: "Wait until the DR app's pods are gone: no write after this point",
      tool: "kubectl",
      argv: drK("wait", "--for=delete", "pod", "-l", n.selector, timeout),
      succeedsOnStderr: /no matching resources found/,
      standsIfFailed: `${down}; a DR pod may still be terminating`,
      figure: POD_START,
      needs: [],
    },
    {
      id: "promote-primary",
      description: `Promote ${primaryId} (it has every write: the DR app is stopped)`,
      tool: "aws",
      argv: inPrimary(
        "rds",
        "promote-read-replica",
        "--db-instance-identifier",
        primaryId,
        "--backup-retention-period",
        String(db.backupRetentionDays),
      ),
      standsIfFailed: `${down}. To go back: scale the DR app up again; ${db.drIdentifier} is untouched`,
      figure: call,
      needs: [],
    },
    {
      id: "wait-primary",
      description: `Wait until ${primaryId} is writable`,
      tool: "aws",
      argv: inPrimary(
        "rds",
        "wait",
        "db-instance-available",
        "--db-instance-identifier",
        primaryId,
      ),
      standsIfFailed: down,
      figure: RDS_REPLICA_PROMOTION,
      needs: [],
    },
    {
      id: "primary-multi-az",
      description: `Make ${primaryId} Multi-AZ again (in the background)`,
      tool: "aws",
      argv: inPrimary(
        "rds",
        "modify-db-instance",
        "--db-instance-identifier",
        primaryId,
        "--multi-az",
        "--apply-immediately",
      ),
      standsIfFailed: down,
      figure: none,
      needs: [],
    },
    stepKind.readDatabaseHost(inPrimary, primaryId, {
      id: "read-primary-host",
      description: `Read the address of ${primaryId}`,
      standsIfFailed: down,
      needs: [],
    }),
    stepKind.readSecret(inPrimary, p.secretArn, {
      id: "read-primary-secret",
      description: `Read the secret ${t.secret.name} in ${t.region} (never printed)`,
      standsIfFailed: down,
      needs: [],
    }),
    stepKind.pointSecret(inPrimary, p.secretArn, t.region, {
      id: "point-primary-secret",
      description: "Write it back with host $DB_HOST, every other field unchanged",
      standsIfFailed: down,
      needs: [],
    }),
    {
      id: "kubeconfig-primary",
      description: `Add the primary cluster as context ${primaryContext}`,
      tool: "aws",
      argv: inPrimary(
        "eks",
        "update-kubeconfig",
        "--name",
        p.clusterName,
        "--alias",
        primaryContext,
      ),
      standsIfFailed: down,
      figure: call,
      needs: [],
    },
    stepKind.refreshSecret(k, n.externalSecret, {
      id: "refresh-primary-secret",
      description: `Ask External Secrets in the primary cluster to read the secret again now`,
      standsIfFailed: down,
      needs: [],
    }),
    stepKind.waitSecret(k, n.externalSecret, timeout, {
      id: "wait-primary-secret",
      description: `Wait until externalsecret/${n.externalSecret} is synced`,
      standsIfFailed: down,
      needs: [],
    }),
    {
      id: "restart-primary-app",
      description: `Restart the primary ${deployment} on the new secret`,
      tool: "kubectl",
      argv: k("rollout", "restart", deployment),
      standsIfFailed: down,
      figure: call,
      needs: [],
    },
    stepKind.waitApp(k, deployment, timeout, {
      id: "wait-primary-app",
      description: `Wait for the primary ${deployment} to be ready`,
      standsIfFailed: `${down}; the primary app is starting`,
      needs: [],
    }),
    stepKind.readLoadBalancer(k, n.ingress, "primary load balancer", {
      id: "read-primary-load-balancer",
      description: `Read the primary load balancer's name from ingress/${n.ingress}`,
      standsIfFailed: stillNamesDr,
      needs: [],
    }),
    stepKind.switchName(t, {
      id: "switch-name-back",
      description: `Point ${t.serviceName.record} back at the primary load balancer $LB_HOST`,
      standsIfFailed: stillNamesDr,
      needs: [],
    }),
    stepKind.waitName({
      id: "wait-name-back",
      description: "Wait until Route 53 has the record everywhere",
      standsIfFailed: `the app serves in ${t.region}; the name is switching`,
      needs: [],
    }),
    ...verify(t, n, options, `the app serves in ${t.region} behind ${t.serviceName.record}`),
  ];
}

/** The account id in an ARN. */
function accountOf(arn: string): string {
  const account = arn.split(":")[4];
  if (account === undefined || !/^\d{12}$/.test(account))
    throw new Error(`${arn} names no account`);
  return account;
}

/** What a person does once the failback is done, to bring the stack back to its declared state. */
export function afterFailback(config: TargetConfig, t: FailoverTargets): string[] {
  const db = t.database;
  return [
    `The DR instance ${db.drIdentifier} is standalone: rename it aside (modify-db-instance ` +
      `--new-db-instance-identifier ${db.drIdentifier}-after-failback) so that pulumi up can create ` +
      "the replica again",
    `The secret's DR copy is standalone: delete it in ${t.drRegion} ` +
      "(aws secretsmanager delete-secret --force-delete-without-recovery) so that pulumi up replicates it again",
    `Then pulumi up --stack ${config.stack}: it recreates what the stack declares in ${t.drRegion} ` +
      "(the replica, the secret's replica, the standby at zero)",
  ];
}

/** The RTO the failover's own steps add up to, with each step's contribution. */
export function failoverSeconds(steps: readonly FailoverStep[]): number {
  return steps.reduce((total, step) => total + step.figure.seconds, 0);
}

/** Parts the steps need that the DR design does not declare: each is named in the model's message. */
export function missingParts(
  steps: readonly FailoverStep[],
  declared: readonly DrPart[],
): DrPart[] {
  const needed = new Set(steps.flatMap((step) => step.needs));
  return [...needed].filter((part) => !declared.includes(part));
}

export function describeMissing(parts: readonly DrPart[]): string {
  return parts.map((part) => `${part} (${DR_PART_TITLES[part]})`).join(", ");
}

/**
 * The targets the model builds the steps with when no outputs exist (the DR report, npm run
 * check): the names the stack derives, and "(output)" for those only a deployment knows. The model
 * reads the steps' figures and needs, never their commands.
 */
export function modelTargets(config: TargetConfig): FailoverTargets {
  const names = cloudNames(config.stack);
  const dr = drDesignOf(config);
  const design = describeTargetDesign(config);
  const output = "(output)";
  const warm = config.dr.strategy === "warm-standby";
  return {
    stack: config.stack,
    region: config.region,
    drRegion: config.dr.region,
    strategy: config.dr.strategy,
    parts: [...dr.parts],
    drCluster: {
      name: names.drClusterName,
      nodeGroups: design.cluster.drNodesPerZone.map((size) => ({ name: output, ...size })),
    },
    database: {
      primaryIdentifier: names.databaseIdentifier,
      drIdentifier: warm
        ? `${names.databaseIdentifier}-dr`
        : `${names.databaseIdentifier}-restored`,
      automatedBackupsArn: output,
      subnetGroupName: output,
      securityGroupId: output,
      parameterGroupName: output,
      kmsKeyArn: output,
      instanceClass: config.database.instanceClass,
      backupRetentionDays: config.database.backupRetentionDays,
    },
    primary: {
      clusterName: names.clusterName,
      subnetGroupName: output,
      securityGroupId: output,
      parameterGroupName: output,
      kmsKeyArn: "arn:aws:kms:region:000000000000:key/(output)",
      secretArn: output,
    },
    secret: { name: names.databaseSecretName, drArn: output },
    exportBucket: output,
    appRoleArn: output,
    serviceName: { zoneId: output, record: dr.serviceName.record, ttl: dr.serviceName.ttl },
    image: dr.image,
  };
}

/** One line per step for documents: what it does and what it counts for. */
export function stepSummary(step: FailoverStep): string {
  return `${step.description} (${formatDuration(step.figure.seconds)})`;
}

export { shellLine };
