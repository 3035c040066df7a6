/**
 * The committed stacks under mocks: the cloud side of staging and of prod's warm standby, and
 * `pulumi up` deploying exactly what `cdk8s synth` writes: for each committed stack, evaluated once
 * under mocks, the objects created through ChartDeployment are compared with the files
 * synthStack writes (read back and parsed), and the order, providers, add-ons and the
 * `pra-cloud` ConfigMap are checked through what the SDK sends the engine (parents, dependencies).
 */
import { z } from "zod";
import { isManifest } from "../../charts/manifest";
import { cloudNames, type PraConfig, parseStackConfig, stackFileName } from "../../config";
import { ADDON_CHARTS } from "../../infra/kubernetes/addon-charts";
import { isCustomResource, type Manifest } from "../../infra/kubernetes/deployment-plan";
import { typeToken } from "../../infra/kubernetes/kubernetes-object";
import {
  customerKey,
  doc,
  expectRotatingKeyIn,
  inputOf,
  kubeconfigOf,
  providerRegion,
  shapes,
  stateOf,
  zoneOfSubnet,
} from "./assertions";
import {
  ACCOUNT_ID,
  type Evaluation,
  evaluateProgram,
  pulumiConfigOf,
  type RecordedResource,
} from "./harness";
import { keyOf, type SynthesizedStack, synthesized } from "./synthesized";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const PRIMARY = "eu-west-3";
const DR = "eu-central-1";
const KUBE_CONTEXT = "k3d-pra";

interface StackRun {
  readonly config: PraConfig;
  readonly run: Evaluation;
  readonly files: SynthesizedStack;
}

/** Evaluates the program once, and synthesizes the same settings into files to compare with. */
async function evaluate(stack: string, overrides: Record<string, string> = {}): Promise<StackRun> {
  const values = pulumiConfigOf(stack, overrides);
  const config = parseStackConfig({ stack, file: stackFileName(stack), values });
  const run = await evaluateProgram(stack, values);
  return { config, run, files: synthesized(config, ACCOUNT_ID) };
}

const evaluations = new Map<string, Promise<StackRun>>();

/**
 * The committed target stacks, each evaluated once for this whole file (a program evaluation
 * is the slowest part of the suite): the chart deployment and the cloud tests share them.
 */
function evaluateOnce(stack: string): Promise<StackRun> {
  let evaluation = evaluations.get(stack);
  if (!evaluation) {
    evaluation = evaluate(stack);
    evaluations.set(stack, evaluation);
  }
  return evaluation;
}

/**
 * What the DR region's cluster holds (infra/kubernetes/dr-workloads.ts, named `pra-dr-*`), and the
 * primary Ingress read back for the service's name: test/dr/failover-readiness.test.ts checks them.
 */
const isPrimaryCluster = (r: RecordedResource) =>
  !r.name.startsWith("pra-dr-") && r.name !== "pra-primary-ingress";

/** The objects created through the stack's (primary cluster's) ChartDeployment (its children). */
function deployedObjects(run: Evaluation): RecordedResource[] {
  const [component, ...others] = run.mocks
    .ofType("pra:kubernetes:ChartDeployment")
    .filter(isPrimaryCluster);
  expect(others).toEqual([]);
  return run.mocks.resources.filter((resource) => resource.parent === component!.urn);
}

const kubernetesObjects = (run: Evaluation) =>
  run.mocks.resources.filter(
    (r) => r.type.startsWith("kubernetes:") && r.type !== RELEASE && isPrimaryCluster(r),
  );
const releasesOf = (run: Evaluation) => run.mocks.ofType(RELEASE).filter(isPrimaryCluster);

const urnsOf = (resources: readonly RecordedResource[]) => resources.map((r) => r.urn);

/** A deployed object's inputs, checked to be a Kubernetes object. */
function manifestOf(resource: RecordedResource): Manifest {
  if (!isManifest(resource.inputs)) {
    throw new Error(`${resource.urn}: inputs are not a Kubernetes object`);
  }
  return resource.inputs;
}

