import { validateCustomResource } from "../support/crd-schema";

function serviceMonitor(spec: Record<string, unknown>): Record<string, unknown> {
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "ServiceMonitor",
    metadata: {
      name: "pra-app",
      namespace: "pra",
      labels: { "app.kubernetes.io/name": "pra-app" },
    },
    spec,
  };
}

const validServiceMonitorSpec = {
  selector: { matchLabels: { "app.kubernetes.io/name": "pra-app" } },
  endpoints: [{ port: "http", path: "/metrics", interval: "30s" }],
};

function prometheusRule(rule: Record<string, unknown>, group: Record<string, unknown> = {}) {
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PrometheusRule",
    metadata: { name: "pra-backups", namespace: "pra" },
    spec: { groups: [{ name: "pra.backups", rules: [rule], ...group }] },
  };
}

const validAlert = {
  alert: "BackupTooOld",
  expr: "time() - pra_last_backup_timestamp_seconds > 86400",
  for: "15m",
  labels: { severity: "critical" },
  annotations: { summary: "No successful backup for more than a day" },
};

function externalSecret(spec: Record<string, unknown>): Record<string, unknown> {
  return {
    apiVersion: "external-secrets.io/v1",
    kind: "ExternalSecret",
    metadata: { name: "pra-db", namespace: "pra" },
    spec,
  };
}

const validExternalSecretSpec = {
  refreshInterval: "1h",
  secretStoreRef: { kind: "ClusterSecretStore", name: "aws-secrets-manager" },
  target: {
    name: "pra-db",
    creationPolicy: "Owner",
    template: {
      engineVersion: "v2",
      type: "Opaque",
      data: { DATABASE_URL: "postgres://{{ .username }}:{{ .password }}@db:5432/pra" },
    },
  },
  data: [
    { secretKey: "username", remoteRef: { key: "pra/db", property: "username" } },
    { secretKey: "password", remoteRef: { key: "pra/db", property: "password" } },
  ],
};

describe("validateCustomResource", () => {
  describe("ServiceMonitor (monitoring.coreos.com/v1)", () => {
    it("accepts a selector with an http /metrics endpoint", () => {
      expect(() => validateCustomResource(serviceMonitor(validServiceMonitorSpec))).not.toThrow();
    });

    it("refuses a misspelled field instead of letting the API server prune it", () => {
      const { endpoints, ...rest } = validServiceMonitorSpec;
      const broken = serviceMonitor({ ...rest, endpoint: endpoints });
      expect(() => validateCustomResource(broken)).toThrow(/spec\.endpoint: unknown field/);
      expect(() => validateCustomResource(broken)).toThrow(
        /spec\.endpoints: required field is missing/,
      );
    });

    it("reads x-kubernetes-int-or-string as integer or string", () => {
      const withPort = (targetPort: unknown) =>
        serviceMonitor({
          ...validServiceMonitorSpec,
          endpoints: [{ targetPort, path: "/metrics" }],
        });
      expect(() => validateCustomResource(withPort(8080))).not.toThrow();
      expect(() => validateCustomResource(withPort("metrics"))).not.toThrow();
      expect(() => validateCustomResource(withPort(true))).toThrow(
        /spec\.endpoints\[0\]\.targetPort: must be/,
      );
    });

    it("checks apiVersion and kind against the pinned CRD", () => {
      expect(() =>
        validateCustomResource({
          ...serviceMonitor(validServiceMonitorSpec),
          apiVersion: "monitoring.coreos.com/v2",
        }),
      ).toThrow("no pinned CRD schema for monitoring.coreos.com/v2 ServiceMonitor");
    });
  });

  describe("PrometheusRule (monitoring.coreos.com/v1)", () => {
    it("accepts an alert rule with expr, for, labels and annotations", () => {
      expect(() => validateCustomResource(prometheusRule(validAlert))).not.toThrow();
    });

    it("refuses a number where the CRD wants a duration string", () => {
      expect(() => validateCustomResource(prometheusRule({ ...validAlert, for: 5 }))).toThrow(
        /spec\.groups\[0\]\.rules\[0\]\.for: must be string/,
      );
      expect(() =>
        validateCustomResource(prometheusRule({ ...validAlert, for: "5 minutes" })),
      ).toThrow(/spec\.groups\[0\]\.rules\[0\]\.for: must match pattern/);
    });

    it("honours the RE2 (?i) flag in the CRD's partial_response_strategy pattern", () => {
      const withStrategy = (s: string) =>
        prometheusRule(validAlert, { partial_response_strategy: s });
      expect(() => validateCustomResource(withStrategy("ABORT"))).not.toThrow();
      expect(() => validateCustomResource(withStrategy("ignore"))).toThrow(
        /partial_response_strategy/,
      );
    });
  });

  describe("ExternalSecret (external-secrets.io/v1)", () => {
    it("accepts a ClusterSecretStore ref, a templated target and remoteRef data", () => {
      expect(() => validateCustomResource(externalSecret(validExternalSecretSpec))).not.toThrow();
    });

    it("refuses wrong types, unknown fields and values outside an enum, naming each path", () => {
      const broken = externalSecret({
        ...validExternalSecretSpec,
        refreshInterval: 3600,
        secretStoreRef: { kind: "ClusterSecretstore", name: "aws-secrets-manager" },
        data: [{ secretKey: "username", remoteRef: { key: "pra/db", propery: "username" } }],
      });
      let message = "";
      try {
        validateCustomResource(broken);
      } catch (error) {
        message = error instanceof Error ? error.message : String(error);
      }
      expect(message).toContain(
        "ExternalSecret/pra-db (external-secrets.io/v1) violates its pinned CRD schema",
      );
      expect(message).toContain("spec.refreshInterval: must be string");
      expect(message).toContain(
        "spec.secretStoreRef.kind: must be equal to one of the allowed values",
      );
      expect(message).toContain("spec.data[0].remoteRef.propery: unknown field");
    });

    it("refuses a data entry without its required remoteRef", () => {
      const broken = externalSecret({
        ...validExternalSecretSpec,
        data: [{ secretKey: "username" }],
      });
      expect(() => validateCustomResource(broken)).toThrow(
        /spec\.data\[0\]\.remoteRef: required field is missing/,
      );
    });
  });

  it("refuses kinds without a pinned schema", () => {
    expect(() =>
      validateCustomResource({
        apiVersion: "example.com/v1",
        kind: "Widget",
        metadata: { name: "w" },
      }),
    ).toThrow("no pinned CRD schema for example.com/v1 Widget");
  });
});
