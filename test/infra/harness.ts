/**
 * Runs the Pulumi program under mocks and records what it asks for, through Pulumi's public
 * surface only: `pulumi.runtime.setMocks` with `MockResourceArgs`/`MockCallArgs`, the program
 * run inside `runInPulumiStack` as Pulumi's Node.js runtime runs it, a stack transformation for
 * what the mocks are not told (parents, dependsOn), and outputs read through `apply`.
 *
 * The mocks answer like AWS: they compute ids, ARNs, endpoints and auto-names (in the region
 * of the provider each resource uses) and return only those, never the inputs. A program that
 * forgot an input cannot get it back from the mock. Every resource's inputs are recorded by
 * type token for the tests to assert on.
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { readStackValues } from "../../config";

export const ACCOUNT_ID = "123456789012";

/** The root resource runInPulumiStack registers, as `pulumi up` does: Pulumi's, not the program's. */
const ROOT_STACK_TYPE = "pulumi:pulumi:Stack";

export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  /** Inputs as the program gave them, secrets unwrapped. */
  readonly inputs: Record<string, unknown>;
  /**
   * The inputs that were passed as secrets (`passwordWo`). The SDK marks a value that contains
   * a secret anywhere as secret as a whole, so these are top-level input names.
   */
  readonly secretInputs: readonly string[];
  /** The region of the provider the resource uses (explicit provider, or aws:region). */
  readonly region: string;
  /** The provider reference, when the resource uses an explicit provider. */
  readonly provider?: string;
  /** The resource's URN, its parent's (when the program gave one), and its dependsOn's URNs. */
  readonly urn: string;
  readonly parent?: string;
  readonly dependencies: readonly string[];
  readonly id: string;
  readonly state: Record<string, unknown>;
}

type Recording = { -readonly [K in keyof RecordedResource]: RecordedResource[K] };

/** An Output's value, through its public `apply` (the program runs as an update: all known). */
export function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => {
    output.apply(resolve);
  });
}

/** An input's value: plain, a promise, or an Output. */
function valueOf(input: unknown): Promise<unknown> {
  return pulumi.Output.isInstance(input) ? promiseOf(input) : Promise.resolve(input);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function hex(text: string, length: number): string {
  return createHash("sha256").update(text).digest("hex").slice(0, length);
}

/** The values of a committed stack file, stringified the way Pulumi hands config to a program. */
export function pulumiConfigOf(
  stack: string,
  overrides: Record<string, string> = {},
): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(readStackValues(stack)))
    values[key] = typeof value === "string" ? value : JSON.stringify(value);
  return { ...values, ...overrides };
}

/** What the engine is told beyond the inputs, which Pulumi's Mocks interface does not pass on. */
interface Registration {
  readonly urn: string;
  readonly parent?: string;
  readonly dependencies: readonly string[];
}

/**
 * Records, through a stack transformation, each resource the program declares with the
 * parent and dependsOn it gave; `registrations` resolves their URNs once every resource is
 * registered (a URN resolves when the engine, here the mocks, has registered the resource).
 */
class DeclarationRecorder {
  private readonly declared: pulumi.ResourceTransformationArgs[] = [];

  readonly transformation: pulumi.ResourceTransformation = (args) => {
    this.declared.push(args);
    return undefined;
  };

  /** `type` and `name` → what was declared; fails if two resources cannot be told apart. */
  async registrations(): Promise<Map<string, Registration>> {
    const found = new Map<string, Registration>();
    for (const { type, name, resource, opts } of this.declared) {
      const key = keyOf(type, name);
      if (found.has(key)) throw new Error(`two resources are declared as ${type} ${name}`);
      const dependsOn = await dependsOnResources(opts.dependsOn);
      found.set(key, {
        urn: await promiseOf(resource.urn),
        ...(opts.parent ? { parent: await promiseOf(opts.parent.urn) } : {}),
        dependencies: await Promise.all(dependsOn.map((dependency) => promiseOf(dependency.urn))),
      });
    }
    return found;
  }
}

const keyOf = (type: string, name: string) => `${type} ${name}`;

/** The resources of a `dependsOn` option, whichever form of Input it was given in. */
async function dependsOnResources(
  dependsOn: pulumi.ResourceOptions["dependsOn"],
): Promise<pulumi.Resource[]> {
  const given = await valueOf(dependsOn);
  const items: unknown[] = Array.isArray(given) ? given : given === undefined ? [] : [given];
  const resources: pulumi.Resource[] = [];
  for (const item of items) {
    const resource = await valueOf(item);
    if (!pulumi.Resource.isInstance(resource))
      throw new Error(`dependsOn holds something other than a resource: ${String(resource)}`);
    resources.push(resource);
  }
  return resources;
}