/** Assertions every stack shares: the deployed objects are the synthesized files, in order. */
function expectChartsDeployed(current: () => StackRun): void {
  test("deploys exactly the objects cdk8s synth writes into dist/<stack>/, whole", () => {
    const { run, files } = current();
    const deployed = new Map(deployedObjects(run).map((r) => [keyOf(manifestOf(r)), r]));
    expect([...deployed.keys()].sort()).toEqual(files.synced.map(keyOf).sort());
    for (const manifest of files.synced) {
      const resource = deployed.get(keyOf(manifest))!;
      expect(resource.type).toBe(typeToken(manifest.apiVersion, manifest.kind));
      expect(resource.inputs).toEqual(manifest);
    }
  });

  test("deploys nothing from ops/: no Job, no restore", () => {
    const { run, files } = current();
    const keys = new Set(kubernetesObjects(run).map((r) => keyOf(manifestOf(r))));
    for (const manifest of files.ops) expect(keys.has(keyOf(manifest))).toBe(false);
    expect(run.mocks.ofType("kubernetes:batch/v1:Job")).toEqual([]);
    expect(
      [...keys].filter((key) => key.includes("sqlite-restore/") || key.endsWith("/sqlite-restore")),
    ).toEqual([]);
  });

  test("creates the namespace before every object in it", () => {
    const { run, config } = current();
    const objects = deployedObjects(run);
    const namespace = objects.find((r) => r.type === "kubernetes:core/v1:Namespace")!;
    expect(namespace.inputs.metadata).toMatchObject({ name: config.namespace });
    expect(namespace.dependencies).toEqual([]);
    for (const object of objects.filter((r) => r !== namespace)) {
      expect(manifestOf(object).metadata.namespace).toBe(config.namespace);
      expect(object.dependencies).toContain(namespace.urn);
    }
  });

  test("custom resources wait for every add-on release", () => {
    const { run } = current();
    const releases = urnsOf(releasesOf(run));
    const custom = deployedObjects(run).filter((r) => isCustomResource(manifestOf(r)));
    if (current().config.monitoring) expect(custom.length).toBeGreaterThan(0);
    for (const object of custom)
      expect(object.dependencies).toEqual(expect.arrayContaining(releases));
  });
}

function expectRelease(
  release: RecordedResource,
  chart: (typeof ADDON_CHARTS)[keyof typeof ADDON_CHARTS],
): void {
  expect(release.inputs).toMatchObject({
    chart: chart.chart,
    version: chart.version,
    repositoryOpts: { repo: chart.repository },
    namespace: chart.namespace,
  });
}

describe("lab (the committed stack file), in the configured kube context", () => {
  let lab: StackRun;
  beforeAll(async () => {
    lab = await evaluate("lab", { "kubernetes:context": KUBE_CONTEXT });
  });
  expectChartsDeployed(() => lab);

  test("every object and release goes through a kubernetes provider for the configured context", () => {
    expect(lab.run.mocks.ofType("pulumi:providers:kubernetes")).toHaveLength(1);
    for (const resource of [...kubernetesObjects(lab.run), ...lab.run.mocks.ofType(RELEASE)]) {
      expect(lab.run.mocks.providerOf(resource)!.inputs.context).toBe(KUBE_CONTEXT);
    }
  });

  test("declares no AWS resource, and a Helm release only for monitoring: the pinned Prometheus stack", () => {
    expect(
      lab.run.mocks.resources.filter((r) => /^(aws:|pulumi:providers:aws)/.test(r.type)),
    ).toEqual([]);
    expect(lab.run.mocks.calls).toEqual([]);
    const releases = lab.run.mocks.ofType(RELEASE);
    expect(releases).toHaveLength(lab.config.monitoring ? 1 : 0);
    if (releases[0]) expectRelease(releases[0], ADDON_CHARTS.prometheusStack);
  });

  test("the Prometheus stack's values synth writes for GitOps are exactly the release's", () => {
    const release = lab.run.mocks.one(RELEASE, "pra-addons-prometheus-stack");
    expect(lab.files.prometheusStackValues).toBeDefined();
    expect(release.inputs.values).toEqual(lab.files.prometheusStackValues);
  });

  test("Alertmanager sends the lab's alerts to pra:alertWebhookUrl", () => {
    if (lab.config.topology !== "lab") throw new Error("the lab stack is a lab");
    const release = lab.run.mocks.one(RELEASE, "pra-addons-prometheus-stack");
    const values = inputOf(
      release,
      "values",
      z.looseObject({
        alertmanager: z.looseObject({ config: z.looseObject({ receivers: z.array(z.unknown()) }) }),
      }),
    );
    expect(values.alertmanager.config.receivers).toContainEqual({
      name: "pra-lab",
      webhook_configs: [{ url: lab.config.alerts.webhookUrl, send_resolved: true }],
    });
  });
});

