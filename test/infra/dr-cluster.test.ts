/**
 * The DR region's cluster as `pulumi up` leaves it, under mocks, for prod (warm standby) and
 * staging (pilot light): everything the failover manifests (dist/<stack>/failover/) need is
 * there before any failover, from the same add-on and identity definitions as the primary, and
 * nothing on the DR side names the primary region's resources.
 */
import { isKind, ofKind, type Manifest, isManifest } from "../../charts/manifest";
import { loadStack, type TargetConfig } from "../../config";
import { drDesignOf } from "../../config/dr-design";
import { failoverManifests } from "../../dr/failover-runbook";
import { ADDON_CHARTS } from "../../infra/kubernetes/addon-charts";
import { standbyManifests } from "../../infra/kubernetes/dr-workloads";
import { doc, inputOf, shapes } from "./assertions";
import {
  ACCOUNT_ID,
  type Evaluation,
  evaluateProgram,
  pulumiConfigOf,
  type RecordedResource,
} from "./harness";
import { REPO_ROOT } from "../support/pra-app";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const PRIMARY = "eu-west-3";
const DR = "eu-central-1";
const runs = new Map<string, Evaluation>();

beforeAll(async () => {
  for (const stack of ["prod", "staging"])
    runs.set(stack, await evaluateProgram(stack, pulumiConfigOf(stack)));
}, 300_000);

function configOf(stack: string): TargetConfig {
  const config = loadStack(stack, REPO_ROOT);
  if (config.topology !== "target") throw new Error(`${stack} is not a target stack`);
  return config;
}