export class RecordingMocks implements pulumi.runtime.Mocks {
  private readonly records: Recording[] = [];
  public readonly calls: { token: string; inputs: Record<string, unknown>; region: string }[] = [];
  private readonly providerRegions = new Map<string, string>();

  constructor(private readonly defaultRegion: string) {}

  /** Every resource the program declared, in registration order. */
  get resources(): readonly RecordedResource[] {
    return this.records;
  }

  /** Adds what the mocks were not told (URN, parent, dependencies) to each recorded resource. */
  attach(registrations: ReadonlyMap<string, Registration>): void {
    for (const record of this.records) {
      const registration = registrations.get(keyOf(record.type, record.name));
      if (!registration) throw new Error(`${record.type} ${record.name} was never declared`);
      record.urn = registration.urn;
      if (registration.parent) record.parent = registration.parent;
      record.dependencies = registration.dependencies;
    }
  }

  private regionOf(provider: string | undefined): string {
    if (!provider) return this.defaultRegion;
    const id = provider.split("::").pop() ?? "";
    return this.providerRegions.get(id) ?? this.defaultRegion;
  }

  newResource(args: pulumi.runtime.MockResourceArgs): {
    id: string;
    state: Record<string, unknown>;
  } {
    const region = this.regionOf(args.provider);
    const given: unknown = args.inputs;
    if (!isRecord(given)) throw new Error(`${args.type} ${args.name}: inputs are not an object`);
    // The mocks receive secrets wrapped as on the wire; the runtime's own functions unwrap them.
    const inputs: Record<string, unknown> = {};
    const secretInputs: string[] = [];
    for (const [key, value] of Object.entries(given)) {
      if (pulumi.runtime.isRpcSecret(value)) secretInputs.push(key);
      const plain: unknown = pulumi.runtime.unwrapRpcSecret(value);
      inputs[key] = plain;
    }
    const { id, state } = this.compute(args.type, args.name, inputs, region);
    if (args.type === ROOT_STACK_TYPE) return { id, state };
    if (args.type === "pulumi:providers:aws")
      this.providerRegions.set(
        id,
        typeof inputs.region === "string" ? inputs.region : this.defaultRegion,
      );
    this.records.push({
      type: args.type,
      name: args.name,
      inputs,
      secretInputs,
      region,
      ...(args.provider ? { provider: args.provider } : {}),
      urn: "",
      dependencies: [],
      id,
      state,
    });
    return { id, state };
  }

  call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
    const region = this.regionOf(args.provider);
    const inputs: unknown = args.inputs;
    this.calls.push({ token: args.token, inputs: isRecord(inputs) ? inputs : {}, region });
    switch (args.token) {
      case "aws:index/getCallerIdentity:getCallerIdentity":
        return {
          accountId: ACCOUNT_ID,
          arn: `arn:aws:iam::${ACCOUNT_ID}:user/ci`,
          userId: "AIDAEXAMPLE",
          id: ACCOUNT_ID,
        };
      case "aws:index/getPartition:getPartition":
        return { partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" };
      case "aws:route53/getZone:getZone": {
        // A public zone the account holds, found by its name.
        const name = isRecord(inputs) && typeof inputs.name === "string" ? inputs.name : "";
        return { zoneId: `Z${hex(`zone/${name}`, 12).toUpperCase()}`, name, id: name };
      }
      case "aws:index/getAvailabilityZones:getAvailabilityZones":
        return {
          names: ["a", "b", "c"].map((z) => `${region}${z}`),
          zoneIds: [1, 2, 3].map((n) => `${region}-az${n}`),
          id: region,
        };
      default:
        throw new Error(`unmocked call ${args.token}`);
    }
  }

