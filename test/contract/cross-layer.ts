/**
 * The app's contract (apps/pra-app/src/contract.ts) against every layer that must honour it, for
 * each pod a target stack runs (prod.test.ts and staging.test.ts call `crossLayerTests`): the
 * image (its Dockerfile, parsed), the charts (synthesized), the cloud (the Pulumi program under
 * mocks: IAM documents evaluated, add-ons, CNI settings). Each test names the pod, the need and
 * the layer that dropped it. The alert ordering (each warning strictly before its critical pair)
 * is proven by promtool in test/alerts/rules.test.ts.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import {
  type AwsActionNeed,
  backendOf,
  caBundleNamedBy,
  type CommandNeeds,
  type Destination,
  invocationOf,
  needsOf,
  RDS_CA_BUNDLE,
  RESTORE_TEST_REPORT_DIR,
} from "../../apps/pra-app/src/contract";
import type { IContainer, IPodSpec } from "../../charts/manifest";
import {
  describeTargetDesign,
  LOGICAL_COPY_BYTES_PER_SECOND,
  loadStack,
  longestGapSeconds,
  quantityBytes,
  type TargetConfig,
} from "../../config";
import { cloudSettingsData, EXPORT_PREFIX } from "../../infra/kubernetes/cloud-settings";
import { doc, inputOf, shapes } from "../infra/assertions";
import { type Evaluation, evaluateProgram, pulumiConfigOf } from "../infra/harness";
import {
  isWorkload,
  ofKind,
  podSpecOf,
  specOf,
  synthStackInMemory,
  type Workload,
} from "../support/manifests";

const REPO = join(__dirname, "..", "..");

/** The cross-layer tests of one committed target stack. */
export function crossLayerTests(STACK: string): void {
  function loadTarget(stack: string): TargetConfig {
    const config = loadStack(stack);
    if (config.topology !== "target") throw new Error(`${stack} is not a target stack`);
    return config;
  }

  const config = loadTarget(STACK);
  const design = describeTargetDesign(config);
  const manifests = synthStackInMemory(config).synced;
  let run: Evaluation;

  beforeAll(async () => {
    run = await evaluateProgram(STACK, pulumiConfigOf(STACK));
  });

  // --- the image, from its Dockerfile -------------------------------------------------------------

  interface Image {
    /** Paths ADD or COPY put in the runtime stage, with ADD's pinned checksum and source. */
    readonly added: {
      readonly path: string;
      readonly checksum?: string;
      readonly source: string;
    }[];
    readonly env: Record<string, string>;
    /** Files the Debian packages installed in the runtime stage provide (programs only). */
    readonly packageFiles: Set<string>;
  }

  /**
   * The runtime stage's instructions, continuation lines joined. Debian packages are resolved to
   * the programs they install by asking this machine's dpkg how the same packages of its own
   * PostgreSQL version are laid out (the image's version differs: only the number changes).
   */
  function readImage(): Image {
    const text = readFileSync(join(REPO, "apps/pra-app/Dockerfile"), "utf8");
    const runtime = text.slice(text.lastIndexOf("\nFROM "));
    const instructions = runtime
      .replace(/\\\n/g, " ")
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith("#"));
    const added: Image["added"][number][] = [];
    const env: Record<string, string> = {};
    const packages: string[] = [];
    for (const line of instructions) {
      const [instruction, ...words] = line.split(/\s+/);
      if (instruction === "ADD" || instruction === "COPY") {
        const flags = words.filter((word) => word.startsWith("--"));
        const paths = words.filter((word) => !word.startsWith("--"));
        const checksum = flags.find((flag) => flag.startsWith("--checksum="))?.slice(11);
        added.push({
          path: paths[paths.length - 1]!,
          source: paths.slice(0, -1).join(" "),
          ...(checksum ? { checksum } : {}),
        });
      } else if (instruction === "ENV") {
        for (const pair of words) {
          const [name, value] = pair.split("=");
          if (name && value !== undefined) env[name] = value;
        }
      } else if (instruction === "RUN") {
        for (const install of line.matchAll(/apt-get install ((?:[^&])+)/g))
          packages.push(
            ...install[1]!.split(/\s+/).filter((word) => /^[a-z][a-z0-9.+-]+$/.test(word)),
          );
      }
    }
    const packageFiles = new Set<string>();
    for (const name of packages) {
      const version = /^postgresql(?:-client)?-(\d+)$/.exec(name)?.[1];
      if (!version) continue;
      const local = localPostgresVersion();
      const listing = execFileSync("dpkg", ["-L", name.replace(version, local)], {
        encoding: "utf8",
      });
      for (const path of listing.split("\n"))
        if (path.includes("/bin/"))
          packageFiles.add(path.replace(`/postgresql/${local}/`, `/postgresql/${version}/`));
    }
    return { added, env, packageFiles };
  }

  function localPostgresVersion(): string {
    const owner = execFileSync("sh", ["-c", "dpkg -S /usr/lib/postgresql/*/bin/initdb"], {
      encoding: "utf8",
    });
    const version = /postgresql-(\d+):/.exec(owner)?.[1];
    if (!version) throw new Error(`no Debian PostgreSQL server package here: ${owner}`);
    return version;
  }

  // --- the pods, from the charts ------------------------------------------------------------------

  interface AppPod {
    readonly name: string;
    readonly workload: Workload;
    readonly pod: IPodSpec;
    readonly container: IContainer;
    readonly needs: CommandNeeds;
    /** The value of each environment variable as far as the layers say (secrets: their template). */
    readonly env: Record<string, string>;
  }

  /** The DATABASE_URL External Secrets writes into a Secret, as its template spells it. */
  function secretValue(secretName: string, key: string): string {
    for (const externalSecret of ofKind(manifests, "ExternalSecret")) {
      const spec = externalSecret.spec;
      if (spec?.target?.name !== secretName) continue;
      const data: unknown = spec.target.template?.data;
      const value = z.record(z.string(), z.string()).parse(data)[key];
      if (value !== undefined) return value;
    }
    throw new Error(`no ExternalSecret writes ${secretName}/${key}`);
  }

  /** Each container running pra-app, with the invocation its arguments and environment make. */
  function appPods(): AppPod[] {
    const settingsKeys = Object.keys(
      cloudSettingsData({ bucketName: "b", kmsKeyArn: "k", region: "r" }),
    );
    const pods: AppPod[] = [];
    for (const workload of manifests.filter(isWorkload)) {
      const pod = podSpecOf(workload);
      for (const container of pod.containers) {
        if (container.command?.[0] !== "pra-app") continue;
        const env: Record<string, string> = {};
        for (const variable of container.env ?? []) {
          const ref = variable.valueFrom?.secretKeyRef;
          env[variable.name] = ref ? secretValue(ref.name ?? "", ref.key) : (variable.value ?? "");
        }
        for (const source of container.envFrom ?? []) {
          if (source.configMapRef?.name !== "pra-cloud")
            throw new Error(`${workload.metadata.name}: envFrom of an unknown source`);
          for (const key of settingsKeys) env[key] = `(from pra-cloud)`;
        }
        const invocation = invocationOf(container.args ?? [], backendOf(Object.keys(env)));
        const url = env.DATABASE_URL;
        const caBundle = url === undefined ? undefined : caBundleNamedBy(url);
        const databasePort = url === undefined ? undefined : /:(\d+)\//.exec(url)?.[1];
        const pgBinDir = readImage().env.PG_BIN_DIR;
        const needs = needsOf(invocation, {
          ...(caBundle ? { caBundle } : {}),
          ...(databasePort ? { databasePort: Number(databasePort) } : {}),
          ...(pgBinDir ? { pgBinDir } : {}),
          ...(env.PORT ? { port: Number(env.PORT) } : {}),
        });
        pods.push({ name: workload.metadata.name, workload, pod, container, needs, env });
      }
    }
    return pods;
  }

  const pods = appPods();

  test("the target runs the service, the export and the restore test, each on PostgreSQL", () => {
    // The backend is what the pod's environment selects (backendOf reads it as the app does): a pod
    // left on SQLite would look for restore points in an empty /backup.
    expect(
      pods
        .map((p) => `${p.name}: ${p.needs.invocation.command} (${p.needs.invocation.backend})`)
        .sort(),
    ).toEqual([
      "postgres-export: backup (postgres)",
      "postgres-restore-test: verify (postgres)",
      "pra-app: serve (postgres)",
    ]);
  });

  // --- files: in the image, or mounted ------------------------------------------------------------

  describe("every file a pod needs is in the image or mounted", () => {
    const image = readImage();
    test.each(pods.map((p) => [p.name, p] as const))("%s", (_name, pod) => {
      const mounts = (pod.container.volumeMounts ?? []).map((mount) => mount.mountPath);
      const missing = pod.needs.files
        .map((file) => file.path)
        .filter(
          (path) =>
            !image.added.some((added) => added.path === path) &&
            !image.packageFiles.has(path) &&
            !mounts.some((mount) => path.startsWith(`${mount}/`)),
        );
      expect(missing).toEqual([]);
    });

    test("the CA bundle DATABASE_URL names is the one the image downloads, pinned by its checksum", () => {
      const named = new Set(pods.flatMap((p) => (p.env.DATABASE_URL ? [p.env.DATABASE_URL] : [])));
      expect(named.size).toBeGreaterThan(0);
      for (const url of named) {
        const path = caBundleNamedBy(url);
        expect(path).toBe(RDS_CA_BUNDLE.path);
        expect(url).toContain("sslmode=verify-full");
        expect(image.added.find((added) => added.path === path)).toEqual({
          path: RDS_CA_BUNDLE.path,
          source: RDS_CA_BUNDLE.source,
          checksum: `sha256:${RDS_CA_BUNDLE.sha256}`,
        });
      }
    });
  });

  // --- AWS actions: allowed by the pod's role, and nothing more -----------------------------------

  interface Statement {
    readonly effect: string;
    readonly actions: string[];
    readonly resources: string[];
  }

  const wildcard = (pattern: string) =>
    new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`);

  function statementsOfRole(roleId: string, roleName: unknown): Statement[] {
    const attached = run.mocks
      .ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
      .filter((attachment) => attachment.inputs.role === roleName);
    // A managed policy's document is not in the program: it could allow anything.
    expect(attached.map((a) => a.inputs.policyArn)).toEqual([]);
    return run.mocks
      .ofType("aws:iam/rolePolicy:RolePolicy")
      .filter((policy) => policy.inputs.role === roleId)
      .flatMap((policy) => doc(policy.inputs.policy).Statement)
      .map((statement) => {
        for (const key of ["NotAction", "NotResource", "Condition"])
          if (key in statement) throw new Error(`a statement with ${key} is not evaluated here`);
        return {
          effect: String(statement.Effect),
          actions: [statement.Action].flat().map(String),
          resources: [statement.Resource].flat().map(String),
        };
      });
  }

  function allows(statements: readonly Statement[], action: string, resource: string): boolean {
    const matches = (statement: Statement) =>
      statement.actions.some((pattern) => wildcard(pattern).test(action)) &&
      statement.resources.some((pattern) => wildcard(pattern).test(resource));
    return (
      statements.some((s) => s.effect === "Allow" && matches(s)) &&
      !statements.some((s) => s.effect === "Deny" && matches(s))
    );
  }

  /** The role EKS Pod Identity gives a pod's service account in the app's namespace. */
  function roleOf(serviceAccount: string | undefined) {
    const association = run.mocks
      .ofType("aws:eks/podIdentityAssociation:PodIdentityAssociation")
      .find(
        (a) =>
          a.inputs.namespace === config.namespace && a.inputs.serviceAccount === serviceAccount,
      );
    if (!association) return undefined;
    return run.mocks.byIdOrArn(association.inputs.roleArn);
  }

  describe("every AWS action a pod performs is allowed by its role, and nothing more", () => {
    const bucketArn = () => `arn:aws:s3:::${String(run.outputs.exportBucketName!.value)}`;
    /** Concrete ARNs a need acts on: the bucket, an export and a staging object, the key. */
    const arnsOf = (need: AwsActionNeed): string[] => {
      switch (need.resource) {
        case "export-bucket":
          return [bucketArn()];
        case "export-objects":
          return [
            `${bucketArn()}/${EXPORT_PREFIX}app-1700000000.dump`,
            `${bucketArn()}/${EXPORT_PREFIX}.staging/app-1700000000.dump.0a1b2c3d`,
          ];
        case "restore-test-report":
          return [`${bucketArn()}/${EXPORT_PREFIX}${RESTORE_TEST_REPORT_DIR}latest.json`];
        case "export-key":
          return [String(run.outputs.exportBucketKeyArn!.value)];
      }
    };

    test.each(pods.map((p) => [p.name, p] as const))("%s", (_name, pod) => {
      const role = roleOf(pod.pod.serviceAccountName);
      if (!role) {
        expect(pod.needs.awsActions).toEqual([]);
        return;
      }
      const statements = statementsOfRole(role.id, role.state.name);
      const denied = pod.needs.awsActions.flatMap((need) =>
        arnsOf(need)
          .filter((arn) => !allows(statements, need.action, arn))
          .map((arn) => `${need.action} on ${arn} (${need.purpose})`),
      );
      expect(denied).toEqual([]);
      // Nothing more: each allowed action, on each resource named, is one the contract lists there.
      const needed = new Set(
        pod.needs.awsActions.flatMap((n) => arnsOf(n).map((arn) => `${n.action} ${arn}`)),
      );
      const extra = statements
        .filter((s) => s.effect === "Allow")
        .flatMap((s) =>
          s.actions.flatMap((action) => s.resources.map((resource) => ({ action, resource }))),
        )
        .filter(
          ({ action, resource }) =>
            ![...needed].some((pair) => {
              const [neededAction, neededArn] = pair.split(" ");
              return action === neededAction && wildcard(resource).test(neededArn!);
            }),
        )
        .map(({ action, resource }) => `${action} on ${resource}`);
      expect(extra).toEqual([]);
    });
  });

  // --- network: admitted by the NetworkPolicies, enforced by the CNI ------------------------------

  type Address = { readonly family: 4 | 6; readonly value: bigint };

  function parseAddress(text: string): Address {
    if (text.includes(":")) {
      const [head, tail] = text.split("::");
      const groups = (part: string | undefined) => (part ? part.split(":") : []);
      const left = groups(head);
      const right = groups(tail);
      const all = [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right];
      return {
        family: 6,
        value: all.reduce((sum, group) => (sum << 16n) + BigInt(`0x${group}`), 0n),
      };
    }
    return {
      family: 4,
      value: text.split(".").reduce((sum, octet) => (sum << 8n) + BigInt(Number(octet)), 0n),
    };
  }

  function inCidr(address: string, cidr: string): boolean {
    const [base, bits] = cidr.split("/");
    const a = parseAddress(address);
    const b = parseAddress(base!);
    if (a.family !== b.family) return false;
    const width = a.family === 4 ? 32n : 128n;
    const shift = width - BigInt(Number(bits));
    return a.value >> shift === b.value >> shift;
  }

  /** The first host of the subnets the database's subnet group spans, from the cloud layer. */
  function databaseAddress(): string {
    const group = run.mocks.ofType("aws:rds/subnetGroup:SubnetGroup")[0]!;
    const [subnetId] = inputOf(group, "subnetIds", z.array(z.string()));
    const subnet = run.mocks.byIdOrArn(subnetId)!;
    const cidr = String(subnet.inputs.cidrBlock);
    const [base] = cidr.split("/");
    const octets = base!.split(".");
    return [...octets.slice(0, 3), String(Number(octets[3]) + 10)].join(".");
  }

  /** A public address of S3 in the primary region (any public address stands for it). */
  const S3_ADDRESS = "52.95.154.10";

  function targetsOf(destination: Destination): { address: string; port: number }[] {
    switch (destination.kind) {
      case "database":
        return [{ address: databaseAddress(), port: destination.port }];
      case "aws-api":
        return [{ address: S3_ADDRESS, port: destination.port }];
      case "credentials-agent":
        return destination.addresses.map((address) => ({ address, port: destination.port }));
    }
  }

  function selects(
    selector: { matchLabels?: Record<string, string> } | undefined,
    labels: Record<string, string>,
  ) {
    return Object.entries(selector?.matchLabels ?? {}).every(
      ([key, value]) => labels[key] === value,
    );
  }

  function egressAdmits(pod: AppPod, address: string, port: number): boolean {
    const labels = podLabels(pod.workload);
    const policies = ofKind(manifests, "NetworkPolicy").filter(
      (policy) =>
        selects(policy.spec?.podSelector, labels) &&
        (policy.spec?.policyTypes ?? []).includes("Egress"),
    );
    if (policies.length === 0) return true;
    return policies.some((policy) =>
      (policy.spec?.egress ?? []).some((rule) => {
        const toMatches =
          rule.to === undefined ||
          rule.to.some(
            (peer) =>
              peer.ipBlock !== undefined &&
              inCidr(address, peer.ipBlock.cidr) &&
              !(peer.ipBlock.except ?? []).some((except) => inCidr(address, except)),
          );
        const portMatches =
          rule.ports === undefined ||
          rule.ports.some(
            (p) => (p.protocol ?? "TCP") === "TCP" && (p.port === undefined || p.port === port),
          );
        return toMatches && portMatches;
      }),
    );
  }

  function podLabels(workload: Workload): Record<string, string> {
    const template =
      workload.kind === "CronJob"
        ? workload.spec?.jobTemplate.spec?.template
        : workload.spec?.template;
    return { ...(template?.metadata?.labels ?? {}) };
  }

  describe("every destination a pod calls is admitted by the NetworkPolicies that select it", () => {
    test.each(pods.map((p) => [p.name, p] as const))("%s", (_name, pod) => {
      const blocked = pod.needs.destinations.flatMap((destination) =>
        targetsOf(destination)
          .filter(({ address, port }) => !egressAdmits(pod, address, port))
          .map(({ address, port }) => `${address}:${port} (${destination.purpose})`),
      );
      expect(blocked).toEqual([]);
    });

    test("and the clusters' CNI enforces them (VPC CNI network policy on)", () => {
      const cnis = run.mocks
        .ofType("aws:eks/addon:Addon")
        .filter((a) => a.inputs.addonName === "vpc-cni");
      expect(cnis.length).toBeGreaterThanOrEqual(2);
      // The add-on's configuration schema takes the flag as a string.
      const Values = z.looseObject({ enableNetworkPolicy: z.string().optional() });
      for (const cni of cnis) {
        const text = inputOf(cni, "configurationValues", z.string().optional());
        const values = Values.parse(text === undefined ? {} : JSON.parse(text));
        expect({ addon: cni.name, enableNetworkPolicy: values.enableNetworkPolicy }).toEqual({
          addon: cni.name,
          enableNetworkPolicy: "true",
        });
      }
    });
  });

  // --- scratch space: fits the volume at /tmp -----------------------------------------------------

  describe("every pod's scratch space fits the volume mounted for it", () => {
    test.each(pods.map((p) => [p.name, p] as const))("%s", (_name, pod) => {
      const needed = pod.needs.scratch.bytes(design.workload.dataBytes);
      const mount = (pod.container.volumeMounts ?? []).find(
        (m) => m.mountPath === pod.needs.scratch.path,
      );
      const volume = pod.pod.volumes?.find((v) => v.name === mount?.name);
      let given = 0;
      if (volume?.emptyDir) {
        given = quantityBytes(String(volume.emptyDir.sizeLimit ?? "0")) ?? 0;
      } else if (volume?.ephemeral) {
        const spec = volume.ephemeral.volumeClaimTemplate?.spec;
        given = quantityBytes(String(spec?.resources?.requests?.storage ?? "0")) ?? 0;
        // The claim's volumes must go with the pod, not pile up (nor be backed up).
        const storageClass = run.mocks
          .ofType("kubernetes:storage.k8s.io/v1:StorageClass")
          .find(
            (c) =>
              inputOf(c, "metadata", z.looseObject({ name: z.string() })).name ===
              spec?.storageClassName,
          );
        expect(storageClass?.inputs.reclaimPolicy).toBe("Delete");
        expect(
          inputOf(storageClass!, "parameters", shapes.stringMap).tagSpecification_1,
        ).toBeUndefined();
      }
      expect({ path: pod.needs.scratch.path, enough: given >= needed, needed, given }).toEqual({
        path: pod.needs.scratch.path,
        enough: true,
        needed,
        given,
      });
    });
  });

  // --- run time: the data's size within the Job's deadline ----------------------------------------

  describe("every CronJob copying the database finishes its provisioned size before its deadline", () => {
    // The size the scratch space above is checked for: pra:dbAllocatedStorage.
    const dataBytes = design.workload.dataBytes;
    const passSeconds = Math.ceil(dataBytes / LOGICAL_COPY_BYTES_PER_SECOND);
    const cronJobRunning = (command: string) => {
      const found = ofKind(manifests, "CronJob").find(
        (m) => podSpecOf(m).containers[0]?.args?.[0] === command,
      );
      if (!found) throw new Error(`no CronJob runs pra-app ${command}`);
      return specOf(found);
    };

    test("the export: pg_dump streamed to S3, then read back whole to check it", () => {
      expect(dataBytes).toBe(config.database.allocatedStorageGb * 1024 ** 3);
      const spec = cronJobRunning("backup");
      const deadline = spec.jobTemplate.spec?.activeDeadlineSeconds ?? 0;
      // Two passes over the data, and the time the Job's pod needs to start.
      expect(deadline).toBeGreaterThanOrEqual(2 * passSeconds);
      expect(deadline).toBe(design.workload.exportSeconds);
      // A run that starts as late as allowed ends before the next is due: runs never overlap.
      const late = spec.startingDeadlineSeconds ?? 0;
      expect(longestGapSeconds(spec.schedule)).toBeGreaterThanOrEqual(deadline + late);
      expect(spec.concurrencyPolicy).toBe("Forbid");
    });

    test("the restore test: the newest export streamed into a throwaway server", () => {
      const deadline = cronJobRunning("verify").jobTemplate.spec?.activeDeadlineSeconds ?? 0;
      expect(deadline).toBeGreaterThanOrEqual(passSeconds);
    });
  });

  // --- memory: within the container's limit -------------------------------------------------------

  describe("every pod's memory limit holds what its command needs, child processes included", () => {
    test.each(pods.map((p) => [p.name, p] as const))("%s", (_name, pod) => {
      const limit = pod.container.resources?.limits?.memory;
      const given = limit === undefined ? 0 : (quantityBytes(String(limit)) ?? 0);
      expect({ needed: pod.needs.memoryBytes, enough: given >= pod.needs.memoryBytes }).toEqual({
        needed: pod.needs.memoryBytes,
        enough: true,
      });
    });
  });

  // --- ports, autoscaling, spreading --------------------------------------------------------------

  test("the service listens where its container, probes and Service say", () => {
    const serve = pods.find((p) => p.needs.invocation.command === "serve")!;
    const containerPorts = (serve.container.ports ?? []).map((p) => p.containerPort);
    expect(containerPorts).toEqual([...serve.needs.ports]);
    expect(serve.container.readinessProbe?.httpGet?.port).toBe(serve.needs.ports[0]);
    const service = ofKind(manifests, "Service").find((s) => s.metadata.name === serve.name);
    expect(service?.spec?.ports?.map((p) => p.targetPort)).toEqual([...serve.needs.ports]);
  });

  test("every HorizontalPodAutoscaler has a metrics source in its cluster (metrics-server)", () => {
    const autoscalers = ofKind(manifests, "HorizontalPodAutoscaler");
    expect(autoscalers.length).toBeGreaterThan(0);
    const usesResourceMetrics = autoscalers.some((hpa) =>
      (hpa.spec?.metrics ?? []).some((metric) => metric.type === "Resource"),
    );
    expect(usesResourceMetrics).toBe(true);
    const sources = [
      ...run.mocks
        .ofType("kubernetes:helm.sh/v3:Release")
        .filter((release) => release.inputs.chart === "metrics-server"),
      ...run.mocks
        .ofType("aws:eks/addon:Addon")
        .filter((addon) => addon.inputs.addonName === "metrics-server"),
    ];
    // On the primary cluster, whose provider deploys the charts.
    const chartProvider = run.mocks
      .ofType("kubernetes:core/v1:Namespace")
      .map((namespace) => namespace.provider)
      .find(Boolean);
    expect(
      sources.some((source) => source.provider === chartProvider || source.type.startsWith("aws:")),
    ).toBe(true);
  });

  test("zone spreading that refuses to schedule counts only nodes the pods can run on", () => {
    const strict = ofKind(manifests, "Deployment").flatMap((deployment) =>
      (podSpecOf(deployment).topologySpreadConstraints ?? [])
        .filter((constraint) => constraint.whenUnsatisfiable === "DoNotSchedule")
        .map((constraint) => ({ deployment: deployment.metadata.name, ...constraint })),
    );
    expect(strict.length).toBeGreaterThan(0);
    // After a zone's loss its nodes are NotReady and tainted unreachable; counted (Ignore, the
    // default), they hold the skew and replacement pods stay Pending.
    for (const constraint of strict)
      expect(constraint).toMatchObject({ nodeTaintsPolicy: "Honor" });
  });
}
