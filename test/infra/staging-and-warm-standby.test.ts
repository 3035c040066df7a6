/**
 * The staging stack as committed, and prod switched to warm standby (`pra:drStrategy:
 * warm-standby`, a string as Pulumi passes it): each evaluated once under mocks.
 */
import { expectRotatingKeyIn, providerRegion, zoneOfSubnet } from "./assertions";
import { type Evaluation, evaluateProgram, pulumiConfigOf } from "./harness";

const PRIMARY = "eu-west-3";
const DR = "eu-central-1";

describe("staging", () => {
  let run: Evaluation;
  beforeAll(async () => {
    run = await evaluateProgram("staging", pulumiConfigOf("staging"));
  });

  test("spans 2 zones with one shared NAT gateway that every private subnet routes through", () => {
    const subnets = run.mocks.ofType("aws:ec2/subnet:Subnet").filter((s) => s.region === PRIMARY);
    expect(new Set(subnets.map((s) => s.inputs.availabilityZone))).toEqual(
      new Set(["eu-west-3a", "eu-west-3b"]),
    );
    const nats = run.mocks.ofType("aws:ec2/natGateway:NatGateway").filter((n) => n.region === PRIMARY);
    expect(nats).toHaveLength(1);
    const routes = run.mocks
      .ofType("aws:ec2/routeTable:RouteTable")
      .filter((t) => t.region === PRIMARY && t.name.includes("-private-"))
      .map((t) => (t.inputs.routes as Array<{ natGatewayId: string }>)[0]!.natGatewayId);
    expect(routes).toEqual([nats[0]!.id, nats[0]!.id]);
  });

  test("keeps a Multi-AZ database with 3 days of point-in-time recovery, on a smaller class", () => {
    const db = run.mocks.one("aws:rds/instance:Instance", "pra-database-postgres");
    expect(db.inputs).toMatchObject({
      instanceClass: "db.t4g.medium",
      multiAz: true,
      backupRetentionPeriod: 3,
      deletionProtection: true,
      allocatedStorage: 20,
    });
    expectRotatingKeyIn(run.mocks, db.inputs.kmsKeyId, PRIMARY);
  });

  test("runs Graviton node groups (ARM AMI) in both zones", () => {
    const groups = run.mocks.ofType("aws:eks/nodeGroup:NodeGroup").filter((g) => g.region === PRIMARY);
    expect(groups.map((g) => g.inputs.amiType)).toEqual(["AL2023_ARM_64_STANDARD", "AL2023_ARM_64_STANDARD"]);
    expect(
      new Set(groups.map((g) => zoneOfSubnet(run.mocks, (g.inputs.subnetIds as string[])[0]))).size,
    ).toBe(2);
  });

  test("backups follow its objectives: hourly snapshots (RPO 1h), 3 days, DR vault locked for 3 days minimum", () => {
    const rule = (
      run.mocks.ofType("aws:backup/plan:Plan")[0]!.inputs.rules as Array<Record<string, unknown>>
    )[0]!;
    expect(rule.schedule).toBe("cron(0 * ? * * *)");
    expect(rule.lifecycle).toEqual({ deleteAfter: 3 });
    const lock = run.mocks.ofType("aws:backup/vaultLockConfiguration:VaultLockConfiguration")[0]!;
    expect(lock.region).toBe(DR);
    expect(lock.inputs.minRetentionDays).toBe(3);
  });

  test("has no alarm e-mail subscription when pra:alertEmail is unset", () => {
    expect(run.mocks.ofType("aws:sns/topicSubscription:TopicSubscription")).toEqual([]);
    expect(run.mocks.ofType("aws:sns/topic:Topic")).toHaveLength(2);
  });

  test("derives every physical name from the stack", () => {
    expect(run.outputs.clusterName!.value).toBe("pra-staging");
    expect(run.outputs.databaseSecretName!.value).toBe("pra/staging/database");
    expect(
      run.mocks.one("aws:backup/restoreTestingPlan:RestoreTestingPlan", "pra-backup-plan-restore-test").inputs
        .name,
    ).toBe("pra_staging_restore_test");
  });
});

describe("warm standby (prod with pra:drStrategy warm-standby)", () => {
  let run: Evaluation;
  beforeAll(async () => {
    run = await evaluateProgram("prod", pulumiConfigOf("prod", { "pra:drStrategy": "warm-standby" }));
  });

  test("a cross-region read replica of the primary runs in the DR region, encrypted with a DR key", () => {
    const primary = run.mocks.one("aws:rds/instance:Instance", "pra-database-postgres");
    const replica = run.mocks.one("aws:rds/instance:Instance", "pra-dr-region-replica");
    expect(providerRegion(run.mocks, replica)).toBe(DR);
    expect(replica.inputs).toMatchObject({
      replicateSourceDb: primary.state.arn,
      storageEncrypted: true,
      deletionProtection: true,
      backupRetentionPeriod: 14,
      instanceClass: "db.m7g.large",
    });
    expectRotatingKeyIn(run.mocks, replica.inputs.kmsKeyId, DR);
    const params = run.mocks.byIdOrArn(replica.inputs.parameterGroupName)!;
    expect(params.region).toBe(DR);
    expect(params.inputs.parameters).toContainEqual({ name: "rds.force_ssl", value: "1" });
    expect(run.outputs.drDatabaseEndpoint!.value).toBe(replica.state.endpoint);
  });

  test("the replica is reachable only from the DR cluster's nodes", () => {
    const replica = run.mocks.one("aws:rds/instance:Instance", "pra-dr-region-replica");
    const sg = run.mocks.byIdOrArn((replica.inputs.vpcSecurityGroupIds as string[])[0])!;
    const rules = run.mocks
      .ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
      .filter((r) => r.inputs.securityGroupId === sg.id);
    const drCluster = run.mocks.one("aws:eks/cluster:Cluster", "pra-dr-region-cluster-eks");
    expect(rules.map((r) => r.inputs.referencedSecurityGroupId)).toEqual([
      (drCluster.state.vpcConfig as Record<string, string>).clusterSecurityGroupId,
    ]);
  });

  test("nodes run in every DR zone, each with its own NAT gateway like the primary", () => {
    expect(run.mocks.ofType("aws:ec2/natGateway:NatGateway").filter((n) => n.region === DR)).toHaveLength(3);
    const groups = run.mocks.ofType("aws:eks/nodeGroup:NodeGroup").filter((g) => g.region === DR);
    expect(groups.map((g) => g.inputs.scalingConfig)).toEqual(
      Array.from({ length: 3 }, () => ({ minSize: 1, desiredSize: 1, maxSize: 3 })),
    );
  });

  test("replica lag raises an alarm to the DR region's topic, under half the RPO", () => {
    const lag = run.mocks
      .ofType("aws:cloudwatch/metricAlarm:MetricAlarm")
      .filter((a) => a.inputs.metricName === "ReplicaLag");
    expect(lag).toHaveLength(1);
    expect(providerRegion(run.mocks, lag[0]!)).toBe(DR);
    expect(lag[0]!.inputs.dimensions).toEqual({ DBInstanceIdentifier: "pra-prod-dr" });
    expect(lag[0]!.inputs.threshold).toBe(450);
    const drTopic = run.mocks.ofType("aws:sns/topic:Topic").find((t) => t.region === DR)!;
    expect(lag[0]!.inputs.alarmActions).toEqual([drTopic.state.arn]);
  });

  test("automated backups are still replicated, so a corrupted replica can be replaced by a restore", () => {
    const replication = run.mocks.ofType(
      "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication",
    );
    expect(replication.map((r) => r.region)).toEqual([DR]);
  });
});