  /** What AWS (or the provider's auto-naming) computes for a new resource: ids, ARNs, names, endpoints. */
  private compute(
    type: string,
    name: string,
    inputs: Record<string, unknown>,
    region: string,
  ): { id: string; state: Record<string, unknown> } {
    const h = hex(`${type}/${name}`, 17);
    const autoName = (given: unknown) =>
      typeof given === "string" ? given : `${name}-${h.slice(0, 7)}`;
    const arn = (service: string, resource: string, inRegion = region) =>
      `arn:aws:${service}:${inRegion}:${ACCOUNT_ID}:${resource}`;
    switch (type) {
      case "pulumi:providers:aws":
      case "pulumi:providers:kubernetes":
        return {
          id: `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(12, 15)}-8${h.slice(15, 17)}0-000000000000`,
          state: {},
        };
      case "aws:kms/key:Key": {
        const keyId = `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(12, 15)}-a000-${h.slice(0, 12)}`;
        return { id: keyId, state: { keyId, arn: arn("kms", `key/${keyId}`) } };
      }
      case "aws:kms/alias:Alias":
        return { id: String(inputs.name), state: { arn: arn("kms", String(inputs.name)) } };
      case "aws:ec2/vpc:Vpc":
        return { id: `vpc-${h}`, state: { arn: arn("ec2", `vpc/vpc-${h}`) } };
      case "aws:ec2/subnet:Subnet":
        return { id: `subnet-${h}`, state: { arn: arn("ec2", `subnet/subnet-${h}`) } };
      case "aws:ec2/eip:Eip":
        return {
          id: `eipalloc-${h}`,
          state: { allocationId: `eipalloc-${h}`, publicIp: "203.0.113.10" },
        };
      case "aws:ec2/natGateway:NatGateway":
        return { id: `nat-${h}`, state: {} };
      case "aws:ec2/internetGateway:InternetGateway":
        return { id: `igw-${h}`, state: { arn: arn("ec2", `internet-gateway/igw-${h}`) } };
      case "aws:ec2/routeTable:RouteTable":
        return { id: `rtb-${h}`, state: {} };
      case "aws:ec2/securityGroup:SecurityGroup":
      case "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup":
        return { id: `sg-${h}`, state: { arn: arn("ec2", `security-group/sg-${h}`) } };
      case "aws:ec2/launchTemplate:LaunchTemplate":
        return {
          id: `lt-${h}`,
          state: { latestVersion: 1, arn: arn("ec2", `launch-template/lt-${h}`) },
        };
      case "aws:cloudwatch/logGroup:LogGroup": {
        const logName = autoName(inputs.name);
        return { id: logName, state: { name: logName, arn: arn("logs", `log-group:${logName}`) } };
      }
      case "aws:iam/role:Role": {
        const roleName = autoName(inputs.name);
        return {
          id: roleName,
          state: { name: roleName, arn: `arn:aws:iam::${ACCOUNT_ID}:role/${roleName}` },
        };
      }
      case "aws:eks/cluster:Cluster": {
        const clusterName = autoName(inputs.name);
        return {
          id: clusterName,
          state: {
            name: clusterName,
            arn: arn("eks", `cluster/${clusterName}`),
            endpoint: `https://${h.toUpperCase()}.gr7.${region}.eks.amazonaws.com`,
            certificateAuthority: { data: Buffer.from(`ca of ${clusterName}`).toString("base64") },
            vpcConfig: { clusterSecurityGroupId: `sg-cluster${h.slice(0, 9)}` },
            status: "ACTIVE",
          },
        };
      }
      case "aws:rds/instance:Instance": {
        const identifier = autoName(inputs.identifier);
        const address = `${identifier}.c${h.slice(0, 11)}.${region}.rds.amazonaws.com`;
        return {
          id: `db-${h.toUpperCase()}`,
          state: {
            identifier,
            arn: arn("rds", `db:${identifier}`),
            address,
            endpoint: `${address}:5432`,
            port: 5432,
            resourceId: `db-${h.toUpperCase()}`,
            // RDS's own secret of the master user, when it manages the password.
            ...(inputs.manageMasterUserPassword === true
              ? {
                  masterUserSecrets: [
                    {
                      secretArn: arn("secretsmanager", `secret:rds!db-${h.slice(0, 8)}-AbCdEf`),
                      kmsKeyId: inputs.masterUserSecretKmsKeyId,
                      secretStatus: "active",
                    },
                  ],
                }
              : {}),
          },
        };
      }
      case "aws:serverlessrepository/cloudFormationStack:CloudFormationStack": {
        // The rotation application's stack: the function it creates.
        const functionName = isRecord(inputs.parameters)
          ? String(inputs.parameters.functionName)
          : name;
        return {
          id: arn("cloudformation", `stack/serverlessrepo-${name}/${h}`),
          state: { outputs: { RotationLambdaARN: arn("lambda", `function:${functionName}`) } },
        };
      }
      case "aws:rds/subnetGroup:SubnetGroup":
        return {
          id: autoName(inputs.name),
          state: {
            name: autoName(inputs.name),
            arn: arn("rds", `subgrp:${autoName(inputs.name)}`),
          },
        };
      case "aws:rds/parameterGroup:ParameterGroup":
        return {
          id: autoName(inputs.name),
          state: { name: autoName(inputs.name), arn: arn("rds", `pg:${autoName(inputs.name)}`) },
        };
      case "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication":
        return { id: arn("rds", `auto-backup:ab-${h}`), state: {} };
      case "aws:secretsmanager/secret:Secret": {
        const secretName = autoName(inputs.name);
        const secretArn = arn("secretsmanager", `secret:${secretName}-${h.slice(0, 6)}`);
        return { id: secretArn, state: { name: secretName, arn: secretArn } };
      }
      case "aws:s3/bucket:Bucket": {
        const bucket = autoName(inputs.bucket);
        return { id: bucket, state: { bucket, arn: `arn:aws:s3:::${bucket}`, region } };
      }
      case "aws:backup/vault:Vault": {
        const vaultName = autoName(inputs.name);
        return {
          id: vaultName,
          state: { name: vaultName, arn: arn("backup", `backup-vault:${vaultName}`) },
        };
      }
      case "aws:backup/plan:Plan":
        return { id: h, state: { arn: arn("backup", `backup-plan:${h}`), version: "1" } };
      case "aws:backup/restoreTestingPlan:RestoreTestingPlan": {
        const planName = autoName(inputs.name);
        return {
          id: planName,
          state: {
            name: planName,
            arn: arn("backup", `restore-testing-plan:${planName}-${h.slice(0, 6)}`),
          },
        };
      }
      case "aws:sns/topic:Topic": {
        const topicName = autoName(inputs.name);
        return {
          id: arn("sns", topicName),
          state: { name: topicName, arn: arn("sns", topicName) },
        };
      }
      case "aws:cloudwatch/eventRule:EventRule": {
        const ruleName = autoName(inputs.name);
        return { id: ruleName, state: { name: ruleName, arn: arn("events", `rule/${ruleName}`) } };
      }
      case "aws:lambda/function:Function": {
        const functionName = autoName(inputs.name);
        return {
          id: functionName,
          state: { name: functionName, arn: arn("lambda", `function:${functionName}`) },
        };
      }
      case "aws:eks/nodeGroup:NodeGroup": {
        // Unnamed node groups get a generated name, as Terraform's provider gives them.
        const groupName = autoName(inputs.nodeGroupName);
        return {
          id: `${String(inputs.clusterName)}:${groupName}`,
          state: { nodeGroupName: groupName, arn: arn("eks", `nodegroup/${groupName}`) },
        };
      }
      case "aws:acm/certificate:Certificate": {
        // ACM's DNS validation record: derived from the name and the account, not the region.
        const domainName = String(inputs.domainName);
        const token = hex(`${ACCOUNT_ID}/${domainName}`, 12);
        return {
          id: arn("acm", `certificate/${h}`),
          state: {
            arn: arn("acm", `certificate/${h}`),
            domainValidationOptions: [
              {
                domainName,
                resourceRecordName: `_${token}.${domainName}.`,
                resourceRecordType: "CNAME",
                resourceRecordValue: `_${token}.acm-validations.aws.`,
              },
            ],
          },
        };
      }
      case "aws:acm/certificateValidation:CertificateValidation":
        return {
          id: String(inputs.certificateArn),
          state: { certificateArn: inputs.certificateArn },
        };
      case "aws:route53/record:Record":
        return {
          id: `${name}-${h.slice(0, 8)}`,
          state: { fqdn: String(inputs.name).replace(/\.$/, "") },
        };
      case "aws:route53/zone:Zone": {
        const zoneId = `Z${h.toUpperCase()}`;
        return { id: zoneId, state: { zoneId, arn: `arn:aws:route53:::hostedzone/${zoneId}` } };
      }
      case "kubernetes:networking.k8s.io/v1:Ingress": {
        // The AWS Load Balancer Controller names an internal ALB internal-k8s-<ns>-<name>-<hash>.
        const namespace = isRecord(inputs.metadata) ? String(inputs.metadata.namespace) : "";
        const hostname = `internal-k8s-${namespace}-${h.slice(0, 10)}.${region}.elb.amazonaws.com`;
        return {
          id: `${namespace}/${name}`,
          state: { status: { loadBalancer: { ingress: [{ hostname }] } } },
        };
      }
      case "aws:cloudwatch/metricAlarm:MetricAlarm":
        return {
          id: autoName(inputs.name),
          state: { arn: arn("cloudwatch", `alarm:${autoName(inputs.name)}`) },
        };
      default:
        // Everything else only gets an id: its other outputs are not used by the program.
        return { id: `${name}-${h.slice(0, 8)}`, state: {} };
    }
  }

