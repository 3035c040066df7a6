/**
 * `pulumi up` deploys exactly what `cdk8s synth` writes: for each committed stack, evaluated once
 * under mocks, the objects created through ChartDeployment are compared with the files
 * synthStack writes (read back and parsed), and the order, providers, add-ons and the
 * `pra-cloud` ConfigMap are checked through what the SDK sends the engine (parents, dependencies).
 */
import { type PraConfig, parseStackConfig, stackFileName } from "../../config";
import { ADDON_CHARTS } from "../../infra/kubernetes/addon-charts";
import { isCustomResource, type Manifest } from "../../infra/kubernetes/deployment-plan";
import { typeToken } from "../../infra/kubernetes/kubernetes-object";
import { customerKey, doc } from "./assertions";
import {
  ACCOUNT_ID,
  type Evaluation,
  evaluateProgram,
  pulumiConfigOf,
  type RecordedResource,
} from "./harness";
import { keyOf, type SynthesizedStack, synthesized } from "./synthesized";

const RELEASE = "kubernetes:helm.sh/v3:Release";
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
  return { config, run, files: synthesized(config) };
}

/** The objects created through the stack's ChartDeployment (its children). */
function deployedObjects(run: Evaluation): RecordedResource[] {
  const [component, ...others] = run.mocks.ofType("pra:kubernetes:ChartDeployment");
  expect(others).toEqual([]);
  return run.mocks.resources.filter((resource) => resource.parent === component!.urn);
}

const kubernetesObjects = (run: Evaluation) =>
  run.mocks.resources.filter((r) => r.type.startsWith("kubernetes:") && r.type !== RELEASE);

const urnsOf = (resources: readonly RecordedResource[]) => resources.map((r) => r.urn);

/** Assertions every stack shares: the deployed objects are the synthesized files, in order. */
function expectChartsDeployed(current: () => StackRun): void {
  test("deploys exactly the objects cdk8s synth writes into dist/<stack>/, whole", () => {
    const { run, files } = current();
    const deployed = new Map(deployedObjects(run).map((r) => [keyOf(r.inputs as unknown as Manifest), r]));
    expect([...deployed.keys()].sort()).toEqual(files.synced.map(keyOf).sort());
    for (const manifest of files.synced) {
      const resource = deployed.get(keyOf(manifest))!;
      expect(resource.type).toBe(typeToken(manifest.apiVersion, manifest.kind));
      expect(resource.inputs).toEqual(manifest);
    }
  });

  test("deploys nothing from ops/: no Job, no restore", () => {
    const { run, files } = current();
    const keys = new Set(kubernetesObjects(run).map((r) => keyOf(r.inputs as unknown as Manifest)));
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
      expect((object.inputs.metadata as Manifest["metadata"]).namespace).toBe(config.namespace);
      expect(object.dependencies).toContain(namespace.urn);
    }
  });

  test("custom resources wait for every add-on release", () => {
    const { run } = current();
    const releases = urnsOf(run.mocks.ofType(RELEASE));
    const custom = deployedObjects(run).filter((r) => isCustomResource(r.inputs as unknown as Manifest));
    if (current().config.monitoring) expect(custom.length).toBeGreaterThan(0);
    for (const object of custom) expect(object.dependencies).toEqual(expect.arrayContaining(releases));
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
    expect(lab.run.mocks.resources.filter((r) => /^(aws:|pulumi:providers:aws)/.test(r.type))).toEqual([]);
    expect(lab.run.mocks.calls).toEqual([]);
    const releases = lab.run.mocks.ofType(RELEASE);
    expect(releases).toHaveLength(lab.config.monitoring ? 1 : 0);
    if (releases[0]) expectRelease(releases[0], ADDON_CHARTS.prometheusStack);
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
    expect(
      kubernetesObjects(lab.run).filter((r) => isCustomResource(r.inputs as unknown as Manifest)),
    ).toEqual([]);
    expect(lab.run.mocks.resources.filter((r) => /^(aws:|pulumi:providers:aws)/.test(r.type))).toEqual([]);
  });
});