describe("lab with monitoring off", () => {
  let lab: StackRun;
  beforeAll(async () => {
    // Without alerts nobody starts a restore, so the objectives can only be declared for the
    // failures that recover on their own (dr/ refuses the rest).
    lab = await evaluate("lab", {
      "kubernetes:context": KUBE_CONTEXT,
      "pra:monitoring": "false",
      "pra:drScenarios": JSON.stringify(["pod-crash", "backup-volume-loss"]),
    });
  });
  expectChartsDeployed(() => lab);

  test("installs no Helm release and no monitoring object, and nothing on AWS", () => {
    expect(lab.config.monitoring).toBe(false);
    expect(lab.run.mocks.ofType(RELEASE)).toEqual([]);
    expect(lab.run.mocks.ofType("pra:kubernetes:PlatformAddons")).toEqual([]);
    expect(kubernetesObjects(lab.run).filter((r) => isCustomResource(manifestOf(r)))).toEqual([]);
    expect(
      lab.run.mocks.resources.filter((r) => /^(aws:|pulumi:providers:aws)/.test(r.type)),
    ).toEqual([]);
  });
});

describe.each(["prod", "staging"])("target stack %s", (stack) => {
  let target: StackRun;
  const mocks = () => target.run.mocks;
  beforeAll(async () => {
    target = await evaluateOnce(stack);
  });
  expectChartsDeployed(() => target);

  const eksProvider = () => mocks().one("pulumi:providers:kubernetes", "pra-cluster-k8s");
  const release = (name: string) => mocks().one(RELEASE, `pra-addons-${name}`);
  const association = (serviceAccount: string) =>
    mocks()
      .ofType("aws:eks/podIdentityAssociation:PodIdentityAssociation")
      .find((a) => a.inputs.serviceAccount === serviceAccount && !a.name.includes("-dr-"))!;

  test("every object and release goes through the EKS cluster's provider, built from its kubeconfig", () => {
    const provider = eksProvider();
    const cluster = mocks().one("aws:eks/cluster:Cluster", "pra-cluster-eks");
    const kubeconfig = kubeconfigOf(provider.inputs.kubeconfig);
    expect(kubeconfig.clusters[0]?.cluster.server).toBe(cluster.state.endpoint);
    expect(kubeconfig["current-context"]).toBe(cluster.state.name);
    // The DR cluster's provider (its StorageClass) is not where the charts go.
    const workloads = mocks().resources.filter(
      (r) =>
        r.type.startsWith("kubernetes:") &&
        !r.type.startsWith("kubernetes:storage.k8s.io/") &&
        !r.name.startsWith("pra-dr-"),
    );
    expect(workloads.length).toBeGreaterThan(deployedObjects(target.run).length);
    for (const resource of workloads) expect(mocks().providerOf(resource)).toBe(provider);
  });

  test("the Prometheus stack's values synth writes for GitOps are the release's (account id filled in)", () => {
    expect(target.files.prometheusStackValues).toBeDefined();
    expect(release("prometheus-stack").inputs.values).toEqual(target.files.prometheusStackValues);
  });

  test("installs the five add-ons at their pinned chart versions", () => {
    expect(releasesOf(target.run)).toHaveLength(5);
    expectRelease(release("cluster-autoscaler"), ADDON_CHARTS.clusterAutoscaler);
    expectRelease(release("metrics-server"), ADDON_CHARTS.metricsServer);
    expectRelease(release("external-secrets"), ADDON_CHARTS.externalSecrets);
    expectRelease(release("prometheus-stack"), ADDON_CHARTS.prometheusStack);
    expectRelease(release("load-balancer-controller"), ADDON_CHARTS.loadBalancerController);
    const values = inputOf(release("load-balancer-controller"), "values", shapes.object);
    expect(values).toMatchObject({
      clusterName: mocks().one("aws:eks/cluster:Cluster", "pra-cluster-eks").state.name,
      region: target.run.outputs.region!.value,
      vpcId: mocks()
        .ofType("aws:ec2/vpc:Vpc")
        .find((v) => v.region === target.run.outputs.region!.value)!.id,
      serviceAccount: { create: true, name: "aws-load-balancer-controller" },
    });
  });

  test("the controllers start after their Pod Identity association, the app's objects after its commands'", () => {
    expect(release("external-secrets").dependencies).toContain(association("external-secrets").urn);
    expect(release("load-balancer-controller").dependencies).toContain(
      association("aws-load-balancer-controller").urn,
    );
    for (const object of deployedObjects(target.run).filter(
      (r) => r.type !== "kubernetes:core/v1:Namespace",
    )) {
      for (const account of ["pra-app", "pra-export", "pra-restore-test"])
        expect(object.dependencies).toContain(association(account).urn);
    }
  });

  test("Cluster Autoscaler finds this cluster's node groups by tag and resizes only them, as its own identity", () => {
    const clusterName = mocks().one("aws:eks/cluster:Cluster", "pra-cluster-eks").state.name;
    const values = inputOf(release("cluster-autoscaler"), "values", shapes.object);
    expect(values).toMatchObject({
      cloudProvider: "aws",
      awsRegion: target.run.outputs.region!.value,
      autoDiscovery: { clusterName },
      rbac: { serviceAccount: { create: true, name: "cluster-autoscaler" } },
      extraArgs: { "balance-similar-node-groups": true },
    });
    const podIdentity = association("cluster-autoscaler");
    expect(podIdentity.inputs.namespace).toBe("kube-system");
    expect(release("cluster-autoscaler").dependencies).toContain(podIdentity.urn);
    const policy = mocks()
      .ofType("aws:iam/rolePolicy:RolePolicy")
      .find((p) => p.inputs.role === mocks().byIdOrArn(podIdentity.inputs.roleArn)!.id)!;
    const statements = doc(policy.inputs.policy).Statement;
    const writes = statements.filter((s) =>
      [s.Action].flat().some((a) => a === "autoscaling:SetDesiredCapacity"),
    );
    expect(writes).toEqual([
      {
        Effect: "Allow",
        Action: [
          "autoscaling:SetDesiredCapacity",
          "autoscaling:TerminateInstanceInAutoScalingGroup",
        ],
        Resource: "*",
        Condition: {
          StringEquals: {
            [`aws:ResourceTag/k8s.io/cluster-autoscaler/${String(clusterName)}`]: "owned",
          },
        },
      },
    ]);
    // Everything else it may do is read-only.
    for (const statement of statements.filter((s) => !writes.includes(s)))
      for (const action of [statement.Action].flat())
        expect(String(action)).toMatch(/:(Describe|Get)/);
  });

  test("Alertmanager pages through the alarm topic, with a role that may only publish there", () => {
    const topicArn = target.run.outputs.alarmTopicArn!.value;
    const values = inputOf(
      release("prometheus-stack"),
      "values",
      z.looseObject({
        alertmanager: z.looseObject({
          serviceAccount: z.unknown(),
          config: z.looseObject({ receivers: z.array(z.unknown()) }),
        }),
        prometheus: z.looseObject({ prometheusSpec: shapes.object }),
      }),
    );
    expect(values.alertmanager.serviceAccount).toEqual({ create: true, name: "alertmanager" });
    expect(values.alertmanager.config.receivers).toContainEqual({
      name: `pra-${stack}`,
      sns_configs: [
        expect.objectContaining({
          topic_arn: topicArn,
          sigv4: { region: target.run.outputs.region!.value },
        }),
      ],
    });
    expect(values.prometheus.prometheusSpec).toMatchObject({
      scrapeInterval: "30s",
      evaluationInterval: "30s",
    });
    // Its Pod Identity exists before Alertmanager starts, in the monitoring namespace.
    const alertmanager = association("alertmanager");
    expect(alertmanager.inputs.namespace).toBe(ADDON_CHARTS.prometheusStack.namespace);
    expect(release("prometheus-stack").dependencies).toContain(alertmanager.urn);
    const policy = mocks()
      .ofType("aws:iam/rolePolicy:RolePolicy")
      .find((p) => p.inputs.role === mocks().byIdOrArn(alertmanager.inputs.roleArn)!.id)!;
    const topic = mocks()
      .ofType("aws:sns/topic:Topic")
      .find((t) => t.state.arn === topicArn)!;
    // The name the GitOps copy of the configuration builds its ARN from (alarmTopicArn()).
    expect(topic.state.name).toBe(cloudNames(stack).alarmTopic);
    expect(doc(policy.inputs.policy).Statement).toEqual([
      { Sid: "PublishAlerts", Effect: "Allow", Action: "sns:Publish", Resource: topicArn },
      {
        Sid: "UseAlarmTopicKey",
        Effect: "Allow",
        Action: ["kms:GenerateDataKey", "kms:Decrypt"],
        Resource: topic.inputs.kmsMasterKeyId,
      },
    ]);
  });

  test("the ExternalSecret waits for the ClusterSecretStore, which waits for External Secrets", () => {
    const store = mocks().one(
      "kubernetes:external-secrets.io/v1:ClusterSecretStore",
      "pra-addons-cluster-secret-store",
    );
    expect(store.inputs).toMatchObject({
      metadata: { name: "aws-secrets-manager" },
      spec: {
        provider: { aws: { service: "SecretsManager", region: target.run.outputs.region!.value } },
      },
    });
    expect(store.dependencies).toContain(release("external-secrets").urn);
    const externalSecret = deployedObjects(target.run).find((r) =>
      r.type.endsWith(":ExternalSecret"),
    )!;
    expect(externalSecret.dependencies).toContain(store.urn);
  });

  test("the Service and the Ingress wait for the Load Balancer Controller's webhooks", () => {
    for (const kind of ["kubernetes:core/v1:Service", "kubernetes:networking.k8s.io/v1:Ingress"]) {
      const [object] = deployedObjects(target.run).filter((r) => r.type === kind);
      expect(object!.dependencies).toContain(release("load-balancer-controller").urn);
    }
  });

  test("pra-cloud holds the real bucket name, KMS key ARN and region, after the namespace", () => {
    const configMap = mocks().one("kubernetes:core/v1:ConfigMap", "pra-cloud-settings");
    const bucket = mocks()
      .ofType("aws:s3/bucket:Bucket")
      .find((b) => b.region === target.run.outputs.region!.value)!;
    expect(configMap.inputs.metadata).toEqual({
      name: "pra-cloud",
      namespace: target.config.namespace,
    });
    expect(configMap.inputs.data).toEqual({
      EXPORT_BUCKET: bucket.state.bucket,
      EXPORT_PREFIX: "exports/",
      EXPORT_KMS_KEY_ID: target.run.outputs.exportBucketKeyArn!.value,
      AWS_REGION: target.run.outputs.region!.value,
    });
    expect(String(bucket.state.bucket)).toContain(ACCOUNT_ID);
    expect(
      customerKey(mocks(), inputOf(configMap, "data", shapes.stringMap).EXPORT_KMS_KEY_ID).region,
    ).toBe(target.run.outputs.region!.value);
    const namespace = deployedObjects(target.run).find(
      (r) => r.type === "kubernetes:core/v1:Namespace",
    )!;
    expect(configMap.dependencies).toContain(namespace.urn);
    expect(mocks().providerOf(configMap)).toBe(eksProvider());
  });

  test("the Load Balancer Controller's role: Pod Identity, this cluster's resources only, no wildcard write", () => {
    const lbc = association("aws-load-balancer-controller");
    expect(lbc.inputs.namespace).toBe("kube-system");
    const role = mocks().byIdOrArn(lbc.inputs.roleArn)!;
    expect(doc(role.inputs.assumeRolePolicy).Statement[0]!.Principal).toEqual({
      Service: "pods.eks.amazonaws.com",
    });
    const policy = mocks()
      .ofType("aws:iam/rolePolicy:RolePolicy")
      .find((p) => p.inputs.role === role.id)!;
    const clusterName = String(
      mocks().one("aws:eks/cluster:Cluster", "pra-cluster-eks").state.name,
    );
    const region = String(target.run.outputs.region!.value);
    for (const statement of doc(policy.inputs.policy).Statement) {
      const actions = shapes.strings.parse([statement.Action].flat());
      expect(actions).not.toContain("*");
      // Reads: EC2 and ELB descriptions, and ACM's certificate listing (discovery by host).
      const writes = actions.filter(
        (a) => !/^(ec2|elasticloadbalancing):(Describe|Get)|^acm:(Describe|List)/.test(a),
      );
      if (writes.length === 0 || statement.Sid === "ElbServiceLinkedRole") continue;
      for (const resource of shapes.strings.parse([statement.Resource].flat())) {
        expect(resource).toContain(`:${region}:${ACCOUNT_ID}:`);
      }
      const condition = JSON.stringify(statement.Condition ?? {});
      if (
        /Create(LoadBalancer|TargetGroup)|Delete(LoadBalancer|TargetGroup|SecurityGroup)/.test(
          actions.join(),
        )
      ) {
        expect(condition).toContain(clusterName);
      }
    }
  });
});

