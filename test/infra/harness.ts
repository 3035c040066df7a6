/**
 * Runs the Pulumi program under mocks and records what it asks for.
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

export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  /** Inputs as the program gave them (secrets unwrapped by the mock runtime). */
  readonly inputs: Record<string, unknown>;
  /** Paths of the inputs that were passed as secrets (`passwordWo`). */
  readonly secretInputs: readonly string[];
  /** The region of the provider the resource uses (explicit provider, or aws:region). */
  readonly region: string;
  /** The provider reference, when the resource uses an explicit provider. */
  readonly provider?: string;
  /** The resource's URN, its parent's, and the URNs it depends on, as sent to the engine. */
  readonly urn: string;
  readonly parent?: string;
  readonly dependencies: readonly string[];
  readonly id: string;
  readonly state: Record<string, unknown>;
}

/** Pulumi's marker of a secret value in serialized properties. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270";

/** `value` with every secret wrapper replaced by its content; `found` collects the secret paths. */
function unwrapSecrets(value: unknown, path: string, found: string[]): unknown {
  if (Array.isArray(value))
    return value.map((item, i) => unwrapSecrets(item, `${path}[${i}]`, found));
  if (value === null || typeof value !== "object") return value;
  const record = value as Record<string, unknown>;
  if (record[SECRET_SIG] === SECRET_VALUE) {
    found.push(path);
    return unwrapSecrets(record.value, path, found);
  }
  return Object.fromEntries(
    Object.entries(record).map(([k, v]) => [k, unwrapSecrets(v, path ? `${path}.${k}` : k, found)]),
  );
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
  for (const [key, value] of Object.entries(readStackValues(stack))) {
    values[key] =
      typeof value === "string"
        ? value
        : typeof value === "object"
          ? JSON.stringify(value)
          : String(value);
  }
  return { ...values, ...overrides };
}

/** What the engine receives with a registration, beyond what Pulumi hands the mocks. */
interface Registration {
  readonly urn: string;
  readonly parent?: string;
  readonly dependencies: readonly string[];
}

/** The parts of Pulumi's mock monitor and RegisterResourceRequest the harness reads. */
interface MockMonitor {
  newUrn(parent: string, type: string, name: string): string;
  registerResource(request: RegisterRequest, callback: unknown): unknown;
}
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getDependenciesList(): string[];
}

export class RecordingMocks implements pulumi.runtime.Mocks {
  public readonly resources: RecordedResource[] = [];
  public readonly calls: { token: string; inputs: Record<string, unknown>; region: string }[] = [];
  private readonly providerRegions = new Map<string, string>();
  /** The registration being handed to newResource (the monitor calls it synchronously). */
  private pending: Registration | undefined;

  /**
   * Installs these mocks and records, for every registration, the parent and the dependencies
   * (dependsOn, expanded by the SDK, plus the inputs' resources) the SDK sends: Pulumi's Mocks
   * interface does not pass them on, and the tests check ordering through them.
   */
  async install(project: string, stack: string): Promise<void> {
    await pulumi.runtime.setMocks(this, project, stack, false);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- getMonitor is exported by runtime/settings but not typed as public.
    const monitor = (pulumi.runtime as any).getMonitor() as MockMonitor;
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (request, callback) => {
      const parent = request.getParent();
      this.pending = {
        urn: monitor.newUrn(parent, request.getType(), request.getName()),
        ...(parent ? { parent } : {}),
        dependencies: request.getDependenciesList(),
      };
      try {
        return register(request, callback);
      } finally {
        this.pending = undefined;
      }
    };
  }

  constructor(private readonly defaultRegion: string) {}

  private regionOf(provider: string | undefined): string {
    if (!provider) return this.defaultRegion;
    const id = provider.split("::").pop()!;
    return this.providerRegions.get(id) ?? this.defaultRegion;
  }

  newResource(args: pulumi.runtime.MockResourceArgs): {
    id: string;
    state: Record<string, unknown>;
  } {
    const region = this.regionOf(args.provider);
    const secretInputs: string[] = [];
    const inputs = unwrapSecrets(args.inputs, "", secretInputs) as Record<string, unknown>;
    const { id, state } = this.compute(args.type, args.name, inputs, region);
    const registration = this.pending ?? { urn: "", dependencies: [] };
    this.pending = undefined;
    if (args.type === "pulumi:providers:aws")
      this.providerRegions.set(id, String(inputs.region ?? this.defaultRegion));
    this.resources.push({
      type: args.type,
      name: args.name,
      inputs,
      secretInputs,
      region,
      ...(args.provider ? { provider: args.provider } : {}),
      ...registration,
      id,
      state,
    });
    return { id, state };
  }

  call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
    const region = this.regionOf(args.provider);
    this.calls.push({ token: args.token, inputs: args.inputs, region });
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
          },
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

type ProgramModule = Record<string, unknown>;

export interface Evaluation {
  readonly mocks: RecordingMocks;
  /** The program module's exports (stack outputs), resolved, with whether each was a secret. */
  readonly outputs: Record<string, { value: unknown; secret: boolean }>;
}

async function resolve(value: unknown): Promise<{ value: unknown; secret: boolean }> {
  if (!pulumi.Output.isInstance(value)) return { value, secret: false };
  const output = value as pulumi.Output<unknown>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- isSecret/promise are internal members of Output, stable across 3.x.
  const internal = output as any;
  const [resolved, secret] = await Promise.all([
    internal.promise(),
    internal.isSecret as Promise<boolean>,
  ]);
  return { value: resolved, secret };
}

/** The program's entry points, from the module registry of the first evaluation in a test file. */
interface Entry {
  readonly loadConfig: typeof import("../../infra/config").loadConfig;
  readonly loadKubernetesContext: typeof import("../../infra/config").loadKubernetesContext;
  readonly program: typeof import("../../infra/program").program;
}
let entry: Entry | undefined;

/**
 * Sets `config` as the stack's Pulumi config, installs the mocks, runs the program and waits for
 * every resource registration. The first evaluation in a test file imports infra/index.ts, the
 * real entry point, and its exports are the outputs. Later ones call the same loadConfig and
 * program that index.ts calls (from the same module instances), sparing a second load of
 * @pulumi/aws and @pulumi/kubernetes.
 */
export async function evaluateProgram(
  stack: string,
  config: Record<string, string>,
  mocks: RecordingMocks = new RecordingMocks(config["aws:region"] ?? "us-east-1"),
): Promise<Evaluation> {
  pulumi.runtime.setAllConfig(config);
  await mocks.install("pra", stack);
  let exported: ProgramModule = {};
  if (entry) {
    const kubeContext = entry.loadKubernetesContext();
    exported = { ...entry.program(entry.loadConfig(), kubeContext ? { kubeContext } : {}) };
  } else {
    jest.isolateModules(() => {
      const config = require("../../infra/config") as Entry;
      entry = {
        loadConfig: config.loadConfig,
        loadKubernetesContext: config.loadKubernetesContext,
        program: (require("../../infra/program") as Entry).program,
      };
      exported = require("../../infra/index") as ProgramModule;
    });
  }
  const outputs: Evaluation["outputs"] = {};
  for (const [key, value] of Object.entries(exported)) outputs[key] = await resolve(value);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- waitForRPCs is exported by runtime/settings but not typed as public.
  await (pulumi.runtime as any).waitForRPCs();
  return { mocks, outputs };
}
