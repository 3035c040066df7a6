/** The design figures and the components' input checks, as plain functions: no mocks needed. */
import {
  backupCron,
  backupIntervalHours,
  describeTargetDesign,
  loadStack,
  parameterGroupFamily,
  type TargetConfig,
} from "../../config";
import { backupFailurePattern } from "../../infra/aws/alarms";
import { validateBackupPlanArgs } from "../../infra/aws/backup-plan";
import { tlsOnlyPolicy } from "../../infra/aws/backup-storage";
import { amiTypeFor, buildKubeconfig, validateClusterArgs } from "../../infra/aws/cluster";
import { generatePassword, validateDatabaseArgs } from "../../infra/aws/database";
import { keyPolicy } from "../../infra/aws/kms";
import { pickZones, subnetRanges, validateNetworkArgs } from "../../infra/aws/network";
import { TARGET_IDENTITIES } from "../../charts/target/identities";
import { commandPolicy } from "../../infra/aws/workload-identity";
import { targetInfraProblems } from "../../infra/config";
import { doc, jsonObject, kubeconfigOf } from "./assertions";

/** A committed stack that must be a target. */
function loadTarget(stack: string): TargetConfig {
  const config = loadStack(stack);
  if (config.topology !== "target") throw new Error(`${stack} is not a target stack`);
  return config;
}

// prod runs a warm standby; its pilot-light variant is the baseline these figures describe.
const prodStack = loadTarget("prod");
const prod: TargetConfig = { ...prodStack, dr: { ...prodStack.dr, strategy: "pilot-light" } };
const staging = loadTarget("staging");

describe("describeTargetDesign", () => {
  test("prod as a pilot light: hourly snapshots for a 15m RPO, 14 days everywhere, RTC 15 min", () => {
    const design = describeTargetDesign(prod);
    expect(design.backupPlan).toMatchObject({
      schedule: "cron(0 * ? * * *)",
      intervalHours: 1,
      retentionDays: 14,
    });
    expect(design.backupPlan.vaultLock).toEqual({
      mode: "compliance",
      changeableForDays: 3,
      minRetentionDays: 14,
      maxRetentionDays: 365,
    });
    expect(design.database).toMatchObject({
      multiAz: true,
      backupRetentionDays: 14,
      crossRegionReplica: false,
    });
    expect(design.exportBucket).toMatchObject({
      replicationTimeControlMinutes: 15,
      noncurrentVersionDays: 14,
    });
    expect(design.cluster.drNodesPerZone.map((n) => n.desired)).toEqual([1, 0, 0]);
    expect(design.network.natGateways).toBe(3);
  });

  test("staging: 2 zones, 1 NAT, 3 days", () => {
    const design = describeTargetDesign(staging);
    expect(design.network).toMatchObject({ availabilityZones: 2, natGateways: 1 });
    expect(design.backupPlan.retentionDays).toBe(3);
    expect(design.database.multiAz).toBe(true);
  });

  test("warm standby adds the cross-region replica and running DR nodes", () => {
    const design = describeTargetDesign({ ...prod, dr: { ...prod.dr, strategy: "warm-standby" } });
    expect(design.database.crossRegionReplica).toBe(true);
    expect(design.cluster.drNodesPerZone.every((n) => n.desired === 1 && n.min === 1)).toBe(true);
  });

  test("the backup interval is the longest even interval within the RPO, never below AWS Backup's hour", () => {
    expect(backupIntervalHours(15 * 60)).toBe(1);
    expect(backupIntervalHours(3600)).toBe(1);
    expect(backupIntervalHours(5 * 3600)).toBe(4);
    expect(backupIntervalHours(2 * 86400)).toBe(24);
    expect(backupCron(4)).toBe("cron(0 0/4 ? * * *)");
    expect(backupCron(24)).toBe("cron(0 0 ? * * *)");
    expect(parameterGroupFamily("18.1")).toBe("postgres18");
  });

  test("restore tests run at most daily, weekly when restore tests are asked that rarely", () => {
    expect(describeTargetDesign(prod).restoreTesting.schedule).toBe("cron(0 5 ? * * *)");
    const weekly = { ...prod, restoreTest: { ...prod.restoreTest, intervalSeconds: 7 * 86400 } };
    expect(describeTargetDesign(weekly).restoreTesting.schedule).toBe("cron(0 5 ? * MON *)");
  });
});