describe.each(["prod", "staging"])("%s", (stack) => {
  const run = () => {
    const evaluation = runs.get(stack);
    if (!evaluation) throw new Error(`${stack} was not evaluated`);
    return evaluation;
  };
  const mocks = () => run().mocks;
  const config = configOf(stack);
  const drProvider = () => mocks().one("pulumi:providers:kubernetes", "pra-dr-region-cluster-k8s");
  /** Everything deployed into the DR cluster. */
  const inDrCluster = () =>
    mocks().resources.filter(
      (r) => r.type.startsWith("kubernetes:") && mocks().providerOf(r) === drProvider(),
    );
  const drAssociations = () =>
    mocks()
      .ofType("aws:eks/podIdentityAssociation:PodIdentityAssociation")
      .filter((a) => a.region === DR);
  const drCluster = () => mocks().one("aws:eks/cluster:Cluster", "pra-dr-region-cluster-eks");

  test("the add-ons the failover manifests need run in the DR cluster, at the primary's pinned versions", () => {
    const releases = inDrCluster().filter((r) => r.type === RELEASE);
    const byChart = new Map(releases.map((r) => [String(r.inputs.chart), r]));
    const manifests = failoverManifests(config);
    const needed = new Set<string>();
    if (ofKind(manifests, "ExternalSecret").length > 0) needed.add("externalSecrets");
    if (manifests.some((m) => isKind(m, "ServiceMonitor") || isKind(m, "PrometheusRule")))
      needed.add("prometheusStack");
    if (ofKind(manifests, "Ingress").some((i) => i.spec?.ingressClassName === "alb"))
      needed.add("loadBalancerController");
    if (ofKind(manifests, "HorizontalPodAutoscaler").length > 0) needed.add("metricsServer");
    expect(needed.size).toBe(4);
    for (const key of needed) {
      const chart = ADDON_CHARTS[key as keyof typeof ADDON_CHARTS];
      expect(byChart.get(chart.chart)?.inputs).toMatchObject({
        version: chart.version,
        repositoryOpts: { repo: chart.repository },
      });
    }
    const lbc = byChart.get(ADDON_CHARTS.loadBalancerController.chart);
    expect(lbc && inputOf(lbc, "values", shapes.object)).toMatchObject({
      clusterName: drCluster().state.name,
      region: DR,
      vpcId: mocks()
        .ofType("aws:ec2/vpc:Vpc")
        .find((v) => v.region === DR)?.id,
    });
    // The ExternalSecret's store exists there and reads the DR region's Secrets Manager.
    const [externalSecret] = ofKind(manifests, "ExternalSecret");
    const store = inDrCluster().find((r) => r.type.endsWith(":ClusterSecretStore"));
    expect(store?.inputs).toMatchObject({
      metadata: { name: externalSecret?.spec?.secretStoreRef.name },
      spec: { provider: { aws: { region: DR } } },
    });
  });

  test("every service account of the failover manifests has a Pod Identity role in the DR cluster", () => {
    const accounts = ofKind(failoverManifests(config), "ServiceAccount").map(
      (sa) => `${sa.metadata.namespace}/${sa.metadata.name}`,
    );
    expect(accounts.length).toBeGreaterThanOrEqual(3);
    const bound = drAssociations().map(
      (a) => `${String(a.inputs.namespace)}/${String(a.inputs.serviceAccount)}`,
    );
    expect(bound).toEqual(expect.arrayContaining(accounts));
    for (const association of drAssociations())
      expect(association.inputs.clusterName).toBe(drCluster().state.name);
  });

  test("the DR roles name the DR bucket replica, keys, secret replica and topic, never the primary's", () => {
    const primaryBucket = run().outputs.exportBucketName?.value;
    const roleIds = new Set(drAssociations().map((a) => mocks().byIdOrArn(a.inputs.roleArn)?.id));
    const policies = mocks()
      .ofType("aws:iam/rolePolicy:RolePolicy")
      .filter((p) => roleIds.has(String(p.inputs.role)));
    expect(policies.length).toBeGreaterThanOrEqual(drAssociations().length - 1);
    const resources = policies.flatMap((p) =>
      doc(p.inputs.policy).Statement.flatMap((s) => [s.Resource].flat().map(String)),
    );
    expect(resources.length).toBeGreaterThan(0);
    for (const arn of resources) {
      expect(arn).not.toContain(PRIMARY);
      expect(arn).not.toContain(String(primaryBucket));
    }
    expect(resources).toContainEqual(
      expect.stringContaining(
        `arn:aws:secretsmanager:${DR}:${ACCOUNT_ID}:secret:pra/${stack}/database`,
      ),
    );
    expect(resources).toContainEqual(`arn:aws:s3:::pra-${stack}-exports-${ACCOUNT_ID}-${DR}`);
  });

  test("pra-cloud in the DR cluster names the bucket replica, its key and the DR region", () => {
    const settings = inDrCluster().find((r) => r.name === "pra-dr-cloud-settings");
    expect(settings && inputOf(settings, "data", shapes.stringMap)).toMatchObject({
      EXPORT_BUCKET: `pra-${stack}-exports-${ACCOUNT_ID}-${DR}`,
      AWS_REGION: DR,
    });
    const key = mocks().byIdOrArn(
      settings && inputOf(settings, "data", shapes.stringMap).EXPORT_KMS_KEY_ID,
    );
    expect(key?.region).toBe(DR);
  });

  test("the image is replicated to the DR region, and the failover manifests pull it from there", () => {
    const replication = mocks().ofType("aws:ecr/replicationConfiguration:ReplicationConfiguration");
    expect(replication).toHaveLength(1);
    expect(replication[0]?.inputs.replicationConfiguration).toEqual({
      rules: [
        {
          destinations: [{ region: DR, registryId: ACCOUNT_ID }],
          repositoryFilters: [{ filter: "pra-app", filterType: "PREFIX_MATCH" }],
        },
      ],
    });
    const images = ofKind(failoverManifests(config), "Deployment").flatMap((d) =>
      (d.spec?.template.spec?.containers ?? []).map((c) => c.image),
    );
    expect(images).toEqual([drDesignOf(config).image]);
    expect(drDesignOf(config).image).toMatch(
      new RegExp(`\\.dkr\\.ecr\\.${DR}\\.amazonaws\\.com/pra-app:`),
    );
  });

  test("the service's name: a private zone on both VPCs, its record written to the primary's load balancer", () => {
    const zone = mocks().one("aws:route53/zone:Zone", "pra-service-name-zone");
    const vpcs = mocks().ofType("aws:ec2/vpc:Vpc");
    expect(zone.inputs.vpcs).toEqual(
      expect.arrayContaining(
        [PRIMARY, DR].map((region) => ({
          vpcId: vpcs.find((v) => v.region === region)?.id,
          vpcRegion: region,
        })),
      ),
    );
    const record = mocks().one("aws:route53/record:Record", "pra-service-name");
    const ingress = mocks().one("kubernetes:networking.k8s.io/v1:Ingress", "pra-primary-ingress");
    expect(record.inputs).toMatchObject({
      zoneId: zone.state.zoneId,
      name: drDesignOf(config).serviceName.record,
      type: "CNAME",
      ttl: 60,
      records: [expect.stringMatching(/^internal-k8s-.*\.elb\.amazonaws\.com$/)],
    });
    // Read back from the deployed Ingress once the Load Balancer Controller has given it an ALB.
    const deployed = mocks()
      .ofType("kubernetes:networking.k8s.io/v1:Ingress")
      .find((r) => r.name.startsWith("pra-charts-"));
    expect(ingress.dependencies).toContain(deployed?.urn);
    expect(JSON.stringify(ingress.state)).toContain(
      String(inputOf(record, "records", shapes.strings)[0]),
    );
  });

  test("every StorageClass the failover manifests claim from exists in the DR cluster", () => {
    const claimed = [
      ...JSON.stringify(failoverManifests(config)).matchAll(/"storageClassName":"([^"]+)"/g),
    ].map((match) => match[1]);
    expect(claimed.length).toBeGreaterThan(0);
    const classes = inDrCluster()
      .filter((r) => r.type === "kubernetes:storage.k8s.io/v1:StorageClass")
      .map((r) => (isManifest(r.inputs) ? r.inputs.metadata.name : undefined));
    for (const name of claimed) expect(classes).toContain(name);
  });

  test("nothing deployed in the DR cluster names the primary region", () => {
    for (const resource of inDrCluster()) {
      const text = JSON.stringify(resource.inputs);
      expect({ resource: resource.name, primary: text.includes(PRIMARY) }).toEqual({
        resource: resource.name,
        primary: false,
      });
    }
  });
});