  /** Every recorded resource of a type token. */
  ofType(type: string): RecordedResource[] {
    return this.resources.filter((resource) => resource.type === type);
  }

  /** The one resource with this type and logical name; fails loudly otherwise. */
  one(type: string, name: string): RecordedResource {
    const found = this.resources.filter(
      (resource) => resource.type === type && resource.name === name,
    );
    if (found.length !== 1) {
      const names = this.ofType(type).map((resource) => resource.name);
      throw new Error(
        `expected one ${type} named ${name}; found ${found.length} (names: ${names.join(", ")})`,
      );
    }
    return found[0]!;
  }

  /** The recorded resource whose computed id or ARN is `value`. */
  byIdOrArn(value: unknown): RecordedResource | undefined {
    return this.resources.find((resource) => resource.id === value || resource.state.arn === value);
  }

  /** The recorded resource with this URN. */
  byUrn(urn: string): RecordedResource | undefined {
    return this.resources.find((resource) => resource.urn === urn);
  }

  /** The inputs of the aws provider a resource uses. */
  providerOf(resource: RecordedResource): RecordedResource | undefined {
    if (!resource.provider) return undefined;
    const id = resource.provider.split("::").pop();
    return this.resources.find(
      (candidate) => candidate.type.startsWith("pulumi:providers:") && candidate.id === id,
    );
  }
}