describe("input checks", () => {
  test("infra-only settings: unsupported EKS and PostgreSQL versions", () => {
    expect(targetInfraProblems(prod)).toEqual([]);
    const old = {
      ...prod,
      cluster: { ...prod.cluster, kubernetesVersion: "1.33" },
      database: { ...prod.database, engineVersion: "14" },
    };
    expect(targetInfraProblems(old).map((p) => p.key)).toEqual([
      "pra:kubernetesVersion",
      "pra:dbEngineVersion",
    ]);
  });

  test("a target needs the public domain its certificate is validated in", () => {
    const { serviceDomain: _omitted, ...withoutDomain } = prod;
    expect(targetInfraProblems(withoutDomain)).toEqual([
      {
        key: "pra:serviceDomain",
        message: expect.stringMatching(
          /^expected a domain with a public Route 53 hosted zone/,
        ) as unknown,
      },
    ]);
  });

  test("the cluster's version is the one the pinned Cluster Autoscaler is built for", () => {
    const other = { ...prod, cluster: { ...prod.cluster, kubernetesVersion: "1.34" } };
    expect(targetInfraProblems(other)).toEqual([
      {
        key: "pra:kubernetesVersion",
        message:
          "expected 1.35, the version the pinned Cluster Autoscaler is built for " +
          '(infra/kubernetes/addon-charts.ts: move its chart with the cluster); found "1.34"',
      },
    ]);
  });

  test("network: zones and ranges", () => {
    const args = {
      cidrBlock: "10.20.0.0/16",
      logsKeyArn: "k",
      region: "eu-west-3",
      clusterName: "c",
    };
    expect(() => validateNetworkArgs({ ...args, availabilityZones: 1 })).toThrow(
      "expected 2 to 6 availability zones",
    );
    expect(() => validateNetworkArgs({ ...args, cidrBlock: "192.168.0.0/24" })).toThrow(
      "expected a /16",
    );
    const ranges = Array.from({ length: 6 }, (_, i) => subnetRanges("10.20.0.0/16", i));
    expect(new Set(ranges.flatMap((r) => [r.private, r.public, r.loadBalancers])).size).toBe(18);
    expect(() => pickZones(["eu-west-3a", "eu-west-3b"], 3, "eu-west-3")).toThrow(
      "eu-west-3 has 2 availability zones",
    );
  });

  test("cluster: one node group size per zone, min <= desired <= max", () => {
    const args = {
      clusterName: "c",
      region: "r",
      kubernetesVersion: "1.35",
      nodeInstanceType: "m7i.large",
      vpcId: "v",
      privateSubnetIds: ["a", "b"],
      nodesPerZone: [{ min: 1, desired: 1, max: 2 }],
      keys: { eks: "k", ebs: "k", logs: "k" },
    };
    expect(() => validateClusterArgs(args)).toThrow("1 node group sizes for 2 zones");
    const bad = { ...args, nodesPerZone: [args.nodesPerZone[0]!, { min: 2, desired: 1, max: 3 }] };
    expect(() => validateClusterArgs(bad)).toThrow("zone 1: expected min <= desired <= max");
    expect(amiTypeFor("m7g.large")).toBe("AL2023_ARM_64_STANDARD");
    expect(amiTypeFor("m7i.large")).toBe("AL2023_x86_64_STANDARD");
    // Only an exec plugin: no token, client certificate or password in the kubeconfig.
    const [user] = kubeconfigOf(buildKubeconfig("c", "https://e", "ca", "r")).users;
    expect(Object.keys(user?.user ?? {})).toEqual(["exec"]);
  });

  test("database: retention 0 or past RDS's 35 days is refused, Multi-AZ needs two subnets", () => {
    const design = describeTargetDesign(prod).database;
    const args = {
      identifier: "db",
      vpcId: "v",
      subnetIds: ["a", "b"],
      clientSecurityGroupId: "sg",
      design: { ...design, backupRetentionDays: 0 },
      keys: { rds: "k", secrets: "k" },
      secretName: "s",
      region: "eu-west-3",
    };
    expect(() => validateDatabaseArgs(args)).toThrow("0 turns point-in-time recovery off");
    expect(() =>
      validateDatabaseArgs({ ...args, design: { ...design, backupRetentionDays: 36 } }),
    ).toThrow("from 1 to 35 days");
    expect(() => validateDatabaseArgs({ ...args, design, subnetIds: ["a"] })).toThrow(
      "at least 2 zones",
    );
    expect(generatePassword()).not.toEqual(generatePassword());
  });

  test("backup plan: a vault lock that would refuse the plan's copies is refused", () => {
    const design = describeTargetDesign(prod);
    const args = {
      plan: {
        ...design.backupPlan,
        vaultLock: { ...design.backupPlan.vaultLock, minRetentionDays: 30 },
      },
    };
    expect(() => validateBackupPlanArgs(args)).toThrow("would refuse copies kept 14 days");
  });
});

describe("policies", () => {
  test("keys: the account administers through IAM; only the services that need it are named", () => {
    const logs = doc(keyPolicy("logs", "111", "aws", "eu-west-3"));
    expect(logs.Statement.map((s) => s.Principal)).toEqual([
      { AWS: "arn:aws:iam::111:root" },
      { Service: "logs.eu-west-3.amazonaws.com" },
    ]);
    expect(doc(keyPolicy("rds", "111", "aws", "eu-west-3")).Statement).toHaveLength(1);
  });

  test("buckets deny plain HTTP; only the export job deletes, and no identity can delete a version", () => {
    expect(doc(tlsOnlyPolicy("arn:aws:s3:::b")).Statement[0]?.Resource).toEqual([
      "arn:aws:s3:::b",
      "arn:aws:s3:::b/*",
    ]);
    const actionsOf = (identity: (typeof TARGET_IDENTITIES)[keyof typeof TARGET_IDENTITIES]) =>
      doc(commandPolicy(identity, { bucketArn: "arn:aws:s3:::b", keyArn: "k" })).Statement.flatMap(
        (s) => [s.Action].flat(),
      );
    // A delete on the versioned bucket only hides an export: its version stays until it expires.
    expect(actionsOf(TARGET_IDENTITIES.export)).toContain("s3:DeleteObject");
    for (const identity of [TARGET_IDENTITIES.app, TARGET_IDENTITIES.restoreTest])
      expect(actionsOf(identity)).not.toContain("s3:DeleteObject");
    for (const identity of Object.values(TARGET_IDENTITIES))
      expect(actionsOf(identity)).not.toContain("s3:DeleteObjectVersion");
  });

  test("backup failures include cross-region copies", () => {
    expect(jsonObject(backupFailurePattern())["detail-type"]).toContain("Copy Job State Change");
  });
});
