/**
 * The GitOps examples (examples/gitops/): the Argo CD Applications and the Flux Kustomization
 * validate against their CRDs' pinned schemas (test/fixtures/crds/), name folders and files that
 * `npm run synth` writes, and install the pinned kube-prometheus-stack with synth's values file;
 * the publishing workflow runs the project's own commands.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { PROMETHEUS_STACK_VALUES_FILE } from "../../charts/addon-values";
import { synthStack } from "../../charts/stacks";
import { loadStack } from "../../config";
import { ADDON_CHARTS } from "../../infra/kubernetes/addon-charts";
import { validateCustomResource } from "../support/crd-schema";
import { kustomizationResources } from "../support/manifests";
import { REPO_ROOT } from "../support/pra-app";

const EXAMPLES = join(REPO_ROOT, "examples", "gitops");

/** Every YAML document of an example, as plain data. */
function documents(file: string): Record<string, unknown>[] {
  return parseAllDocuments(readFileSync(join(EXAMPLES, file), "utf8")).map((doc) => {
    const value: unknown = doc.toJS();
    if (typeof value !== "object" || value === null || Array.isArray(value))
      throw new Error(`${file}: a document is not an object`);
    return Object.fromEntries(Object.entries(value));
  });
}

/** A field by path, or undefined. */
function at(value: unknown, ...path: (string | number)[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof current !== "object" || current === null) return undefined;
    current = Reflect.get(current, key);
  }
  return current;
}

// A config repository's copy of dist/, as npm run synth writes it.
const root = mkdtempSync(join(tmpdir(), "pra-gitops-"));
const dist = join(root, "dist");
synthStack(loadStack("lab", REPO_ROOT), join(dist, "lab"));
synthStack(loadStack("prod", REPO_ROOT), join(dist, "prod"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("Argo CD (argocd-lab.yaml)", () => {
  const [monitoring, workload, ...more] = documents("argocd-lab.yaml");

  test("two Applications, each valid against Argo CD's Application CRD", () => {
    expect(more).toEqual([]);
    for (const app of [monitoring, workload])
      expect(() => validateCustomResource(app)).not.toThrow();
    // The schema is really applied: a wrong type in the same document is refused.
    const broken = structuredClone(workload);
    Reflect.set(at(broken, "spec", "syncPolicy", "automated") ?? {}, "prune", "yes");
    expect(() => validateCustomResource(broken)).toThrow(/prune/);
  });

  test("the workload syncs dist/lab/, a folder whose kustomization lists the synced files only", () => {
    const path = at(workload, "spec", "source", "path");
    expect(path).toBe("dist/lab");
    const resources = kustomizationResources(join(root, String(path), "kustomization.yaml"));
    expect(resources.length).toBeGreaterThan(0);
    expect(resources.some((r) => /^(ops|failover|addons)\//.test(r))).toBe(false);
  });

  test("the monitoring stack is the pinned chart with exactly synth's values file", () => {
    const chart = ADDON_CHARTS.prometheusStack;
    expect(at(monitoring, "spec", "sources", 0)).toMatchObject({
      repoURL: chart.repository,
      chart: chart.chart,
      targetRevision: chart.version,
    });
    const [valueFile, ...others] = (at(monitoring, "spec", "sources", 0, "helm", "valueFiles") ??
      []) as unknown[];
    expect(others).toEqual([]);
    expect(valueFile).toBe(`$values/dist/lab/${PROMETHEUS_STACK_VALUES_FILE.primary}`);
    expect(existsSync(join(root, String(valueFile).replace("$values/", "")))).toBe(true);
    expect(at(monitoring, "spec", "sources", 1, "ref")).toBe("values");
  });
});

describe("Argo CD on the target (argocd-prod.yaml)", () => {
  const [app, ...more] = documents("argocd-prod.yaml");

  test("one Application, valid, syncing dist/prod/ whose kustomization leaves out ops/, failover/", () => {
    expect(more).toEqual([]);
    expect(() => validateCustomResource(app)).not.toThrow();
    const path = String(at(app, "spec", "source", "path"));
    expect(path).toBe("dist/prod");
    const resources = kustomizationResources(join(root, path, "kustomization.yaml"));
    expect(resources.some((r) => /^(ops|failover|addons)\//.test(r))).toBe(false);
    expect(at(app, "spec", "destination", "namespace")).toBe(
      loadStack("prod", REPO_ROOT).namespace,
    );
  });
});

describe("Flux (flux-lab.yaml)", () => {
  const docs = documents("flux-lab.yaml");
  const kustomization = docs.find((d) => d.kind === "Kustomization");

  test("a GitRepository and a Kustomization valid against Flux's Kustomization CRD", () => {
    expect(docs.map((d) => d.kind)).toEqual(["GitRepository", "Kustomization"]);
    expect(() => validateCustomResource(kustomization)).not.toThrow();
    expect(at(kustomization, "spec", "sourceRef", "name")).toBe(at(docs[0], "metadata", "name"));
  });

  test("it builds dist/lab/, which has the kustomization", () => {
    const path = String(at(kustomization, "spec", "path"));
    expect(path).toBe("./dist/lab");
    expect(existsSync(join(root, path, "kustomization.yaml"))).toBe(true);
  });

  test("the helm command in its header installs the pinned chart with synth's values", () => {
    const text = readFileSync(join(EXAMPLES, "flux-lab.yaml"), "utf8");
    expect(text).toContain(`--version ${ADDON_CHARTS.prometheusStack.version}`);
    expect(text).toContain(`-f dist/lab/${PROMETHEUS_STACK_VALUES_FILE.primary}`);
  });
});

test("the publishing workflow checks, synthesizes, then copies dist/ (npm scripts that exist)", () => {
  const [workflow] = documents("publish-dist.yaml");
  const steps = at(workflow, "jobs", "publish", "steps");
  const runs = (Array.isArray(steps) ? steps : [])
    .map((step) => at(step, "run"))
    .filter((run): run is string => typeof run === "string");
  const npmRuns = runs.flatMap((run) => [...run.matchAll(/npm run (\S+)/g)].map((m) => m[1]));
  expect(npmRuns).toEqual(["check", "synth"]);
  const manifest: unknown = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8"));
  for (const script of npmRuns) expect(at(manifest, "scripts", script ?? "")).toBeDefined();
  const publish = runs.findIndex((run) => run.includes("cp -r dist config-repo/dist"));
  expect(publish).toBeGreaterThan(runs.indexOf("npm run synth"));
});