describe("staging", () => {
  let run: Evaluation;
  beforeAll(async () => {
    run = (await evaluateOnce("staging")).run;
  });

  test("spans 2 zones with one shared NAT gateway that every private subnet routes through", () => {
    const subnets = run.mocks.ofType("aws:ec2/subnet:Subnet").filter((s) => s.region === PRIMARY);
    expect(new Set(subnets.map((s) => s.inputs.availabilityZone))).toEqual(
      new Set(["eu-west-3a", "eu-west-3b"]),
    );
    const nats = run.mocks
      .ofType("aws:ec2/natGateway:NatGateway")
      .filter((n) => n.region === PRIMARY);
    expect(nats).toHaveLength(1);
    const routes = run.mocks
      .ofType("aws:ec2/routeTable:RouteTable")
      .filter((t) => t.region === PRIMARY && t.name.includes("-private-"))
      .map(
        (t) =>
          inputOf(t, "routes", z.array(z.looseObject({ natGatewayId: z.string() })))[0]!
            .natGatewayId,
      );
    expect(routes).toEqual([nats[0]!.id, nats[0]!.id]);
  });

  test("keeps a Multi-AZ database with 3 days of point-in-time recovery, on a smaller class", () => {
    const db = run.mocks.one("aws:rds/instance:Instance", "pra-database-postgres");
    expect(db.inputs).toMatchObject({
      instanceClass: "db.t4g.medium",
      multiAz: true,
      backupRetentionPeriod: 3,
      deletionProtection: true,
      allocatedStorage: 20,
    });
    expectRotatingKeyIn(run.mocks, db.inputs.kmsKeyId, PRIMARY);
  });

  test("runs Graviton node groups (ARM AMI) in both zones", () => {
    const groups = run.mocks
      .ofType("aws:eks/nodeGroup:NodeGroup")
      .filter((g) => g.region === PRIMARY);
    expect(groups.map((g) => g.inputs.amiType)).toEqual([
      "AL2023_ARM_64_STANDARD",
      "AL2023_ARM_64_STANDARD",
    ]);
    expect(
      new Set(
        groups.map((g) => zoneOfSubnet(run.mocks, inputOf(g, "subnetIds", shapes.strings)[0])),
      ).size,
    ).toBe(2);
  });

  test("backups follow its objectives: hourly snapshots (RPO 1h), 3 days, DR vault locked for 3 days minimum", () => {
    const rule = inputOf(run.mocks.ofType("aws:backup/plan:Plan")[0]!, "rules", shapes.objects)[0]!;
    expect(rule.schedule).toBe("cron(0 * ? * * *)");
    expect(rule.lifecycle).toEqual({ deleteAfter: 3 });
    const lock = run.mocks.ofType("aws:backup/vaultLockConfiguration:VaultLockConfiguration")[0]!;
    expect(lock.region).toBe(DR);
    expect(lock.inputs.minRetentionDays).toBe(3);
  });

  test("has no alarm e-mail subscription when pra:alertEmail is unset", () => {
    expect(run.mocks.ofType("aws:sns/topicSubscription:TopicSubscription")).toEqual([]);
    expect(run.mocks.ofType("aws:sns/topic:Topic")).toHaveLength(2);
  });

  test("derives every physical name from the stack", () => {
    expect(run.outputs.clusterName!.value).toBe("pra-staging");
    expect(run.outputs.databaseSecretName!.value).toBe("pra/staging/database");
    expect(
      run.mocks.one(
        "aws:backup/restoreTestingPlan:RestoreTestingPlan",
        "pra-backup-plan-restore-test",
      ).inputs.name,
    ).toBe("pra_staging_restore_test");
  });
});

