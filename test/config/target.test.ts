/** The committed target stack files parse, with the figures the AWS side relies on. */
import { loadStack, parseStackConfig, readStackValues, type TargetConfig } from "../../config";

function loadTargetStack(stack: string): TargetConfig {
  const config = loadStack(stack);
  if (config.topology !== "target") throw new Error(`${stack}: not a target stack`);
  return config;
}

describe("Pulumi.prod.yaml and Pulumi.staging.yaml", () => {
  test("prod: Paris with Frankfurt for DR, 3 zones, per-zone NAT, 14 days of PITR, a pinned ECR image", () => {
    const prod = loadTargetStack("prod");
    expect(prod.topology).toBe("target");
    expect(prod.region).toBe("eu-west-3");
    expect(prod.dr).toEqual({ region: "eu-central-1", strategy: "warm-standby" });
    expect(prod.network).toEqual({ availabilityZones: 3, natGateways: "per-zone" });
    expect(prod.database.backupRetentionDays).toBe(14);
    expect(prod.objectives).toMatchObject({
      rpoSeconds: 900,
      rtoSeconds: 3600,
      retentionSeconds: 14 * 86400,
    });
    expect(prod.image).toMatch(
      /^\d{12}\.dkr\.ecr\.eu-west-3\.amazonaws\.com\/pra-app:\d+\.\d+\.\d+$/,
    );
  });

  test("staging: smaller (2 zones, one NAT, burstable classes) with shorter retention", () => {
    const staging = loadTargetStack("staging");
    expect(staging.network).toEqual({ availabilityZones: 2, natGateways: "single" });
    expect(staging.database.instanceClass).toBe("db.t4g.medium");
    expect(staging.database.backupRetentionDays).toBe(3);
    expect(staging.dr.region).not.toBe(staging.region);
  });

  test("the same values as strings (as Pulumi passes them) give the same config", () => {
    const values = Object.fromEntries(
      Object.entries(readStackValues("prod")).map(([k, v]) => [k, String(v)]),
    );
    expect(parseStackConfig({ stack: "prod", file: "Pulumi.prod.yaml", values })).toEqual(
      loadStack("prod"),
    );
  });
});