describe.each(["prod", "staging"])("target stack %s", (stack) => {
  let target: StackRun;
  const mocks = () => target.run.mocks;
  beforeAll(async () => {
    target = await evaluate(stack);
  });
  expectChartsDeployed(() => target);

  const eksProvider = () => mocks().one("pulumi:providers:kubernetes", "pra-cluster-k8s");
  const release = (name: string) => mocks().one(RELEASE, `pra-addons-${name}`);
  const association = (serviceAccount: string) =>
    mocks()
      .ofType("aws:eks/podIdentityAssociation:PodIdentityAssociation")
      .find((a) => a.inputs.serviceAccount === serviceAccount)!;

  test("every object and release goes through the EKS cluster's provider, built from its kubeconfig", () => {
    const provider = eksProvider();
    const cluster = mocks().one("aws:eks/cluster:Cluster", "pra-cluster-eks");
    const kubeconfig = JSON.parse(String(provider.inputs.kubeconfig));
    expect(kubeconfig.clusters[0].cluster.server).toBe(cluster.state.endpoint);
    expect(kubeconfig["current-context"]).toBe(cluster.state.name);
    // The DR cluster's provider (its StorageClass) is not where the charts go.
    const workloads = mocks().resources.filter(
      (r) => r.type.startsWith("kubernetes:") && !r.type.startsWith("kubernetes:storage.k8s.io/"),
    );
    expect(workloads.length).toBeGreaterThan(deployedObjects(target.run).length);
    for (const resource of workloads) expect(mocks().providerOf(resource)).toBe(provider);
  });

  test("installs the three add-ons at their pinned chart versions", () => {
    expect(mocks().ofType(RELEASE)).toHaveLength(3);
    expectRelease(release("external-secrets"), ADDON_CHARTS.externalSecrets);
    expectRelease(release("prometheus-stack"), ADDON_CHARTS.prometheusStack);
    expectRelease(release("load-balancer-controller"), ADDON_CHARTS.loadBalancerController);
    const values = release("load-balancer-controller").inputs.values as Record<string, unknown>;
    expect(values).toMatchObject({
      clusterName: mocks().one("aws:eks/cluster:Cluster", "pra-cluster-eks").state.name,
      region: target.run.outputs.region!.value,
      vpcId: mocks()
        .ofType("aws:ec2/vpc:Vpc")
        .find((v) => v.region === target.run.outputs.region!.value)!.id,
      serviceAccount: { create: true, name: "aws-load-balancer-controller" },
    });
  });

  test("the controllers start after their Pod Identity association, the app's objects after the app's", () => {
    expect(release("external-secrets").dependencies).toContain(association("external-secrets").urn);
    expect(release("load-balancer-controller").dependencies).toContain(
      association("aws-load-balancer-controller").urn,
    );
    for (const object of deployedObjects(target.run).filter(
      (r) => r.type !== "kubernetes:core/v1:Namespace",
    )) {
      expect(object.dependencies).toContain(association("pra-app").urn);
    }
  });

  test("the ExternalSecret waits for the ClusterSecretStore, which waits for External Secrets", () => {
    const store = mocks().one(
      "kubernetes:external-secrets.io/v1:ClusterSecretStore",
      "pra-addons-cluster-secret-store",
    );
    expect(store.inputs).toMatchObject({
      metadata: { name: "aws-secrets-manager" },
      spec: { provider: { aws: { service: "SecretsManager", region: target.run.outputs.region!.value } } },
    });
    expect(store.dependencies).toContain(release("external-secrets").urn);
    const externalSecret = deployedObjects(target.run).find((r) => r.type.endsWith(":ExternalSecret"))!;
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
    expect(configMap.inputs.metadata).toEqual({ name: "pra-cloud", namespace: target.config.namespace });
    expect(configMap.inputs.data).toEqual({
      EXPORT_BUCKET: bucket.state.bucket,
      EXPORT_PREFIX: "exports/",
      EXPORT_KMS_KEY_ID: target.run.outputs.exportBucketKeyArn!.value,
      AWS_REGION: target.run.outputs.region!.value,
    });
    expect(String(bucket.state.bucket)).toContain(ACCOUNT_ID);
    expect(
      customerKey(mocks(), (configMap.inputs.data as Record<string, string>).EXPORT_KMS_KEY_ID).region,
    ).toBe(target.run.outputs.region!.value);
    const namespace = deployedObjects(target.run).find((r) => r.type === "kubernetes:core/v1:Namespace")!;
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
    const clusterName = String(mocks().one("aws:eks/cluster:Cluster", "pra-cluster-eks").state.name);
    const region = String(target.run.outputs.region!.value);
    for (const statement of doc(policy.inputs.policy).Statement) {
      const actions = [statement.Action].flat() as string[];
      expect(actions).not.toContain("*");
      const writes = actions.filter((a) => !/^(ec2|elasticloadbalancing):(Describe|Get)/.test(a));
      if (writes.length === 0 || statement.Sid === "ElbServiceLinkedRole") continue;
      for (const resource of [statement.Resource].flat() as string[]) {
        expect(resource).toContain(`:${region}:${ACCOUNT_ID}:`);
      }
      const condition = JSON.stringify(statement.Condition ?? {});
      if (
        /Create(LoadBalancer|TargetGroup)|Delete(LoadBalancer|TargetGroup|SecurityGroup)/.test(actions.join())
      ) {
        expect(condition).toContain(clusterName);
      }
    }
  });
});