export interface Evaluation {
  readonly mocks: RecordingMocks;
  /** The stack outputs (what infra/index.ts exports), resolved, with whether each is a secret. */
  readonly outputs: Record<string, { value: unknown; secret: boolean }>;
}

async function resolve(value: unknown): Promise<{ value: unknown; secret: boolean }> {
  if (!pulumi.Output.isInstance(value)) return { value, secret: false };
  const [resolved, secret] = await Promise.all([promiseOf(value), pulumi.isSecret(value)]);
  return { value: resolved, secret };
}

/**
 * What the program exports, as Pulumi's Node.js runtime gets it (cmd/run/run.js): `require` of
 * infra/index.ts, whose CommonJS export is a function, called and its result awaited. Loaded on
 * demand, so that the benchmark's floor measures a process without the program; not with
 * import(), which tsx's CommonJS hook (the benchmark) leaves to Node's ESM loader.
 */
function runEntryPoint(): unknown {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- as Pulumi loads it, see above
  const run = require("../../infra/index") as typeof import("../../infra/index");
  return run();
}

/**
 * Sets `config` as the stack's Pulumi config, installs the mocks, runs the program inside a
 * Pulumi stack as `pulumi up` does, waits for every resource registration and resolves the
 * outputs. A program that refuses its settings rejects here with its error.
 */
export async function evaluateProgram(
  stack: string,
  config: Record<string, string>,
  mocks: RecordingMocks = new RecordingMocks(config["aws:region"] ?? "us-east-1"),
): Promise<Evaluation> {
  pulumi.runtime.setAllConfig(config);
  await pulumi.runtime.setMocks(mocks, "pra", stack, false);
  const declarations = new DeclarationRecorder();
  let exported: Record<string, unknown> = {};
  // A program that throws is reported here, not left to the stack resource's own promise (which
  // `pulumi up` turns into an error message, and a test process into an unhandled rejection).
  let failure: { error: unknown } | undefined;
  try {
    await pulumi.runtime.runInPulumiStack(async () => {
      pulumi.runtime.registerStackTransformation(declarations.transformation);
      try {
        const value: unknown = await runEntryPoint();
        if (!isRecord(value)) throw new Error("the program's exports are not an object of outputs");
        exported = value;
      } catch (error) {
        failure = { error };
      }
      return exported;
    });
    if (failure) throw failure.error;
    mocks.attach(await declarations.registrations());
    const outputs: Evaluation["outputs"] = {};
    for (const [key, value] of Object.entries(exported)) outputs[key] = await resolve(value);
    return { mocks, outputs };
  } finally {
    // As at the end of `pulumi up`: the pending calls (the stack's outputs) drain, then the
    // runtime lets go of these mocks, before the next evaluation installs its own.
    await pulumi.runtime.disconnect();
  }
}
