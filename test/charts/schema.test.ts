/**
 * Every object every committed stack synthesizes is valid: built-in kinds against the
 * Kubernetes OpenAPI schema (kubernetes-models), custom resources against the schema their
 * CRD publishes (pinned in test/fixtures/crds/).
 */
import { listStacks, loadStack } from "../../config";
import { validateCustomResource } from "../support/crd-schema";
import {
  find,
  type Manifest,
  synthStackInMemory,
  validateAgainstSchema,
  withValue,
} from "../support/manifests";

const CUSTOM_GROUPS = ["monitoring.coreos.com", "external-secrets.io"];
const isCustom = (m: Manifest) =>
  CUSTOM_GROUPS.some((group) => m.apiVersion.startsWith(`${group}/`));

const stacks = listStacks();
const objects = stacks.flatMap((stack) => {
  const { synced, ops } = synthStackInMemory(loadStack(stack));
  return [...synced, ...ops].map((m): [string, Manifest] => [
    `${stack}: ${m.kind}/${m.metadata.name}`,
    m,
  ]);
});

test("every committed stack is covered, and the target's custom resources with them", () => {
  expect(stacks).toEqual(expect.arrayContaining(["lab", "prod", "staging"]));
  const kinds = new Set(objects.map(([, m]) => m.kind));
  for (const kind of [
    "ExternalSecret",
    "ServiceMonitor",
    "PrometheusRule",
    "Deployment",
    "CronJob",
    "Job",
  ]) {
    expect(kinds).toContain(kind);
  }
});

test.each(objects)("%s is valid against its schema", (_name, manifest) => {
  if (isCustom(manifest)) validateCustomResource(manifest);
  else validateAgainstSchema(manifest);
});

test("the validators do catch malformed objects", () => {
  const prod = synthStackInMemory(loadStack("prod")).synced;
  const deployment = withValue(find(prod, "Deployment", "pra-app"), ["spec", "replicas"], "three");
  expect(() => validateAgainstSchema(deployment)).toThrow(/replicas must be integer/);
  const rule = withValue(
    find(prod, "PrometheusRule", "pra-app-recovery"),
    ["spec", "groups", 0, "rules", 0, "for"],
    60,
  );
  expect(() => validateCustomResource(rule)).toThrow(/must be string/);
});
