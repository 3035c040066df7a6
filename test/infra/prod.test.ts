/**
 * The prod stack (pilot light), evaluated once under mocks from the committed Pulumi.prod.yaml,
 * its values stringified as Pulumi passes them. Every test asserts the inputs the program gave.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { restoreValidatorBundle } from "../../infra/aws/restore-validator/bundle";
import {
  customerKey,
  doc,
  expectRotatingKeyIn,
  inputOf,
  jsonObject,
  KEY,
  kubeconfigOf,
  providerRegion,
  shapes,
  stateOf,
  zoneOfSubnet,
} from "./assertions";
import { ACCOUNT_ID, type Evaluation, evaluateProgram, pulumiConfigOf } from "./harness";

const PRIMARY = "eu-west-3";
const DR = "eu-central-1";
let run: Evaluation;
const mocks = () => run.mocks;

beforeAll(async () => {
  // prod's settings with a pilot light (Pulumi.prod.yaml runs a warm standby, tested with staging's).
  // A pilot light cannot hold prod's 15m RPO across regions (dr/), so those scenarios are not declared.
  run = await evaluateProgram(
    "prod",
    pulumiConfigOf("prod", {
      "pra:drStrategy": "pilot-light",
      "pra:drScenarios": JSON.stringify([
        "pod-crash",
        "node-loss",
        "data-volume-loss",
        "zone-loss",
        "operator-error",
      ]),
    }),
  );
});

describe("keys and encryption", () => {
  test("every customer-managed key rotates, and each region has its own set", () => {
    const keys = mocks().ofType(KEY);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(key.inputs.enableKeyRotation).toBe(true);
    expect(new Set(keys.map((key) => key.region))).toEqual(new Set([PRIMARY, DR]));
  });

  test("the database storage and performance insights use a customer-managed key of the primary region", () => {
    const db = mocks().one("aws:rds/instance:Instance", "pra-database-postgres");
    expect(db.inputs.storageEncrypted).toBe(true);
    expectRotatingKeyIn(mocks(), db.inputs.kmsKeyId, PRIMARY);
    expectRotatingKeyIn(mocks(), db.inputs.performanceInsightsKmsKeyId, PRIMARY);
  });

  test("the credentials secret uses a customer-managed key, and its DR replica one of the DR region", () => {
    const secret = mocks().one("aws:secretsmanager/secret:Secret", "pra-database-credentials");
    expectRotatingKeyIn(mocks(), secret.inputs.kmsKeyId, PRIMARY);
    const replicas = inputOf(
      secret,
      "replicas",
      z.array(z.looseObject({ region: z.string(), kmsKeyId: z.string() })),
    );
    expect(replicas).toHaveLength(1);
    expect(replicas[0]!.region).toBe(DR);
    expectRotatingKeyIn(mocks(), replicas[0]!.kmsKeyId, DR);
  });

  test("both buckets default to SSE-KMS with a customer-managed key of their own region", () => {
    const configs = mocks().ofType(
      "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    );
    expect(configs.map((c) => c.region).sort()).toEqual([DR, PRIMARY].sort());
    for (const config of configs) {
      const [rule] = inputOf(
        config,
        "rules",
        z.array(z.looseObject({ applyServerSideEncryptionByDefault: shapes.stringMap })),
      );
      expect(rule?.applyServerSideEncryptionByDefault.sseAlgorithm).toBe("aws:kms");
      expectRotatingKeyIn(
        mocks(),
        rule?.applyServerSideEncryptionByDefault.kmsMasterKeyId,
        config.region,
      );
    }
  });

  test("backup vaults, log groups and alarm topics use customer-managed keys of their region", () => {
    for (const vault of mocks().ofType("aws:backup/vault:Vault"))
      expectRotatingKeyIn(mocks(), vault.inputs.kmsKeyArn, vault.region);
    const logGroups = mocks().ofType("aws:cloudwatch/logGroup:LogGroup");
    expect(logGroups.length).toBeGreaterThanOrEqual(5);
    for (const group of logGroups)
      expectRotatingKeyIn(mocks(), group.inputs.kmsKeyId, group.region);
    for (const topic of mocks().ofType("aws:sns/topic:Topic"))
      expectRotatingKeyIn(mocks(), topic.inputs.kmsMasterKeyId, topic.region);
  });

  test("Kubernetes secrets are envelope-encrypted with a customer-managed key in both clusters", () => {
    for (const cluster of mocks().ofType("aws:eks/cluster:Cluster")) {
      const encryption = inputOf(
        cluster,
        "encryptionConfig",
        z.looseObject({
          resources: shapes.strings,
          provider: z.looseObject({ keyArn: z.string() }),
        }),
      );
      expect(encryption.resources).toEqual(["secrets"]);
      expectRotatingKeyIn(mocks(), encryption.provider.keyArn, cluster.region);
      expect(customerKey(mocks(), encryption.provider.keyArn).inputs.description).toMatch(
        /Kubernetes secrets/,
      );
    }
  });

  test("node disks and persistent volumes are encrypted gp3 with a customer-managed key", () => {
    for (const template of mocks().ofType("aws:ec2/launchTemplate:LaunchTemplate")) {
      const ebs = inputOf(
        template,
        "blockDeviceMappings",
        z.array(z.looseObject({ ebs: z.record(z.string(), z.unknown()) })),
      )[0]!.ebs;
      expect(ebs.encrypted).toBe("true");
      expect(ebs.volumeType).toBe("gp3");
      expectRotatingKeyIn(mocks(), ebs.kmsKeyId, template.region);
      expect(template.inputs.metadataOptions).toMatchObject({
        httpTokens: "required",
        httpPutResponseHopLimit: 1,
      });
    }
    const classes = mocks().ofType("kubernetes:storage.k8s.io/v1:StorageClass");
    const nameOf = (storageClass: (typeof classes)[number]) =>
      inputOf(storageClass, "metadata", z.looseObject({ name: z.string() })).name;
    // Per cluster: the default class (kept, backed up) and the scratch class (deleted with its claim).
    expect(classes.map(nameOf).sort()).toEqual([
      "gp3-encrypted",
      "gp3-encrypted",
      "gp3-scratch",
      "gp3-scratch",
    ]);
    for (const storageClass of classes) {
      const metadata = inputOf(
        storageClass,
        "metadata",
        z.looseObject({ name: z.string(), annotations: shapes.stringMap.optional() }),
      );
      const isDefault = metadata.name === "gp3-encrypted";
      expect(metadata.annotations?.["storageclass.kubernetes.io/is-default-class"]).toBe(
        isDefault ? "true" : undefined,
      );
      expect(storageClass.inputs.provisioner).toBe("ebs.csi.aws.com");
      expect(storageClass.inputs.reclaimPolicy).toBe(isDefault ? "Retain" : "Delete");
      const parameters = inputOf(storageClass, "parameters", shapes.stringMap);
      expect(parameters).toMatchObject({ type: "gp3", encrypted: "true" });
      expect(parameters.tagSpecification_1).toBe(isDefault ? "pra-backup=true" : undefined);
      expect(customerKey(mocks(), parameters.kmsKeyId).type).toBe(KEY);
    }
  });
});

describe("network", () => {
  test("the primary VPC has a public and a private subnet in each of 3 distinct zones, and a NAT per zone", () => {
    const subnets = mocks()
      .ofType("aws:ec2/subnet:Subnet")
      .filter((s) => s.region === PRIMARY);
    const zones = (kind: string) =>
      subnets.filter((s) => s.name.includes(`-${kind}-`)).map((s) => s.inputs.availabilityZone);
    expect(new Set(zones("public"))).toEqual(new Set(["eu-west-3a", "eu-west-3b", "eu-west-3c"]));
    expect(new Set(zones("private"))).toEqual(new Set(["eu-west-3a", "eu-west-3b", "eu-west-3c"]));
    const nats = mocks()
      .ofType("aws:ec2/natGateway:NatGateway")
      .filter((n) => n.region === PRIMARY);
    expect(new Set(nats.map((n) => zoneOfSubnet(mocks(), n.inputs.subnetId))).size).toBe(3);
  });

  test("internal load balancers get subnets of their own, the only range the app's network rules admit", () => {
    const subnets = mocks()
      .ofType("aws:ec2/subnet:Subnet")
      .filter((s) => s.region === PRIMARY);
    const tagged = subnets.filter(
      (s) => inputOf(s, "tags", shapes.stringMap)["kubernetes.io/role/internal-elb"],
    );
    expect(tagged.map((s) => s.inputs.cidrBlock).sort()).toEqual([
      "10.20.224.0/22",
      "10.20.228.0/22",
      "10.20.232.0/22",
    ]);
    expect(new Set(tagged.map((s) => s.inputs.availabilityZone))).toEqual(
      new Set(["eu-west-3a", "eu-west-3b", "eu-west-3c"]),
    );
    // Pods and nodes live in the private subnets: none of them is inside the admitted range.
    const privates = subnets.filter((s) => s.name.includes("-private-"));
    expect(
      privates.every(
        (s) => !inputOf(s, "tags", shapes.stringMap)["kubernetes.io/role/internal-elb"],
      ),
    ).toBe(true);
    expect(
      privates.map((s) => s.inputs.cidrBlock).every((cidr) => !String(cidr).startsWith("10.20.22")),
    ).toBe(true);
  });

  test("each private subnet routes through the NAT gateway of its own zone", () => {
    const tables = mocks()
      .ofType("aws:ec2/routeTable:RouteTable")
      .filter((t) => t.region === PRIMARY && t.name.includes("-private-"));
    const natIds = tables.map(
      (t) =>
        inputOf(t, "routes", z.array(z.looseObject({ natGatewayId: z.string() })))[0]!.natGatewayId,
    );
    expect(new Set(natIds).size).toBe(3);
  });

  test("every VPC has flow logs of all traffic to an encrypted log group", () => {
    const vpcs = mocks().ofType("aws:ec2/vpc:Vpc");
    const flowLogs = mocks().ofType("aws:ec2/flowLog:FlowLog");
    expect(flowLogs.map((f) => f.inputs.vpcId).sort()).toEqual(vpcs.map((v) => v.id).sort());
    for (const flowLog of flowLogs) {
      expect(flowLog.inputs.trafficType).toBe("ALL");
      expect(mocks().byIdOrArn(flowLog.inputs.logDestination)?.type).toBe(
        "aws:cloudwatch/logGroup:LogGroup",
      );
    }
  });
});

describe("cluster", () => {
  const primaryCluster = () => mocks().one("aws:eks/cluster:Cluster", "pra-cluster-eks");

  test("EKS runs the configured version with every control-plane log and access entries, not aws-auth", () => {
    const cluster = primaryCluster();
    expect(cluster.inputs.version).toBe("1.35");
    expect(cluster.inputs.enabledClusterLogTypes).toEqual([
      "api",
      "audit",
      "authenticator",
      "controllerManager",
      "scheduler",
    ]);
    expect(cluster.inputs.accessConfig).toMatchObject({ authenticationMode: "API" });
    const entries = mocks().ofType("aws:eks/accessEntry:AccessEntry");
    expect(entries.filter((e) => e.region === PRIMARY)).toHaveLength(1);
    expect(
      mocks().ofType("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")[0]!.inputs
        .policyArn,
    ).toMatch(/AmazonEKSClusterAdminPolicy$/);
    const configMaps = mocks().ofType("kubernetes:core/v1:ConfigMap");
    expect(configMaps.map((c) => inputOf(c, "metadata", shapes.metadata).name)).not.toContain(
      "aws-auth",
    );
  });

  test("the API endpoint is private in both regions: no public access unless pra:apiAccessCidrs names ranges", () => {
    for (const cluster of mocks().ofType("aws:eks/cluster:Cluster")) {
      expect(cluster.inputs.vpcConfig).toMatchObject({
        endpointPrivateAccess: true,
        endpointPublicAccess: false,
      });
      expect(inputOf(cluster, "vpcConfig", z.looseObject({})).publicAccessCidrs).toBeUndefined();
    }
  });

  test("managed node groups run in the private subnet of every zone, one per zone", () => {
    const groups = mocks()
      .ofType("aws:eks/nodeGroup:NodeGroup")
      .filter((g) => g.region === PRIMARY);
    expect(groups).toHaveLength(3);
    const zones = groups.map((g) => {
      const subnetIds = inputOf(g, "subnetIds", shapes.strings);
      expect(subnetIds).toHaveLength(1);
      expect(mocks().byIdOrArn(subnetIds[0])!.name).toMatch(/-private-\d$/);
      return zoneOfSubnet(mocks(), subnetIds[0]);
    });
    expect(new Set(zones).size).toBe(3);
    for (const group of groups) {
      expect(group.inputs.scalingConfig).toEqual({ minSize: 1, desiredSize: 1, maxSize: 3 });
      expect(group.inputs.instanceTypes).toEqual(["m7i.large"]);
      expect(group.inputs.amiType).toBe("AL2023_x86_64_STANDARD");
    }
  });

  test("the EBS CSI driver, the app and the add-ons get AWS access through Pod Identity, no static credentials", () => {
    const csi = mocks().one("aws:eks/addon:Addon", "pra-cluster-aws-ebs-csi-driver");
    const association = inputOf(
      csi,
      "podIdentityAssociations",
      z.array(z.looseObject({ serviceAccount: z.string(), roleArn: z.string() })),
    )[0]!;
    expect(association.serviceAccount).toBe("ebs-csi-controller-sa");
    expect(
      mocks().one("aws:eks/addon:Addon", "pra-cluster-eks-pod-identity-agent").inputs.addonName,
    ).toBe("eks-pod-identity-agent");
    const pods = mocks().ofType("aws:eks/podIdentityAssociation:PodIdentityAssociation");
    // The same identities in each region's cluster: the DR cluster runs the failover workload.
    for (const region of [PRIMARY, DR]) {
      const accounts = pods
        .filter((p) => p.region === region)
        .map((p) => `${String(p.inputs.namespace)}/${String(p.inputs.serviceAccount)}`);
      expect(accounts.sort()).toEqual([
        "external-secrets/external-secrets",
        "kube-system/aws-load-balancer-controller",
        "kube-system/cluster-autoscaler",
        "monitoring/alertmanager",
        "pra/pra-app",
        "pra/pra-export",
        "pra/pra-restore-test",
      ]);
    }
    for (const roleArn of [association.roleArn, ...pods.map((p) => p.inputs.roleArn)]) {
      const role = mocks().byIdOrArn(roleArn)!;
      const trust = doc(role.inputs.assumeRolePolicy).Statement[0]!;
      expect(trust.Principal).toEqual({ Service: "pods.eks.amazonaws.com" });
    }
    const staticCredentials = mocks().resources.filter((r) =>
      [
        "aws:iam/accessKey:AccessKey",
        "aws:iam/user:User",
        "aws:iam/userLoginProfile:UserLoginProfile",
      ].includes(r.type),
    );
    expect(staticCredentials).toEqual([]);
  });

  test("the app's role may list the exports and read the restore test's report, nothing more", () => {
    // test/contract checks every command's role against the app's contract; this is serve's.
    const app = mocks().byIdOrArn(run.outputs.appRoleArn!.value)!;
    const policy = mocks()
      .ofType("aws:iam/rolePolicy:RolePolicy")
      .find((p) => p.inputs.role === app.id)!;
    const bucketArn = `arn:aws:s3:::${String(run.outputs.exportBucketName!.value)}`;
    expect(doc(policy.inputs.policy).Statement).toEqual([
      { Sid: "ListExports", Effect: "Allow", Action: ["s3:ListBucket"], Resource: bucketArn },
      {
        Sid: "RestoreTestReport",
        Effect: "Allow",
        Action: ["s3:GetObject"],
        Resource: `${bucketArn}/exports/.restore-tests/*`,
      },
      {
        Sid: "ExportKey",
        Effect: "Allow",
        Action: ["kms:Decrypt"],
        Resource: run.outputs.exportBucketKeyArn!.value,
      },
    ]);
  });
});

describe("TLS at the load balancers", () => {
  test("a public ACM certificate for the service's name per region, validated by one public record", () => {
    const certificates = mocks().ofType("aws:acm/certificate:Certificate");
    expect(certificates.map((c) => c.region).sort()).toEqual([DR, PRIMARY]);
    for (const certificate of certificates) {
      expect(certificate.inputs).toMatchObject({
        domainName: "app.pra.example.com",
        validationMethod: "DNS",
      });
    }
    const zoneLookup = mocks().calls.find((c) => c.token === "aws:route53/getZone:getZone")!;
    expect(zoneLookup.inputs).toMatchObject({ name: "pra.example.com", privateZone: false });
    const validation = mocks()
      .ofType("aws:route53/record:Record")
      .filter((r) => r.name.endsWith("-validation"));
    expect(validation).toHaveLength(1);
    expect(validation[0]!.inputs).toMatchObject({ type: "CNAME", allowOverwrite: true });
    const validations = mocks().ofType("aws:acm/certificateValidation:CertificateValidation");
    expect(validations.map((v) => v.region).sort()).toEqual([DR, PRIMARY]);
    for (const v of validations) {
      expect(v.inputs.validationRecordFqdns).toEqual([validation[0]!.state.fqdn]);
    }
  });

  test("the private zone clients resolve in has the certificate's domain (split horizon)", () => {
    expect(mocks().one("aws:route53/zone:Zone", "pra-service-name-zone").inputs.name).toBe(
      "pra.example.com",
    );
  });

  test("the Load Balancer Controller may find the certificate by host, and read nothing else of ACM", () => {
    const policies = mocks()
      .ofType("aws:iam/rolePolicy:RolePolicy")
      .filter((p) => p.name.endsWith("-load-balancer-controller"));
    for (const policy of policies) {
      const acm = doc(policy.inputs.policy).Statement.filter((s) =>
        [s.Action].flat().some((a) => String(a).startsWith("acm:")),
      );
      expect(acm).toEqual([
        expect.objectContaining({ Action: ["acm:ListCertificates", "acm:DescribeCertificate"] }),
      ]);
    }
  });
});

describe("database", () => {
  const db = () => mocks().one("aws:rds/instance:Instance", "pra-database-postgres");

  test("PostgreSQL 18, Multi-AZ, 14 days of PITR (from pra:retention), protected from deletion", () => {
    expect(db().inputs).toMatchObject({
      engine: "postgres",
      engineVersion: "18",
      instanceClass: "db.m7g.large",
      multiAz: true,
      backupRetentionPeriod: 14,
      deletionProtection: true,
      skipFinalSnapshot: false,
      finalSnapshotIdentifier: "pra-prod-final",
      publiclyAccessible: false,
    });
  });

  test("its parameter group enforces TLS", () => {
    const params = mocks().byIdOrArn(db().inputs.parameterGroupName)!;
    expect(params.inputs.family).toBe("postgres18");
    expect(params.inputs.parameters).toContainEqual({ name: "rds.force_ssl", value: "1" });
  });

  test("only the cluster's nodes and the credential rotation and bootstrap functions can reach it", () => {
    const groups = inputOf(db(), "vpcSecurityGroupIds", shapes.strings);
    expect(groups).toHaveLength(1);
    const sg = mocks().byIdOrArn(groups[0])!;
    expect(sg.inputs.ingress ?? []).toEqual([]);
    const rules = mocks()
      .ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
      .filter((r) => r.inputs.securityGroupId === sg.id);
    const clusterSg = stateOf(
      mocks().one("aws:eks/cluster:Cluster", "pra-cluster-eks"),
      "vpcConfig",
      shapes.stringMap,
    ).clusterSecurityGroupId;
    const rotationSg = mocks().one(
      "aws:ec2/securityGroup:SecurityGroup",
      "pra-database-rotation-function",
    ).id;
    const bootstrapSg = mocks().one(
      "aws:ec2/securityGroup:SecurityGroup",
      "pra-database-bootstrap-function",
    ).id;
    expect(rules.map((r) => r.inputs.referencedSecurityGroupId).sort()).toEqual(
      [clusterSg, rotationSg, bootstrapSg].sort(),
    );
    for (const rule of rules) {
      expect(rule.inputs).toMatchObject({ fromPort: 5432, toPort: 5432 });
      expect(rule.inputs.cidrIpv4).toBeUndefined();
    }
  });

  test("RDS manages and rotates the master password; no password of it is in Pulumi's inputs", () => {
    const secretsKey = mocks().one("aws:secretsmanager/secret:Secret", "pra-database-credentials")
      .inputs.kmsKeyId;
    expect(db().inputs).toMatchObject({
      username: "pra_admin",
      manageMasterUserPassword: true,
      masterUserSecretKmsKeyId: secretsKey,
    });
    expect(db().inputs.password).toBeUndefined();
    expect(db().inputs.passwordWo).toBeUndefined();
  });

  test("the app's secret names its own user, write-only, and the master's secret for the rotation", () => {
    const secret = mocks().one("aws:secretsmanager/secret:Secret", "pra-database-credentials");
    expect(secret.inputs.name).toBe("pra/prod/database");
    const version = mocks().one(
      "aws:secretsmanager/secretVersion:SecretVersion",
      "pra-database-credentials",
    );
    expect(version.inputs.secretId).toBe(secret.id);
    const stored = jsonObject(version.inputs.secretStringWo);
    expect(stored).toMatchObject({ host: db().state.address, username: "pra_app", dbname: "pra" });
    expect(String(stored.password)).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const masterSecrets = stateOf(
      db(),
      "masterUserSecrets",
      z.array(z.looseObject({ secretArn: z.string() })),
    );
    expect(stored.masterarn).toBe(masterSecrets[0]!.secretArn);
    expect(version.secretInputs).toContain("secretStringWo");
  });

  test("a function in the VPC creates the app's user once, reading only the two secrets", () => {
    const secret = mocks().one("aws:secretsmanager/secret:Secret", "pra-database-credentials");
    const fn = mocks().one("aws:lambda/function:Function", "pra-database-bootstrap-function");
    expect(fn.inputs).toMatchObject({ runtime: "nodejs22.x", handler: "index.handler" });
    const policy = mocks().one("aws:iam/rolePolicy:RolePolicy", "pra-database-bootstrap-function");
    const read = doc(policy.inputs.policy).Statement.find(
      (s) => s.Action === "secretsmanager:GetSecretValue",
    )!;
    const masterSecrets = stateOf(
      db(),
      "masterUserSecrets",
      z.array(z.looseObject({ secretArn: z.string() })),
    );
    expect(read.Resource).toEqual([masterSecrets[0]!.secretArn, secret.state.arn ?? secret.id]);
    const invocation = mocks().one(
      "aws:lambda/invocation:Invocation",
      "pra-database-bootstrap-run",
    );
    expect(invocation.inputs.functionName).toBe(fn.state.name ?? fn.inputs.name ?? fn.id);
  });

  test("Secrets Manager rotates the app's password every 30 days with AWS's pinned alternating-users function", () => {
    const secret = mocks().one("aws:secretsmanager/secret:Secret", "pra-database-credentials");
    const application = mocks().one(
      "aws:serverlessrepository/cloudFormationStack:CloudFormationStack",
      "pra-database-rotation-function",
    );
    expect(application.inputs).toMatchObject({
      applicationId:
        "arn:aws:serverlessrepo:us-east-1:297356227824:applications/SecretsManagerRDSPostgreSQLRotationMultiUser",
      semanticVersion: "1.1.671",
      parameters: {
        endpoint: "https://secretsmanager.eu-west-3.amazonaws.com",
        masterSecretKmsKeyArn: secret.inputs.kmsKeyId,
      },
    });
    const rotation = mocks().one(
      "aws:secretsmanager/secretRotation:SecretRotation",
      "pra-database-rotation-schedule",
    );
    expect(rotation.inputs).toMatchObject({
      secretId: secret.state.arn ?? secret.id,
      rotationRules: { automaticallyAfterDays: 30 },
    });
    expect(String(rotation.inputs.rotationLambdaArn)).toContain(":function:pra-prod-db-rotation");
  });

  test("its automated backups are replicated to the DR region with a key of that region", () => {
    const replication = mocks().ofType(
      "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication",
    );
    expect(replication).toHaveLength(1);
    expect(providerRegion(mocks(), replication[0]!)).toBe(DR);
    expect(replication[0]!.inputs.sourceDbInstanceArn).toBe(db().state.arn);
    expect(replication[0]!.inputs.retentionPeriod).toBe(14);
    expectRotatingKeyIn(mocks(), replication[0]!.inputs.kmsKeyId, DR);
  });
});

describe("backup storage", () => {
  const bucket = (region: string) =>
    mocks()
      .ofType("aws:s3/bucket:Bucket")
      .find((b) => b.region === region)!;

  test("the replica bucket is in the DR region, through an aws provider for that region", () => {
    expect(providerRegion(mocks(), bucket(PRIMARY))).toBe(PRIMARY);
    expect(providerRegion(mocks(), bucket(DR))).toBe(DR);
    expect(bucket(DR).inputs.bucket).toBe(`pra-prod-exports-${ACCOUNT_ID}-${DR}`);
  });

  test("both buckets are versioned, private, TLS-only and expire old versions after the retention", () => {
    for (const region of [PRIMARY, DR]) {
      const id = bucket(region).id;
      const of = (type: string) =>
        mocks()
          .ofType(type)
          .find((r) => r.inputs.bucket === id)!;
      expect(of("aws:s3/bucketVersioning:BucketVersioning").inputs.versioningConfiguration).toEqual(
        {
          status: "Enabled",
        },
      );
      expect(of("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs).toMatchObject({
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      });
      const deny = doc(of("aws:s3/bucketPolicy:BucketPolicy").inputs.policy).Statement[0]!;
      expect(deny).toMatchObject({
        Effect: "Deny",
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      });
      const rule = inputOf(
        of("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"),
        "rules",
        shapes.objects,
      )[0]!;
      expect(rule.noncurrentVersionExpiration).toEqual({ noncurrentDays: 14 });
    }
  });

  test("replication goes to the DR bucket with RTC 15 minutes, its metrics, delete markers and the DR key", () => {
    const config = mocks().ofType("aws:s3/bucketReplicationConfig:BucketReplicationConfig");
    expect(config).toHaveLength(1);
    expect(config[0]!.inputs.bucket).toBe(bucket(PRIMARY).id);
    const rule = inputOf(
      config[0]!,
      "rules",
      z.array(
        z.looseObject({
          destination: z.looseObject({ encryptionConfiguration: shapes.stringMap }),
          deleteMarkerReplication: z.unknown(),
        }),
      ),
    )[0]!;
    expect(rule.destination.bucket).toBe(bucket(DR).state.arn);
    expect(rule.destination.replicationTime).toEqual({ status: "Enabled", time: { minutes: 15 } });
    expect(rule.destination.metrics).toEqual({
      status: "Enabled",
      eventThreshold: { minutes: 15 },
    });
    expect(rule.deleteMarkerReplication).toEqual({ status: "Enabled" });
    expectRotatingKeyIn(mocks(), rule.destination.encryptionConfiguration.replicaKmsKeyId, DR);
  });
});

describe("backup plan and restore testing", () => {
  const vault = (region: string) =>
    mocks()
      .ofType("aws:backup/vault:Vault")
      .find((v) => v.region === region)!;

  test("the DR vault is in the DR region and locked in compliance mode for the retention", () => {
    expect(providerRegion(mocks(), vault(DR))).toBe(DR);
    const lock = mocks().ofType("aws:backup/vaultLockConfiguration:VaultLockConfiguration");
    expect(lock).toHaveLength(1);
    expect(lock[0]!.region).toBe(DR);
    expect(lock[0]!.inputs).toMatchObject({
      backupVaultName: vault(DR).state.name,
      changeableForDays: 3,
      minRetentionDays: 14,
      maxRetentionDays: 365,
    });
  });

  test("the plan snapshots hourly (RPO below AWS Backup's hour), keeps 14 days, copies to the DR vault", () => {
    const plan = mocks().ofType("aws:backup/plan:Plan");
    expect(plan).toHaveLength(1);
    const rule = inputOf(
      plan[0]!,
      "rules",
      z.array(
        z.looseObject({
          copyActions: z.array(
            z.looseObject({ destinationVaultArn: z.string(), lifecycle: z.unknown() }),
          ),
        }),
      ),
    )[0]!;
    expect(rule).toMatchObject({
      schedule: "cron(0 * ? * * *)",
      targetVaultName: vault(PRIMARY).state.name,
    });
    expect(rule.lifecycle).toEqual({ deleteAfter: 14 });
    const copies = rule.copyActions;
    expect(copies).toHaveLength(1);
    expect(copies[0]!.destinationVaultArn).toBe(vault(DR).state.arn);
    expect(String(copies[0]!.destinationVaultArn)).toContain(`:${DR}:`);
    expect(copies[0]!.lifecycle).toEqual({ deleteAfter: 14 });
  });

  test("it selects what holds data: the database, and no EBS volume since the target claims none", () => {
    const selections = mocks().ofType("aws:backup/selection:Selection");
    const db = mocks().one("aws:rds/instance:Instance", "pra-database-postgres");
    expect(selections.map((s) => s.inputs.resources)).toEqual([[db.state.arn]]);
    expect(
      mocks()
        .ofType("kubernetes:core/v1:PersistentVolumeClaim")
        .map((claim) => claim.name),
    ).toEqual([]);
  });

  test("a restore testing plan restores the newest recovery point daily and a function checks it", () => {
    const plan = mocks().one(
      "aws:backup/restoreTestingPlan:RestoreTestingPlan",
      "pra-backup-plan-restore-test",
    );
    expect(plan.inputs.scheduleExpression).toBe("cron(0 5 ? * * *)");
    expect(plan.inputs.recoveryPointSelection).toEqual({
      algorithm: "LATEST_WITHIN_WINDOW",
      includeVaults: [vault(PRIMARY).state.arn],
      recoveryPointTypes: ["SNAPSHOT"],
      selectionWindowDays: 1,
    });
    const selection = mocks().ofType(
      "aws:backup/restoreTestingSelection:RestoreTestingSelection",
    )[0]!;
    expect(selection.inputs).toMatchObject({
      restoreTestingPlanName: plan.state.name,
      protectedResourceType: "RDS",
      protectedResourceArns: [
        mocks().one("aws:rds/instance:Instance", "pra-database-postgres").state.arn,
      ],
    });
    const rule = mocks().one(
      "aws:cloudwatch/eventRule:EventRule",
      "pra-backup-plan-restore-completed",
    );
    expect(jsonObject(rule.inputs.eventPattern)["detail-type"]).toEqual([
      "Restore Job State Change",
    ]);
    const target = mocks().one(
      "aws:cloudwatch/eventTarget:EventTarget",
      "pra-backup-plan-restore-completed",
    );
    expect(mocks().byIdOrArn(target.inputs.arn)!.type).toBe("aws:lambda/function:Function");
  });

  test("the function runs the bundled restore-validator module, told which plan's jobs to check", async () => {
    const plan = mocks().one(
      "aws:backup/restoreTestingPlan:RestoreTestingPlan",
      "pra-backup-plan-restore-test",
    );
    const validator = mocks().one(
      "aws:lambda/function:Function",
      "pra-backup-plan-restore-validator",
    );
    expect(validator.inputs).toMatchObject({
      runtime: "nodejs22.x",
      handler: "index.handler",
      environment: { variables: { RESTORE_TESTING_PLAN_ARN: plan.state.arn } },
    });
    const code = validator.inputs.code;
    if (!(code instanceof pulumi.asset.AssetArchive)) throw new Error("the code is not an archive");
    const files = await code.assets;
    expect(Object.keys(files)).toEqual(["index.js"]);
    const index = files["index.js"];
    if (!(index instanceof pulumi.asset.StringAsset)) throw new Error("index.js is not text");
    expect(await index.text).toBe(restoreValidatorBundle());
  });
});

describe("DR region (pilot light)", () => {
  test("a network and an EKS cluster exist in the DR region, at one node, ready to scale", () => {
    const drCluster = mocks().one("aws:eks/cluster:Cluster", "pra-dr-region-cluster-eks");
    expect(providerRegion(mocks(), drCluster)).toBe(DR);
    expect(drCluster.inputs.name).toBe("pra-prod-dr");
    const groups = mocks()
      .ofType("aws:eks/nodeGroup:NodeGroup")
      .filter((g) => g.region === DR);
    expect(groups.map((g) => g.inputs.scalingConfig)).toEqual([
      { minSize: 0, desiredSize: 1, maxSize: 3 },
      { minSize: 0, desiredSize: 0, maxSize: 3 },
      { minSize: 0, desiredSize: 0, maxSize: 3 },
    ]);
    expect(
      new Set(groups.map((g) => zoneOfSubnet(mocks(), inputOf(g, "subnetIds", shapes.strings)[0])))
        .size,
    ).toBe(3);
    expect(
      mocks()
        .ofType("aws:ec2/vpc:Vpc")
        .find((v) => v.region === DR)!.inputs.cidrBlock,
    ).toBe("10.21.0.0/16");
  });

  test("no database runs in the DR region: pilot light restores from the replicated backups", () => {
    expect(
      mocks()
        .ofType("aws:rds/instance:Instance")
        .map((db) => db.region),
    ).toEqual([PRIMARY]);
    expect(run.outputs.drDatabaseEndpoint?.value).toBeUndefined();
    // What a restore needs is ready there: subnet group, TLS-only parameters, a group open to the DR nodes only.
    const subnets = mocks().one("aws:rds/subnetGroup:SubnetGroup", "pra-dr-region-db-subnets");
    expect(subnets.region).toBe(DR);
    expect(subnets.inputs.name).toBe("pra-prod-dr-subnets");
    const params = mocks().one("aws:rds/parameterGroup:ParameterGroup", "pra-dr-region-db-params");
    expect(params.inputs.parameters).toContainEqual({ name: "rds.force_ssl", value: "1" });
  });
});

describe("alarms", () => {
  const alarm = (metric: string) =>
    mocks()
      .ofType("aws:cloudwatch/metricAlarm:MetricAlarm")
      .filter((a) => a.inputs.metricName === metric);

  test("AWS Backup job, copy and restore failures reach the alarm topic through EventBridge", () => {
    const rule = mocks().one("aws:cloudwatch/eventRule:EventRule", "pra-alarms-backup-failures");
    const pattern = jsonObject(rule.inputs.eventPattern);
    expect(pattern["detail-type"]).toEqual([
      "Backup Job State Change",
      "Copy Job State Change",
      "Restore Job State Change",
    ]);
    // Backup/copy events carry `state`, restore events `status`: both must match.
    expect(pattern.detail).toHaveProperty("$or", [
      { state: ["FAILED", "ABORTED", "EXPIRED"] },
      { status: ["FAILED", "ABORTED", "EXPIRED"] },
    ]);
    const target = mocks().one(
      "aws:cloudwatch/eventTarget:EventTarget",
      "pra-alarms-backup-failures",
    );
    expect(target.inputs.arn).toBe(run.outputs.alarmTopicArn!.value);
  });

  test("S3 replication failures and latency beyond RTC, and low database storage, raise alarms", () => {
    const [failed] = alarm("OperationsFailedReplication");
    const [latency] = alarm("ReplicationLatency");
    expect(failed!.inputs).toMatchObject({
      threshold: 0,
      comparisonOperator: "GreaterThanThreshold",
    });
    expect(latency!.inputs).toMatchObject({ threshold: 900 });
    expect(latency!.inputs.dimensions).toEqual({
      SourceBucket: run.outputs.exportBucketName!.value,
      DestinationBucket: run.outputs.replicaBucketName!.value,
      RuleId: "to-dr-region",
    });
    const [storage] = alarm("FreeStorageSpace");
    expect(storage!.inputs).toMatchObject({
      dimensions: { DBInstanceIdentifier: "pra-prod" },
      comparisonOperator: "LessThanThreshold",
    });
    expect(storage!.inputs.threshold).toBe(5 * 1024 ** 3);
    for (const a of [failed!, latency!, storage!])
      expect(a.inputs.alarmActions).toEqual([run.outputs.alarmTopicArn!.value]);
    expect(alarm("ReplicaLag")).toEqual([]);
  });

  test("a restore test whose validation does not pass in time (failed or never reported) raises an alarm", () => {
    const [missing] = alarm("ValidationSucceeded");
    const fn = mocks().one("aws:lambda/function:Function", "pra-backup-plan-restore-validator");
    const variables = inputOf(
      fn,
      "environment",
      z.looseObject({ variables: shapes.stringMap }),
    ).variables;
    // The validator's dimension is the alarm's: the same stack name on both sides.
    expect(missing!.inputs).toMatchObject({
      namespace: "PRA/RestoreTests",
      dimensions: { Stack: variables.PRA_STACK },
      statistic: "Sum",
      comparisonOperator: "LessThanThreshold",
      threshold: 1,
      treatMissingData: "breaching",
      // Daily restore tests: two days in a row without a passing validation.
      period: 86_400,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      alarmActions: [run.outputs.alarmTopicArn!.value],
    });
  });

  test("the alarm e-mail is subscribed to the topic of each region", () => {
    const subscriptions = mocks().ofType("aws:sns/topicSubscription:TopicSubscription");
    expect(subscriptions.map((s) => [s.region, s.inputs.endpoint]).sort()).toEqual([
      [DR, "oncall@example.com"],
      [PRIMARY, "oncall@example.com"],
    ]);
  });
});

describe("stack outputs", () => {
  test("name the cluster, database, secret, buckets and DR side", () => {
    const plain = (key: string) => run.outputs[key]!.value;
    expect(plain("clusterName")).toBe("pra-prod");
    expect(plain("databaseEndpoint")).toBe(
      String(mocks().one("aws:rds/instance:Instance", "pra-database-postgres").state.endpoint),
    );
    expect(plain("databaseSecretName")).toBe("pra/prod/database");
    expect(plain("exportBucketName")).toBe(`pra-prod-exports-${ACCOUNT_ID}-${PRIMARY}`);
    expect(plain("replicaBucketName")).toBe(`pra-prod-exports-${ACCOUNT_ID}-${DR}`);
    expect(plain("drClusterName")).toBe("pra-prod-dr");
    expect(plain("drRegion")).toBe(DR);
  });

  test("kubeconfigs are secret, use aws eks get-token, and no plain output holds a secret value", () => {
    expect(run.outputs.kubeconfig!.secret).toBe(true);
    expect(run.outputs.drKubeconfig!.secret).toBe(true);
    const [user] = kubeconfigOf(run.outputs.kubeconfig!.value).users;
    expect(user?.user.exec?.args).toEqual(
      expect.arrayContaining(["get-token", "--cluster-name", "pra-prod", "--region", PRIMARY]),
    );
    expect(user?.user.token).toBeUndefined();
    const password = String(
      mocks().one("aws:rds/instance:Instance", "pra-database-postgres").inputs.passwordWo,
    );
    const plainText = JSON.stringify(
      Object.values(run.outputs)
        .filter((o) => !o.secret)
        .map((o) => o.value),
    );
    expect(plainText).not.toContain(password);
    expect(plainText).not.toMatch(/password|certificate-authority-data/i);
  });
});

test("the target deploys none of the lab's objects: no volume claim, no SQLite job", () => {
  const objects = mocks().resources.filter((r) => r.type.startsWith("kubernetes:"));
  expect(objects.filter((r) => r.type === "kubernetes:core/v1:PersistentVolumeClaim")).toEqual([]);
  const names = objects.map((r) => inputOf(r, "metadata", shapes.metadata.optional())?.name ?? "");
  expect(names.filter((name) => name.startsWith("sqlite-"))).toEqual([]);
});
