/**
 * The README's "lab on kind in ten minutes" names what the code writes and runs: every command
 * it gives exists, the folders and files it applies are synth's, the monitoring stack is the
 * pinned chart with synth's values file, and the image, namespace, objects and ports are the
 * lab stack's. A change in the code that the README does not follow fails here.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROMETHEUS_STACK_VALUES_FILE } from "../../charts/addon-values";
import { SERVICE_PORT, WORKSHOP } from "../../charts/constructs/names";
import { synthStack } from "../../charts/stacks";
import { loadStack } from "../../config";
import { ADDON_CHARTS } from "../../infra/kubernetes/addon-charts";
import { REPO_ROOT } from "../support/pra-app";

const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
const start = readme.indexOf("<!-- lab quickstart: checked by test/docs/readme.test.ts -->");
const end = readme.indexOf("<!-- end lab quickstart -->");
const quickstart = readme.slice(start, end);
const lab = loadStack("lab", REPO_ROOT);

const dist = mkdtempSync(join(tmpdir(), "pra-readme-"));
synthStack(lab, join(dist, "lab"));
afterAll(() => rmSync(dist, { recursive: true, force: true }));

test("the quickstart is there", () => {
  expect(start).toBeGreaterThan(0);
  expect(end).toBeGreaterThan(start);
});

test("every npm script the README names exists in package.json", () => {
  const manifest: unknown = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8"));
  const scripts =
    typeof manifest === "object" && manifest !== null && "scripts" in manifest
      ? manifest.scripts
      : {};
  const named = [
    ...new Set([...readme.matchAll(/npm run (?:--silent )?([\w:-]+)/g)].map((m) => m[1])),
  ];
  expect(named.length).toBeGreaterThan(5);
  for (const script of named)
    expect([
      script,
      typeof scripts === "object" && scripts !== null && script !== undefined && script in scripts,
    ]).toEqual([script, true]);
});

test("it applies dist/lab/ through its kustomization", () => {
  expect(quickstart).toContain("kubectl apply -k dist/lab ");
  expect(existsSync(join(dist, "lab", "kustomization.yaml"))).toBe(true);
});

test("the monitoring stack: the pinned chart from its repository, with synth's values file", () => {
  const chart = ADDON_CHARTS.prometheusStack;
  expect(quickstart).toContain(`helm repo add prometheus-community ${chart.repository}`);
  expect(quickstart).toContain(
    `helm upgrade --install ${chart.chart} prometheus-community/${chart.chart}`,
  );
  expect(quickstart).toContain(`--version ${chart.version} -n ${chart.namespace}`);
  const values = `dist/lab/${PROMETHEUS_STACK_VALUES_FILE.primary}`;
  expect(quickstart).toContain(`-f ${values}`);
  expect(existsSync(join(dist, values.replace(/^dist\//, "")))).toBe(true);
});

test("the image it builds and loads is the lab's pra:image", () => {
  expect(quickstart).toContain("npm run image -- --stack lab");
  expect(quickstart).toContain(`docker build -t ${lab.image}`);
});

test("the namespace, objects, claim, port and cluster name are the lab's", () => {
  const namespaces = [...quickstart.matchAll(/kubectl -n (\S+)/g)].map((m) => m[1]);
  expect(new Set(namespaces)).toEqual(new Set([lab.namespace]));
  expect(quickstart).toContain(`rollout status deployment/${WORKSHOP.app}`);
  expect(quickstart).toContain(`port-forward svc/${WORKSHOP.app} 8080:${SERVICE_PORT}`);
  expect(quickstart).toContain(`delete pvc ${WORKSHOP.dataClaim}`);
  expect(quickstart).toContain(`get jobs --watch`);
  expect(quickstart).toContain(`a ${WORKSHOP.backupCronJob} Job`);
  // `npm run image` loads into the cluster named pra by default; Pulumi's context is kind's name for it.
  expect(quickstart).toContain("kind create cluster --name pra");
  expect(readme).toContain("pulumi config set kubernetes:context kind-pra");
});

// The Set up paragraph's `apt-get install` is the list a machine without .ci/run needs: the same
// Debian packages .ci/run installs when missing, no more and no fewer.
test("the README's Debian packages are the ones .ci/run installs", () => {
  const ci = readFileSync(join(REPO_ROOT, ".ci", "run"), "utf8");
  const installed = [...ci.matchAll(/need\+=\(([\w.+-]+)\)/g)].map((m) => m[1]);
  const named = /`apt-get install ([^`]+)`/.exec(readme)?.[1]?.split(/\s+/);
  expect(installed.length).toBeGreaterThan(0);
  expect(new Set(named)).toEqual(new Set(installed));
});
