/**
 * The order the chart deployment follows, without Pulumi: deploymentPlan on the objects
 * `cdk8s synth` writes for each committed stack, and on cases the charts do not have yet
 * (a CRD with its custom resources, cluster-scoped objects, a duplicate).
 */
import { loadStack } from "../../config";
import { LOAD_BALANCER_CONTROLLER_WEBHOOK_KINDS } from "../../infra/kubernetes/addon-charts";
import {
  deploymentPlan,
  isCustomResource,
  type Manifest,
} from "../../infra/kubernetes/deployment-plan";
import { typeToken } from "../../infra/kubernetes/kubernetes-object";
import { keyOf, synthesized } from "./synthesized";

const object = (
  apiVersion: string,
  kind: string,
  name: string,
  namespace?: string,
  extra = {},
): Manifest => ({
  apiVersion,
  kind,
  metadata: { name, ...(namespace ? { namespace } : {}) },
  ...extra,
});

describe.each(["lab", "prod", "staging"])("stack %s", (stack) => {
  const config = loadStack(stack);
  const { synced } = synthesized(config);
  const plan = deploymentPlan(synced, {
    addonWebhookKinds: LOAD_BALANCER_CONTROLLER_WEBHOOK_KINDS,
  });
  const namespaceKey = `Namespace//${config.namespace}`;

  test("plans every synthesized object once, the namespace first", () => {
    expect(plan.map((p) => p.key).sort()).toEqual(synced.map(keyOf).sort());
    expect(plan[0]!.key).toBe(namespaceKey);
    expect(plan[0]!.waitsFor).toEqual([]);
  });

  test("every namespaced object waits for its namespace, listed after it", () => {
    for (const [index, planned] of plan.entries()) {
      if (!planned.manifest.metadata.namespace) continue;
      expect(planned.waitsFor).toContain(namespaceKey);
      expect(index).toBeGreaterThan(0);
    }
  });

  test("exactly the custom resources, Services and Ingresses wait for the add-ons", () => {
    const waiting = plan.filter((p) => p.waitsForAddons).map((p) => p.manifest.kind);
    const expected = synced
      .filter((m) => isCustomResource(m) || ["Service", "Ingress"].includes(m.kind))
      .map((m) => m.kind);
    expect(waiting.sort()).toEqual(expected.sort());
    if (config.topology === "target") {
      expect(new Set(waiting)).toEqual(
        new Set(["ExternalSecret", "PrometheusRule", "ServiceMonitor", "Service", "Ingress"]),
      );
    }
  });
});

describe("deploymentPlan", () => {
  const crd = object(
    "apiextensions.k8s.io/v1",
    "CustomResourceDefinition",
    "widgets.example.com",
    undefined,
    {
      spec: { group: "example.com", names: { kind: "Widget" } },
    },
  );
  const manifests = [
    object("example.com/v1", "Widget", "w", "apps"),
    object("rbac.authorization.k8s.io/v1", "ClusterRole", "reader"),
    object("v1", "ConfigMap", "settings", "elsewhere"),
    crd,
    object("v1", "Namespace", "apps"),
    object("v1", "Service", "web", "apps"),
  ];
  const plan = deploymentPlan(manifests);
  const of = (key: string) => plan.find((p) => p.key === key)!;

  test("lists namespaces, then CRDs, then the rest in their order", () => {
    expect(plan.map((p) => p.key)).toEqual([
      "Namespace//apps",
      "CustomResourceDefinition//widgets.example.com",
      "Widget/apps/w",
      "ClusterRole//reader",
      "ConfigMap/elsewhere/settings",
      "Service/apps/web",
    ]);
  });

  test("a custom resource waits for its namespace, its CRD and the add-ons", () => {
    expect(of("Widget/apps/w").waitsFor).toEqual([
      "Namespace//apps",
      "CustomResourceDefinition//widgets.example.com",
    ]);
    expect(of("Widget/apps/w").waitsForAddons).toBe(true);
  });

  test("cluster-scoped objects and objects of namespaces declared elsewhere wait for nothing here", () => {
    expect(of("ClusterRole//reader")).toMatchObject({ waitsFor: [], waitsForAddons: false });
    expect(of("ConfigMap/elsewhere/settings")).toMatchObject({
      waitsFor: [],
      waitsForAddons: false,
    });
    expect(of("CustomResourceDefinition//widgets.example.com").waitsFor).toEqual([]);
  });

  test("built-in kinds wait for the add-ons only when a webhook intercepts them", () => {
    expect(of("Service/apps/web").waitsForAddons).toBe(false);
    const withWebhook = deploymentPlan(manifests, { addonWebhookKinds: ["Service"] });
    expect(withWebhook.find((p) => p.key === "Service/apps/web")!.waitsForAddons).toBe(true);
  });

  test("refuses an object declared twice", () => {
    expect(() => deploymentPlan([...manifests, object("v1", "Service", "web", "apps")])).toThrow(
      "Service/apps/web is declared twice",
    );
  });

  test("type tokens are the Kubernetes provider's: core kinds under core/v1, groups kept whole", () => {
    expect(typeToken("v1", "Namespace")).toBe("kubernetes:core/v1:Namespace");
    expect(typeToken("apps/v1", "Deployment")).toBe("kubernetes:apps/v1:Deployment");
    expect(typeToken("networking.k8s.io/v1", "Ingress")).toBe(
      "kubernetes:networking.k8s.io/v1:Ingress",
    );
    expect(typeToken("external-secrets.io/v1", "ExternalSecret")).toBe(
      "kubernetes:external-secrets.io/v1:ExternalSecret",
    );
  });
});