describe("warm standby (Pulumi.prod.yaml sets pra:drStrategy: warm-standby)", () => {
  let run: Evaluation;
  beforeAll(async () => {
    run = (await evaluateOnce("prod")).run;
  });

  test("a cross-region read replica of the primary runs in the DR region, encrypted with a DR key", () => {
    const primary = run.mocks.one("aws:rds/instance:Instance", "pra-database-postgres");
    const replica = run.mocks.one("aws:rds/instance:Instance", "pra-dr-region-replica");
    expect(providerRegion(run.mocks, replica)).toBe(DR);
    expect(replica.inputs).toMatchObject({
      replicateSourceDb: primary.state.arn,
      storageEncrypted: true,
      deletionProtection: true,
      backupRetentionPeriod: 14,
      instanceClass: "db.m7g.large",
    });
    expectRotatingKeyIn(run.mocks, replica.inputs.kmsKeyId, DR);
    const params = run.mocks.byIdOrArn(replica.inputs.parameterGroupName)!;
    expect(params.region).toBe(DR);
    expect(params.inputs.parameters).toContainEqual({ name: "rds.force_ssl", value: "1" });
    expect(run.outputs.drDatabaseEndpoint!.value).toBe(replica.state.endpoint);
  });

  test("the replica is reachable only from the DR cluster's nodes", () => {
    const replica = run.mocks.one("aws:rds/instance:Instance", "pra-dr-region-replica");
    const sg = run.mocks.byIdOrArn(inputOf(replica, "vpcSecurityGroupIds", shapes.strings)[0])!;
    const rules = run.mocks
      .ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
      .filter((r) => r.inputs.securityGroupId === sg.id);
    const drCluster = run.mocks.one("aws:eks/cluster:Cluster", "pra-dr-region-cluster-eks");
    expect(rules.map((r) => r.inputs.referencedSecurityGroupId)).toEqual([
      stateOf(drCluster, "vpcConfig", shapes.stringMap).clusterSecurityGroupId,
    ]);
  });

  test("nodes run in every DR zone, each with its own NAT gateway like the primary", () => {
    expect(
      run.mocks.ofType("aws:ec2/natGateway:NatGateway").filter((n) => n.region === DR),
    ).toHaveLength(3);
    const groups = run.mocks.ofType("aws:eks/nodeGroup:NodeGroup").filter((g) => g.region === DR);
    expect(groups.map((g) => g.inputs.scalingConfig)).toEqual(
      Array.from({ length: 3 }, () => ({ minSize: 1, desiredSize: 1, maxSize: 3 })),
    );
  });

  test("replica lag raises an alarm to the DR region's topic, under half the RPO", () => {
    const lag = run.mocks
      .ofType("aws:cloudwatch/metricAlarm:MetricAlarm")
      .filter((a) => a.inputs.metricName === "ReplicaLag");
    expect(lag).toHaveLength(1);
    expect(providerRegion(run.mocks, lag[0]!)).toBe(DR);
    expect(lag[0]!.inputs.dimensions).toEqual({ DBInstanceIdentifier: "pra-prod-dr" });
    expect(lag[0]!.inputs.threshold).toBe(450);
    const drTopic = run.mocks.ofType("aws:sns/topic:Topic").find((t) => t.region === DR)!;
    expect(lag[0]!.inputs.alarmActions).toEqual([drTopic.state.arn]);
  });

  test("automated backups are still replicated, so a corrupted replica can be replaced by a restore", () => {
    const replication = run.mocks.ofType(
      "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication",
    );
    expect(replication.map((r) => r.region)).toEqual([DR]);
  });
});