test("warm standby (prod): the failover workload is deployed at zero, its schedules suspended, no autoscaler", () => {
  const objects = (runs.get("prod")?.mocks.resources ?? [])
    .filter((r: RecordedResource) => r.name.startsWith("pra-dr-charts-"))
    .map((r) => r.inputs)
    .filter(isManifest);
  const expected = standbyManifests(failoverManifests(configOf("prod")));
  const key = (m: Manifest) => `${m.kind}/${m.metadata.namespace ?? ""}/${m.metadata.name}`;
  expect(objects.map(key).sort()).toEqual(expected.map(key).sort());
  const [deployment] = ofKind(objects, "Deployment");
  expect(deployment?.spec?.replicas).toBe(0);
  for (const cronJob of ofKind(objects, "CronJob")) expect(cronJob.spec?.suspend).toBe(true);
  expect(ofKind(objects, "HorizontalPodAutoscaler")).toEqual([]);
  expect(ofKind(failoverManifests(configOf("prod")), "HorizontalPodAutoscaler")).toHaveLength(1);
});

test("pilot light (staging): the DR cluster holds the namespace only; the failover applies the workload", () => {
  const objects = (runs.get("staging")?.mocks.resources ?? [])
    .filter((r) => r.name.startsWith("pra-dr-charts-"))
    .map((r) => r.inputs)
    .filter(isManifest);
  expect(objects.map((m) => m.kind)).toEqual(["Namespace"]);
  expect(
    runs
      .get("staging")
      ?.mocks.ofType("aws:rds/instance:Instance")
      .map((i) => i.region),
  ).toEqual([PRIMARY]);
});
