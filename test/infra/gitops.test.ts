/**
 * `pra:deployWorkloads: false` under mocks: `pulumi up` creates the cloud and the add-ons and
 * leaves the workload charts (dist/<stack>/) to a GitOps tool, while the objectives are checked
 * as before (npm run check and synth read the same config).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { PROMETHEUS_STACK_VALUES_FILE } from "../../charts/addon-values";
import { ACCOUNT_ID_PLACEHOLDER } from "../../charts/alertmanager-config";
import { synthStack } from "../../charts/stacks";
import { ADDON_CHARTS } from "../../infra/kubernetes/addon-charts";
import { loadStack, parseStackConfig, stackFileName } from "../../config";
import { assess } from "../../dr/assess";
import { REPO_ROOT } from "../support/pra-app";
import { ACCOUNT_ID, type Evaluation, evaluateProgram, pulumiConfigOf } from "./harness";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const OFF = { "pra:deployWorkloads": "false" };

/** The workload's objects: its namespace, and anything in it (not the cluster's or add-ons'). */
const workloadObjects = (run: Evaluation) =>
  run.mocks.resources.filter((r) => {
    if (!r.type.startsWith("kubernetes:") || r.type === RELEASE) return false;
    if (r.name.startsWith("pra-dr-") || r.name === "pra-primary-ingress") return false;
    const metadata = r.inputs.metadata;
    if (typeof metadata !== "object" || metadata === null) return false;
    const namespace = "namespace" in metadata ? metadata.namespace : undefined;
    const name = "name" in metadata ? metadata.name : undefined;
    return namespace === "pra" || (r.type === "kubernetes:core/v1:Namespace" && name === "pra");
  });

describe("lab with pra:deployWorkloads: false", () => {
  let run: Evaluation;
  beforeAll(async () => {
    run = await evaluateProgram("lab", pulumiConfigOf("lab", OFF));
  });

  test("installs the Prometheus stack and no workload object", () => {
    expect(run.mocks.ofType(RELEASE).map((r) => r.inputs.chart)).toEqual([
      ADDON_CHARTS.prometheusStack.chart,
    ]);
    expect(run.mocks.ofType("pra:kubernetes:ChartDeployment")).toEqual([]);
    expect(workloadObjects(run)).toEqual([]);
  });
});

describe("prod with pra:deployWorkloads: false", () => {
  let run: Evaluation;
  beforeAll(async () => {
    run = await evaluateProgram("prod", pulumiConfigOf("prod", OFF));
  }, 120_000);

  test("creates the cloud and the five add-ons, and no workload object or pra-cloud", () => {
    expect(run.mocks.ofType("aws:eks/cluster:Cluster").length).toBeGreaterThan(0);
    expect(
      run.mocks
        .ofType(RELEASE)
        .filter((r) => !r.name.startsWith("pra-dr-"))
        .map((r) => r.inputs.chart)
        .sort(),
    ).toEqual(
      Object.values(ADDON_CHARTS)
        .map((c) => c.chart)
        .sort(),
    );
    expect(
      run.mocks
        .ofType("pra:kubernetes:ChartDeployment")
        .filter((r) => !r.name.startsWith("pra-dr-")),
    ).toEqual([]);
    expect(workloadObjects(run)).toEqual([]);
  });

  test("the DR cluster's Prometheus stack gets synth's failover values file (account id filled in)", () => {
    const dir = mkdtempSync(join(tmpdir(), "pra-gitops-prod-"));
    try {
      synthStack(loadStack("prod", REPO_ROOT), dir);
      const text = readFileSync(join(dir, PROMETHEUS_STACK_VALUES_FILE.failover), "utf8");
      const values: unknown = parseYaml(text.replaceAll(ACCOUNT_ID_PLACEHOLDER, ACCOUNT_ID));
      const release = run.mocks.one(RELEASE, "pra-dr-addons-prometheus-stack");
      expect(release.inputs.values).toEqual(values);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // The outputs a newcomer's first deployment reads (README, docs/aws-target.md): the same
  // whatever deploys the workload, so checked on this evaluation.
  test("outputs the admin role's ARN and the image's ECR repository, from pra:image", () => {
    const role = run.mocks.one("aws:iam/role:Role", "pra-cluster-admin");
    expect(run.outputs.adminRoleArn?.value).toBe(role.state.arn);
    expect(run.outputs.imageRepository?.value).toBe(
      "123456789012.dkr.ecr.eu-west-3.amazonaws.com/pra-app",
    );
  });

  test("reads the GitOps tool's Ingress back for the service's record, creating none", () => {
    const ingresses = run.mocks
      .ofType("kubernetes:networking.k8s.io/v1:Ingress")
      .filter((r) => !r.name.startsWith("pra-dr-"));
    expect(ingresses.map((r) => r.name)).toEqual(["pra-primary-ingress"]);
    expect(run.outputs.clusterName?.value).toBeDefined();
  });
});

test.each(["lab", "prod", "staging"])(
  "%s: the objectives are judged the same with the workloads left to GitOps",
  (stack) => {
    const parse = (values: Record<string, string>) =>
      parseStackConfig({ stack, file: stackFileName(stack), values });
    const gitops = parse(pulumiConfigOf(stack, OFF));
    expect(gitops.deployWorkloads).toBe(false);
    expect(parse(pulumiConfigOf(stack)).deployWorkloads).toBe(true);
    const messages = (config: typeof gitops) => assess(config).violations.map((v) => v.message);
    expect(messages(gitops)).toEqual(messages(parse(pulumiConfigOf(stack))));
  },
);
