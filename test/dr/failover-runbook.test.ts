/**
 * The failover and failback plans of prod (warm standby) and staging (pilot light), built from
 * the names the Pulumi program exports under mocks (test/infra/harness.ts): `npm run failover
 * -- --dry-run` reads the same `failover` output a real `pulumi stack output --json` holds, so a
 * plan that prints a placeholder, or a name the stack does not create, fails here.
 *
 * Then `npm run failover` runs end to end, as a person runs it, for both stacks, against
 * stand-ins: the AWS CLI is a recording stand-in (test/support/aws-standin.ts; nothing here calls
 * AWS) modelling what the runbook relies on (a replica must be promoted before it is writable, a
 * replicated secret made standalone before it is written, a record switch is an UPSERT); kubectl
 * is the cluster stand-in (test/cluster-standin/) holding what `pulumi up` leaves in the DR
 * cluster (infra/kubernetes/dr-workloads.ts), where External Secrets renders the secret the
 * runbook rewrote and the app's pods run the real `pra-app serve` on a real PostgreSQL. The last
 * steps write and read through the service's name: a proxy standing for the DR load balancer,
 * answering only once the record names it. TLS is not replayed: the test's PostgreSQL has none,
 * so the rendered URL's TLS settings are replaced by sslmode=disable.
 *
 * Most runs call the command's own function (runFailover) in this process, with the stand-ins'
 * PATH and buffers for its output: a new tsx-compiled process for each of the dozens of runs
 * would dominate the file's time. The commands it runs (aws, kubectl) are still processes of their
 * own. A few runs go through the npm script's own process, as a person runs it: one not
 * confirmed on stdin (exit 2), one failover to its end (exit 0), one stopped by a failure (exit 1).
 */
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { loadStack, type TargetConfig } from "../../config";
import { DR_PARTS } from "../../config/dr-design";
import { type FailoverTargets, failoverTargetsSchema } from "../../config/failover-targets";
import {
  failoverManifests,
  failoverSeconds,
  failoverSteps,
  missingParts,
  withHost,
} from "../../dr/failover-runbook";
import { runFailover } from "../../scripts/failover";
import { evaluateProgram, pulumiConfigOf } from "../infra/harness";
import { createServer, type Server } from "node:http";
import { Client } from "pg";
import { isManifest, type Manifest } from "../../charts/manifest";
import { prepareStack, synthStack } from "../../charts/stacks";
import { drDesignOf } from "../../config/dr-design";
import { cloudSettingsData } from "../../infra/kubernetes/cloud-settings";
import { standbyManifests } from "../../infra/kubernetes/dr-workloads";
import { Cluster } from "../cluster-standin/cluster";
import { serveKubectl, type StandinEndpoint } from "../cluster-standin/kubectl";
import {
  type AwsAnswer,
  type AwsCall,
  type AwsStandin,
  commandOf,
  flag,
  startAwsStandin,
} from "../support/aws-standin";
import { type PostgresServer, startPostgres } from "../support/postgres";
import { REPO_ROOT, tempDir, type TempDir } from "../support/pra-app";

const stacks = ["prod", "staging"] as const;
type Stack = (typeof stacks)[number];
const targets = new Map<Stack, FailoverTargets>();
const configs = new Map<Stack, TargetConfig>();
let dir: TempDir;

/**
 * The load balancer the service's name points at, for the runbook's HTTP steps: while `route`
 * names the app's URL, requests (method and JSON body) go to it and its answer comes back; while
 * the name points elsewhere, 502 with the reason.
 */
async function loadBalancerProxy(
  route: () => { readonly app: string } | { readonly refused: string },
): Promise<{ proxy: Server; proxyPort: number }> {
  const proxy: Server = createServer((request, response) => {
    const target = route();
    if ("refused" in target) {
      response.statusCode = 502;
      response.end(target.refused);
      return;
    }
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => {
      fetch(`${target.app}${request.url ?? "/"}`, {
        method: request.method ?? "GET",
        ...(body ? { body, headers: { "content-type": "application/json" } } : {}),
      }).then(
        async (answer) => {
          response.statusCode = answer.status;
          response.end(await answer.text());
        },
        (error: unknown) => {
          response.statusCode = 502;
          response.end(String(error));
        },
      );
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const address = proxy.address();
  return { proxy, proxyPort: typeof address === "object" && address !== null ? address.port : 0 };
}

function configOf(stack: Stack): TargetConfig {
  const config = loadStack(stack, REPO_ROOT);
  if (config.topology !== "target") throw new Error(`${stack} is not a target stack`);
  return config;
}

beforeAll(async () => {
  dir = tempDir("pra-failover-plan-");
  for (const stack of stacks) {
    const run = await evaluateProgram(stack, pulumiConfigOf(stack));
    const output = run.outputs.failover;
    expect(output?.secret).toBe(false);
    targets.set(stack, failoverTargetsSchema.parse(output?.value));
    configs.set(stack, configOf(stack));
    writeFileSync(
      join(dir.path, `${stack}.json`),
      JSON.stringify(Object.fromEntries(Object.entries(run.outputs).map(([k, v]) => [k, v.value]))),
    );
  }
}, 300_000);

afterAll(() => dir.remove());

const get = <T>(map: Map<Stack, T>, stack: Stack): T => {
  const value = map.get(stack);
  if (value === undefined) throw new Error(`no ${stack}`);
  return value;
};

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

interface RunOptions {
  /** What the person types. */
  readonly stdin?: string;
  /** The environment of the commands it runs (the stand-ins' PATH). */
  readonly env?: NodeJS.ProcessEnv;
  /** Through the npm script's own process, as a person runs it, rather than in this one. */
  readonly asNpmRunsIt?: boolean;
}

/** `npm run failover -- <args>`: its exit code and what it printed on each stream. */
async function failover(args: readonly string[], options: RunOptions = {}): Promise<Run> {
  const env = options.env ?? process.env;
  if (options.asNpmRunsIt === true)
    return new Promise<Run>((resolve) => {
      const child = execFile(
        process.execPath,
        ["--require", "tsx/cjs", "scripts/failover.ts", ...args],
        { cwd: REPO_ROOT, env, timeout: 150_000 },
        (error, stdout, stderr) =>
          resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
      child.stdin?.end(options.stdin);
    });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  const into = (chunks: Buffer[]) => ({
    write: (chunk: string | Uint8Array) => chunks.push(Buffer.from(chunk)),
  });
  const code = await runFailover(args, {
    stdin: Readable.from(options.stdin === undefined ? [] : [options.stdin]),
    stdout: into(stdout),
    stderr: into(stderr),
    env,
    cwd: REPO_ROOT,
  });
  return {
    code,
    stdout: Buffer.concat(stdout).toString("utf8"),
    stderr: Buffer.concat(stderr).toString("utf8"),
  };
}

test("without --yes, a failover that is not confirmed runs nothing and exits 2", async () => {
  const { code, stdout, stderr } = await failover(
    ["--stack", "prod", "--outputs", join(dir.path, "prod.json")],
    { stdin: "no\n", asNpmRunsIt: true },
  );
  expect(code).toBe(2);
  expect(stdout).toContain('Declare the disaster and type "yes" to go on: ');
  expect(stderr).toContain("Not confirmed: nothing was run.");
  // No step started: not even the first check's header was printed.
  expect(stdout).not.toMatch(/\[1\//);
});

/** `$NAME` tokens: values only the run knows, each captured by an earlier step (or its start). */
const runtimeTokens = (text: string) => [...new Set(text.match(/\$[A-Z_]+/g) ?? [])].sort();

describe.each(stacks)("%s", (stack) => {
  test("the dry run prints a complete failover plan with the stack's real names", async () => {
    const t = get(targets, stack);
    const { code, stdout, stderr } = await failover([
      "--stack",
      stack,
      "--dry-run",
      "--outputs",
      join(dir.path, `${stack}.json`),
    ]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    // Names the stack determines: every one printed as AWS computed it, none as a placeholder.
    expect(stdout).not.toMatch(/<[a-z][^>]*>|\(output\)|undefined/);
    const names = [
      t.drCluster.name,
      t.database.drIdentifier,
      t.secret.drArn,
      t.serviceName.zoneId,
      t.serviceName.record,
      t.exportBucket,
    ];
    for (const name of names) expect(stdout).toContain(name);
    expect(t.secret.drArn).toMatch(new RegExp(`^arn:aws:secretsmanager:${t.drRegion}:`));
    expect(t.exportBucket).toBe(`pra-${stack}-exports-123456789012-${t.drRegion}`);
    // The only values left open are the ones a step captures while it runs.
    expect(runtimeTokens(stdout)).toEqual(
      ["$CHANGE_ID", "$DB_HOST", "$LB_HOST", "$SECRET", "$STARTED"].sort(),
    );
    expect(stdout).toMatch(/the steps add up to \d+m/);
  });

  test("the failback has its own dry run, re-seeding the primary from the DR region", async () => {
    const t = get(targets, stack);
    const { code, stdout } = await failover([
      "--stack",
      stack,
      "--failback",
      "--dry-run",
      "--outputs",
      join(dir.path, `${stack}.json`),
    ]);
    expect(code).toBe(0);
    expect(stdout).not.toMatch(/<[a-z][^>]*>|\(output\)|undefined/);
    expect(stdout).toContain(
      `create-db-instance-read-replica --db-instance-identifier pra-${stack}`,
    );
    expect(stdout).toContain(
      `--source-db-instance-identifier arn:aws:rds:${t.drRegion}:123456789012:db:${t.database.drIdentifier}`,
    );
    for (const name of [
      t.primary.subnetGroupName,
      t.primary.securityGroupId,
      t.primary.parameterGroupName,
      t.primary.kmsKeyArn,
      t.primary.secretArn,
    ])
      expect(stdout).toContain(name);
    expect(stdout).toContain("Afterwards, by hand:");
  });

  test("every part the failover needs is declared by the stack's DR design", () => {
    const steps = failoverSteps(
      get(configs, stack),
      get(targets, stack),
      failoverManifests(get(configs, stack)),
    );
    expect(missingParts(steps, get(targets, stack).parts)).toEqual([]);
    for (const step of steps) expect(step.standsIfFailed).not.toBe("");
  });
});

test("prod promotes its replica; staging restores into the landing zone kept ready, resizing its nodes", () => {
  const prod = failoverSteps(
    get(configs, "prod"),
    get(targets, "prod"),
    failoverManifests(get(configs, "prod")),
  );
  const staging = failoverSteps(
    get(configs, "staging"),
    get(targets, "staging"),
    failoverManifests(get(configs, "staging")),
  );
  const ids = (steps: typeof prod) => steps.map((step) => step.id);
  expect(ids(prod)).toContain("promote-replica");
  expect(ids(prod)).not.toContain("restore-database");
  expect(ids(staging)).toContain("restore-database");
  const s = get(targets, "staging");
  const restore = staging.find((step) => step.id === "restore-database");
  expect(restore?.argv).toEqual(
    expect.arrayContaining([
      s.database.automatedBackupsArn,
      s.database.subnetGroupName,
      s.database.securityGroupId,
      s.database.parameterGroupName,
      s.database.kmsKeyArn,
    ]),
  );
  expect(s.database.subnetGroupName).toBe("pra-staging-dr-subnets");
  expect(s.database.securityGroupId).toMatch(/^sg-/);
  // Staging's DR node groups run 1 node in the first zone only: the second is resized to the primary's.
  const resized = staging.filter((step) => step.id.startsWith("scale-nodes-"));
  const groupOf = (argv: readonly string[]) => argv[argv.indexOf("--nodegroup-name") + 1];
  expect(resized.map((step) => groupOf(step.argv))).toEqual([s.drCluster.nodeGroups[1]?.name]);
  // prod's figure: the promotion, the switch and the rest; staging's: the restore dominates.
  expect(failoverSeconds(prod)).toBeLessThan(failoverSeconds(staging));
});

test("the secret is rewritten with the new host only, and its other fields unchanged", () => {
  const secret = JSON.stringify({
    username: "pra_admin",
    password: "s3cr3t",
    host: "old",
    port: 5432,
  });
  expect(JSON.parse(withHost(secret, "new.example"))).toEqual({
    username: "pra_admin",
    password: "s3cr3t",
    host: "new.example",
    port: 5432,
  });
  expect(() => withHost(secret, "")).toThrow("no database host was captured");
});

test("outputs without the failover names are refused, naming what is missing", async () => {
  const file = join(dir.path, "old.json");
  writeFileSync(file, JSON.stringify({ clusterName: "pra-prod" }));
  const { code, stderr } = await failover(["--stack", "prod", "--dry-run", "--outputs", file]);
  expect(code).toBe(2);
  expect(stderr).toMatch(/no usable failover output/);
});

test("a DR region that lacks a part the failover needs is refused, naming the part", async () => {
  const t = get(targets, "prod");
  const file = join(dir.path, "lacking.json");
  writeFileSync(
    file,
    JSON.stringify({ failover: { ...t, parts: t.parts.filter((p) => p !== "secret-replica") } }),
  );
  const { code, stderr } = await failover(["--stack", "prod", "--dry-run", "--outputs", file]);
  expect(code).toBe(2);
  expect(stderr).toContain("lacks what the failover needs: secret-replica");
  expect(DR_PARTS).toContain("secret-replica");
});

test("without the Pulumi CLI and without --outputs, the command says how to give the outputs", async () => {
  const { code, stderr } = await failover(["--stack", "prod", "--dry-run"], {
    env: { ...process.env, PATH: "/nonexistent" },
  });
  expect(code).toBe(2);
  expect(stderr).toContain("pass the stack's outputs with --outputs <file>");
});

const PASSWORD = "pw-never-printed-7f3a";
let postgres: PostgresServer;

beforeAll(async () => {
  postgres = await startPostgres();
  for (const stack of stacks) synthStack(get(configs, stack), join(dir.path, "dist", stack));
}, 120_000);

afterAll(() => postgres.stop());

/** The AWS side as the runbook relies on it, for one stack's DR region. */
class AwsModel {
  replica: "replicating" | "promoting" | "standalone" = "replicating";
  restored = false;
  secretReplicated = true;
  secret: Record<string, string>;
  record: string | undefined = undefined;
  /** The call that fails: the `nth` (from 0) of `command`. */
  readonly failOn: { readonly command: string; readonly nth: number } | undefined;
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly t: FailoverTargets,
    databasePort: string,
    databaseName: string,
    failOn?: { readonly command: string; readonly nth: number },
  ) {
    this.failOn = failOn;
    // The secret as the primary left it: the primary's host, which is gone with its region.
    this.secret = {
      username: "postgres",
      password: PASSWORD,
      host: `${t.database.primaryIdentifier}.cabc.${t.region}.rds.amazonaws.com`,
      port: databasePort,
      dbname: databaseName,
    };
  }

  answer(call: AwsCall): AwsAnswer {
    const ok = (stdout = ""): AwsAnswer => ({ code: 0, stdout, stderr: "" });
    const fail = (stderr: string): AwsAnswer => ({ code: 254, stdout: "", stderr: `${stderr}\n` });
    const { argv } = call;
    const command = commandOf(argv);
    const nth = this.seen.get(command) ?? 0;
    this.seen.set(command, nth + 1);
    if (this.failOn?.command === command && this.failOn.nth === nth)
      return fail(`An error occurred (Throttling) calling ${command}`);
    const region = flag(argv, "--region");
    const t = this.t;
    if (command !== "route53 change-resource-record-sets" && command !== "route53 wait")
      if (region !== t.drRegion) return fail(`expected --region ${t.drRegion}, got ${region}`);
    const db = flag(argv, "--db-instance-identifier");
    switch (command) {
      case "eks describe-cluster":
        return flag(argv, "--name") === t.drCluster.name
          ? ok("ACTIVE\n")
          : fail("ResourceNotFound");
      case "eks update-kubeconfig":
      case "eks update-nodegroup-config":
      case "eks wait":
        return ok();
      case "rds describe-db-instance-automated-backups":
        return flag(argv, "--db-instance-automated-backups-arn") === t.database.automatedBackupsArn
          ? ok("2026-11-29T11:02:00+00:00\n")
          : fail("DBInstanceAutomatedBackupNotFound");
      case "rds restore-db-instance-to-point-in-time":
        this.restored =
          db === undefined &&
          flag(argv, "--target-db-instance-identifier") === t.database.drIdentifier;
        return this.restored ? ok("{}") : fail("InvalidParameterCombination");
      case "rds promote-read-replica":
        if (db !== t.database.drIdentifier) return fail("DBInstanceNotFound");
        this.replica = "standalone";
        return ok("{}");
      case "rds wait":
        return this.replica === "standalone" || this.restored
          ? ok()
          : fail("Waiter DBInstanceAvailable failed: Max attempts exceeded");
      case "rds modify-db-instance":
        return ok("{}");
      case "rds describe-db-instances": {
        if (db !== t.database.drIdentifier) return fail("DBInstanceNotFound");
        const query = flag(argv, "--query") ?? "";
        if (query.endsWith("DBInstanceStatus")) return ok("available\n");
        // The DR instance is the test's PostgreSQL.
        if (query.endsWith("Endpoint.Address")) return ok("127.0.0.1\n");
        return fail(`the stand-in does not answer --query ${query}`);
      }
      case "secretsmanager stop-replication-to-replica":
        this.secretReplicated = false;
        return ok("{}");
      case "secretsmanager get-secret-value":
        return flag(argv, "--secret-id") === t.secret.drArn
          ? ok(`${JSON.stringify(this.secret)}\n`)
          : fail("ResourceNotFoundException");
      case "secretsmanager put-secret-value": {
        if (this.secretReplicated)
          return fail("InvalidRequestException: You can't modify a replica secret");
        const written: unknown = JSON.parse(call.stdin ?? "null");
        if (typeof written !== "object" || written === null)
          return fail("InvalidParameterException");
        this.secret = Object.fromEntries(Object.entries(written).map(([k, v]) => [k, String(v)]));
        return ok("{}");
      }
      case "route53 change-resource-record-sets": {
        if (flag(argv, "--hosted-zone-id") !== t.serviceName.zoneId)
          return fail("NoSuchHostedZone");
        const batch: unknown = JSON.parse(flag(argv, "--change-batch") ?? "null");
        const value = JSON.stringify(batch).match(/"Value":"([^"]*)"/)?.[1];
        this.record = value;
        return ok("/change/C0123456789\n");
      }
      case "route53 wait":
        return flag(argv, "--id") === "/change/C0123456789" ? ok() : fail("NoSuchChange");
    }
    return fail(`the stand-in does not know aws ${argv.join(" ")}`);
  }
}

interface Replay {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly aws: AwsStandin;
  readonly model: AwsModel;
  readonly kube: StandinEndpoint;
  readonly cluster: Cluster;
  readonly database: string;
}

/** The DR cluster as pulumi up leaves it: the add-ons' objects are not modelled, only ours. */
function drClusterState(config: TargetConfig, t: FailoverTargets): Manifest[] {
  const failover = failoverManifests(config);
  const namespace = failover.filter((m) => m.kind === "Namespace");
  const standby = drDesignOf(config).parts.includes("standby-workload")
    ? standbyManifests(failover).filter((m) => m.kind !== "Namespace")
    : [];
  const cloud: Manifest = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "pra-cloud", namespace: config.namespace },
    data: cloudSettingsData({
      bucketName: t.exportBucket,
      kmsKeyArn: `arn:aws:kms:${t.drRegion}:123456789012:key/standin`,
      region: t.drRegion,
    }),
  };
  return [...namespace, ...standby, cloud].filter(isManifest);
}

async function replay(
  stack: Stack,
  options: {
    failOn?: { command: string; nth: number };
    from?: string;
    asNpmRunsIt?: boolean;
  } = {},
): Promise<Replay> {
  const config = get(configs, stack);
  const t = get(targets, stack);
  const database = `failover_${stack}_${Math.random().toString(36).slice(2, 8)}`;
  await postgres.createDatabase(database);
  const port = new URL(postgres.url).port;
  const model = new AwsModel(t, port, database, options.failOn);
  const aws = await startAwsStandin((call) => model.answer(call));
  const cluster = new Cluster(dir.join(`${stack}-${database}`));
  cluster.externalSecrets = {
    source: (key) => (key === t.secret.name ? model.secret : undefined),
    rewrite: (value) => value.replace(/sslmode=verify-full&sslrootcert=[^&]*/, "sslmode=disable"),
  };
  cluster.apply(drClusterState(config, t), config.namespace);
  const context = drDesignOf(config).drContext;
  const kube = await serveKubectl(cluster, { cwd: dir.path, context });
  // The DR load balancer: it serves the app once the service's name points at it.
  const lbHost = `internal-k8s-${config.namespace}-pra-app-standin.elb.local`;
  const { proxy, proxyPort } = await loadBalancerProxy(() =>
    model.record === lbHost
      ? { app: cluster.serviceUrl(config.namespace, "pra-app") }
      : { refused: `the name points at ${model.record ?? "the primary"}` },
  );
  const args = [
    "--stack",
    stack,
    "--yes",
    "--outputs",
    join(dir.path, `${stack}.json`),
    "--manifests",
    join(dir.path, "dist", stack, "failover"),
    "--service-url",
    `http://127.0.0.1:${proxyPort}`,
    ...(options.from ? ["--from", options.from] : []),
  ];
  const result = await failover(args, {
    env: kube.env(aws.env()),
    asNpmRunsIt: options.asNpmRunsIt === true,
  });
  proxy.closeAllConnections();
  await new Promise((resolve) => proxy.close(resolve));
  return { ...result, aws, model, kube, cluster, database };
}

async function finish(replayed: Replay): Promise<void> {
  await replayed.cluster.shutdown();
  await replayed.kube.close();
  await replayed.aws.close();
}

/**
 * A failover stopped by the failure of `failOn`, run once however many tests read it (a test of
 * one step's message and the sweep over every step make the same run), its stand-ins closed.
 */
const stoppedRuns = new Map<string, Promise<Replay>>();
function stoppedRun(
  stack: Stack,
  failOn: { command: string; nth: number },
  asNpmRunsIt = false,
): Promise<Replay> {
  const key = `${stack} ${failOn.command} ${failOn.nth}`;
  const known = stoppedRuns.get(key);
  if (known) return known;
  const run = replay(stack, { failOn, asNpmRunsIt }).then(async (r) => {
    await finish(r);
    return r;
  });
  stoppedRuns.set(key, run);
  return run;
}

async function messages(database: string): Promise<string[]> {
  const client = new Client({
    connectionString: postgres.url.replace(/\/postgres$/, `/${database}`),
  });
  await client.connect();
  try {
    const rows = await client.query<{ message: string }>("SELECT message FROM events ORDER BY id");
    return rows.rows.map((row) => row.message);
  } finally {
    await client.end();
  }
}

/** How many failover runs go at once where a test makes many. */
const LANES = 4;

/**
 * `work` on each of `items`, `lanes` at a time, the results in the items' order. Every piece of
 * work is waited for before a failure is reported, so none is left running past its test.
 */
async function inLanes<T, R>(
  items: readonly T[],
  lanes: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const settled: PromiseSettledResult<R>[] = [];
  // One queue the lanes share: each takes the next item when its last one is done.
  const queue = items.entries();
  const lane = async () => {
    for (const [i, item] of queue) {
      settled[i] = await work(item).then(
        (value) => ({ status: "fulfilled", value }),
        (reason: unknown) => ({ status: "rejected", reason }),
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(lanes, items.length) }, lane));
  return settled.map((result) => {
    if (result.status === "rejected") throw result.reason;
    return result.value;
  });
}

const story = (r: Replay) =>
  [
    `exit ${r.code}`,
    "--- stdout",
    r.stdout,
    "--- stderr",
    r.stderr,
    "--- cluster",
    ...r.cluster.events,
  ].join("\n");

describe.each(stacks)("%s, replayed", (stack) => {
  test("the failover ends with the app serving from the DR region, a write and a read through its name", async () => {
    // prod's run is the npm script's own process: exit 0 as a person sees it.
    const r = await replay(stack, { asNpmRunsIt: stack === "prod" });
    try {
      if (r.code !== 0 || r.cluster.timeouts.length > 0) throw new Error(story(r));
      const t = get(targets, stack);
      const config = get(configs, stack);
      // The database the DR app writes to is the one the runbook pointed the secret at.
      expect(r.model.secret).toMatchObject({ host: "127.0.0.1", password: PASSWORD });
      expect((await messages(r.database)).some((m) => m.startsWith("pra failover check "))).toBe(
        true,
      );
      // The app runs at the autoscaler's floor, its schedules resumed.
      const deployment = r.cluster.deployments.get(`${config.namespace}/pra-app`);
      expect(deployment?.spec?.replicas).toBe(config.app.replicas);
      for (const cronJob of r.cluster.cronJobs.values()) expect(cronJob.spec?.suspend).toBe(false);
      expect(r.model.record).toBe(`internal-k8s-${config.namespace}-pra-app-standin.elb.local`);
      // Every kubectl call went to the DR cluster's context; no AWS call left the DR region but DNS.
      for (const call of r.kube.calls)
        expect(call.slice(0, 2)).toEqual(["--context", `pra-${stack}-dr`]);
      const commands = r.aws.calls.map((call) => commandOf(call.argv));
      if (t.strategy === "warm-standby") {
        expect(commands).toContain("rds promote-read-replica");
        expect(commands).not.toContain("rds restore-db-instance-to-point-in-time");
      } else {
        expect(commands).toContain("rds restore-db-instance-to-point-in-time");
        expect(commands).toContain("eks update-nodegroup-config");
      }
      // The secret's value never reaches the output.
      expect(r.stdout + r.stderr).not.toContain(PASSWORD);
    } finally {
      await finish(r);
    }
  }, 200_000);
});

test.each([
  // This one through the npm script's own process: exit 1 as a person sees it.
  ["rds promote-read-replica", "promote-replica", /UNCHANGED: nothing was changed/, true],
  [
    "secretsmanager put-secret-value",
    "point-secret",
    /the database pra-prod-dr serves writes in eu-central-1; .*the secret in eu-central-1 still names the primary's host/,
    false,
  ],
  [
    "route53 change-resource-record-sets",
    "switch-name",
    /the app runs in eu-central-1 on pra-prod-dr; clients still resolve the primary's load balancer/,
    false,
  ],
])(
  "prod: a failing %s stops at step %s and says where the system stands",
  async (command, step, stands, asNpmRunsIt) => {
    const r = await stoppedRun("prod", { command, nth: 0 }, asNpmRunsIt);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`FAILOVER STOPPED at \\[\\d+/\\d+\\]`));
    expect(r.stderr).toMatch(stands);
    expect(r.stderr).toContain(`npm run failover -- --stack prod --from ${step}`);
    expect(r.stdout + r.stderr).not.toContain(PASSWORD);
    // Nothing after the failed step ran.
    const last = r.aws.calls.at(-1);
    expect(last && commandOf(last.argv)).toBe(command);
  },
  200_000,
);

/**
 * Every AWS step of both failovers, made to fail in turn: the run stops at that step, prints the
 * step's own "where the system stands", runs nothing after it, and says how to go on from it.
 */
describe.each(stacks)("%s: each AWS step's failure", (stack) => {
  const cases = () => {
    const steps = failoverSteps(
      get(configs, stack),
      get(targets, stack),
      failoverManifests(get(configs, stack)),
    );
    const seen = new Map<string, number>();
    return steps.flatMap((step, index) => {
      if (step.tool !== "aws") return [];
      const command = commandOf(step.argv.slice(1));
      const nth = seen.get(command) ?? 0;
      seen.set(command, nth + 1);
      return [{ step, index, total: steps.length, command, nth }];
    });
  };

  test("stops at the step, with its message", async () => {
    const all = cases();
    expect(all.length).toBeGreaterThanOrEqual(12);
    // Each case is a run of its own (its own AWS model, cluster and database), so they go a few at
    // a time: most of a run is spent waiting on its aws and kubectl processes.
    const runs = await inLanes(all, LANES, ({ command, nth }) =>
      stoppedRun(stack, { command, nth }),
    );
    for (const [i, { step, index, total, command }] of all.entries()) {
      const r = runs[i];
      if (r === undefined) throw new Error(`no run for ${step.id}`);
      expect({ step: step.id, code: r.code }).toEqual({ step: step.id, code: 1 });
      expect(r.stderr).toContain(`FAILOVER STOPPED at [${index + 1}/${total}] ${step.description}`);
      expect(r.stderr).toContain(`Where the system stands: ${step.standsIfFailed}.`);
      expect(r.stderr).toContain(`--from ${step.id}`);
      const last = r.aws.calls.at(-1);
      expect(last && commandOf(last.argv)).toBe(command);
      expect(r.stdout + r.stderr).not.toContain(PASSWORD);
    }
  }, 600_000);
});

/**
 * The primary region back, the service running in the DR region: AWS as the failback relies on
 * it (the stale primary renamed aside before a replica takes its name, the replica promoted
 * before it is written, the primary's secret writable), in both regions.
 */
class FailbackModel {
  readonly instances = new Map<string, "stale" | "replica" | "standalone">();
  primarySecret: Record<string, string>;
  record: string | undefined;

  constructor(
    private readonly t: FailoverTargets,
    databasePort: string,
    databaseName: string,
    drLoadBalancer: string,
  ) {
    this.instances.set(t.database.primaryIdentifier, "stale");
    this.record = drLoadBalancer;
    this.primarySecret = {
      username: "postgres",
      password: PASSWORD,
      host: `${t.database.primaryIdentifier}.cabc.${t.region}.rds.amazonaws.com`,
      port: databasePort,
      dbname: databaseName,
    };
  }

  answer(call: AwsCall): AwsAnswer {
    const ok = (stdout = ""): AwsAnswer => ({ code: 0, stdout, stderr: "" });
    const fail = (stderr: string): AwsAnswer => ({ code: 254, stdout: "", stderr: `${stderr}\n` });
    const { argv } = call;
    const t = this.t;
    const region = flag(argv, "--region");
    const db = flag(argv, "--db-instance-identifier");
    switch (commandOf(argv)) {
      case "eks describe-cluster":
        return region === t.region && flag(argv, "--name") === t.primary.clusterName
          ? ok("ACTIVE\n")
          : fail("ResourceNotFoundException");
      case "eks update-kubeconfig":
        return ok();
      case "rds modify-db-instance": {
        if (region !== t.region || db === undefined || !this.instances.has(db))
          return fail("DBInstanceNotFound");
        const renamed = flag(argv, "--new-db-instance-identifier");
        if (renamed !== undefined) {
          this.instances.set(renamed, this.instances.get(db) ?? "stale");
          this.instances.delete(db);
        }
        return ok("{}");
      }
      case "rds create-db-instance-read-replica": {
        const source = flag(argv, "--source-db-instance-identifier");
        if (region !== t.region || db === undefined || this.instances.has(db))
          return fail(`DBInstanceAlreadyExists: ${db}`);
        if (source !== `arn:aws:rds:${t.drRegion}:123456789012:db:${t.database.drIdentifier}`)
          return fail(`DBInstanceNotFound: ${source}`);
        for (const [name, value] of [
          ["--db-subnet-group-name", t.primary.subnetGroupName],
          ["--vpc-security-group-ids", t.primary.securityGroupId],
          ["--db-parameter-group-name", t.primary.parameterGroupName],
          ["--kms-key-id", t.primary.kmsKeyArn],
        ] as const)
          if (flag(argv, name) !== value) return fail(`InvalidParameterValue: ${name}`);
        this.instances.set(db, "replica");
        return ok("{}");
      }
      case "rds wait":
        return db !== undefined && this.instances.has(db) ? ok() : fail("Waiter failed");
      case "rds promote-read-replica":
        if (db === undefined || this.instances.get(db) !== "replica")
          return fail("InvalidDBInstanceState");
        this.instances.set(db, "standalone");
        return ok("{}");
      case "rds describe-db-instances":
        return db !== undefined && this.instances.get(db) === "standalone"
          ? ok("127.0.0.1\n")
          : fail("DBInstanceNotFound");
      case "secretsmanager get-secret-value":
        return flag(argv, "--secret-id") === t.primary.secretArn && region === t.region
          ? ok(`${JSON.stringify(this.primarySecret)}\n`)
          : fail("ResourceNotFoundException");
      case "secretsmanager put-secret-value": {
        if (flag(argv, "--secret-id") !== t.primary.secretArn)
          return fail("ResourceNotFoundException");
        const written: unknown = JSON.parse(call.stdin ?? "null");
        if (typeof written !== "object" || written === null)
          return fail("InvalidParameterException");
        this.primarySecret = Object.fromEntries(
          Object.entries(written).map(([k, v]) => [k, String(v)]),
        );
        return ok("{}");
      }
      case "route53 change-resource-record-sets": {
        const batch = flag(argv, "--change-batch") ?? "";
        this.record = /"Value":"([^"]*)"/.exec(batch)?.[1];
        return ok("/change/C0123456789\n");
      }
      case "route53 wait":
        return ok();
    }
    return fail(`the stand-in does not know aws ${argv.join(" ")}`);
  }
}

/** Routes each kubectl call to the stand-in cluster of its --context. */
async function kubectlRouter(endpoints: Record<string, StandinEndpoint>) {
  const server: Server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => {
      const parsed: unknown = JSON.parse(body);
      const argv =
        typeof parsed === "object" &&
        parsed !== null &&
        "argv" in parsed &&
        Array.isArray(parsed.argv)
          ? parsed.argv.map(String)
          : [];
      const context = argv[argv.indexOf("--context") + 1] ?? "";
      const url = endpoints[context]?.env({}).STANDIN_KUBE_URL;
      if (url === undefined) {
        response.end(
          JSON.stringify({
            code: 1,
            stdout: "",
            stderr: `error: context "${context}" does not exist\n`,
          }),
        );
        return;
      }
      fetch(url, { method: "POST", body }).then(
        async (answer) => response.end(await answer.text()),
        (error: unknown) =>
          response.end(JSON.stringify({ code: 1, stdout: "", stderr: String(error) })),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return { server, url: `http://127.0.0.1:${port}/` };
}

describe.each(stacks)("%s, failback replayed", (stack) => {
  test("the primary is re-seeded from the DR region, serves again behind the name, the DR app stopped", async () => {
    const config = get(configs, stack);
    const t = get(targets, stack);
    const database = `failback_${stack}_${Math.random().toString(36).slice(2, 8)}`;
    await postgres.createDatabase(database);
    const port = new URL(postgres.url).port;
    const drLb = `internal-k8s-${config.namespace}-pra-app-dr.elb.local`;
    const primaryLb = `internal-k8s-${config.namespace}-pra-app-primary.elb.local`;
    const model = new FailbackModel(t, port, database, drLb);
    const aws = await startAwsStandin((call) => model.answer(call));
    const tls = (value: string) =>
      value.replace(/sslmode=verify-full&sslrootcert=[^&]*/, "sslmode=disable");
    // The DR cluster serving since the failover, on the DR database (the test's PostgreSQL).
    const dr = new Cluster(dir.join(`${stack}-${database}-dr`));
    dr.name = "dr";
    dr.externalSecrets = {
      source: (key) =>
        key === t.secret.name ? { ...model.primarySecret, host: "127.0.0.1" } : undefined,
      rewrite: tls,
    };
    dr.apply(
      [
        ...drClusterState(config, t),
        ...failoverManifests(config).filter((m) => m.kind !== "Namespace"),
      ],
      config.namespace,
    );
    dr.syncExternalSecret(config.namespace, "pra-database");
    dr.patch("deployment", config.namespace, "pra-app", {
      spec: { replicas: config.app.replicas },
    });
    // The primary cluster as the region came back: its app on the stale primary's address.
    const primary = new Cluster(dir.join(`${stack}-${database}-primary`));
    primary.name = "primary";
    primary.externalSecrets = {
      source: (key) => (key === t.secret.name ? model.primarySecret : undefined),
      rewrite: tls,
    };
    const synced = prepareStack(config, dir.join(`${stack}-${database}-dist`)).objects.synced;
    primary.apply(
      [
        ...synced,
        {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: "pra-cloud", namespace: config.namespace },
          data: cloudSettingsData({
            bucketName: "primary-bucket",
            kmsKeyArn: "primary-key",
            region: t.region,
          }),
        },
      ],
      config.namespace,
    );
    primary.syncExternalSecret(config.namespace, "pra-database");
    const contexts = { [`pra-${stack}-dr`]: dr, [`pra-${stack}`]: primary };
    const endpoints: Record<string, StandinEndpoint> = {};
    for (const [context, cluster] of Object.entries(contexts))
      endpoints[context] = await serveKubectl(cluster, { cwd: dir.path, context });
    const router = await kubectlRouter(endpoints);
    const { proxy, proxyPort } = await loadBalancerProxy(() =>
      model.record === primaryLb
        ? { app: primary.serviceUrl(config.namespace, "pra-app") }
        : { refused: `the name points at ${model.record ?? "nothing"}` },
    );
    const first = Object.values(endpoints)[0];
    if (!first) throw new Error("no endpoint");
    const env = { ...first.env(aws.env()), STANDIN_KUBE_URL: router.url };
    const r = await failover(
      [
        "--stack",
        stack,
        "--failback",
        "--yes",
        "--outputs",
        join(dir.path, `${stack}.json`),
        "--service-url",
        `http://127.0.0.1:${proxyPort}`,
      ],
      { env },
    );
    try {
      if (r.code !== 0 || dr.timeouts.length > 0 || primary.timeouts.length > 0)
        throw new Error(
          [
            `exit ${r.code}`,
            r.stdout,
            r.stderr,
            "--- dr",
            ...dr.events,
            "--- primary",
            ...primary.events,
          ].join("\n"),
        );
      // The stack's names again: the re-seeded primary under the primary's identifier, the stale one aside.
      expect(model.instances.get(t.database.primaryIdentifier)).toBe("standalone");
      expect(model.instances.get(`${t.database.primaryIdentifier}-before-failback`)).toBe("stale");
      expect(model.primarySecret).toMatchObject({ host: "127.0.0.1", password: PASSWORD });
      // The DR app stopped before the promotion; the primary serves and is named again.
      expect(dr.deployments.get(`${config.namespace}/pra-app`)?.spec?.replicas).toBe(0);
      for (const cronJob of dr.cronJobs.values()) expect(cronJob.spec?.suspend).toBe(true);
      expect(model.record).toBe(primaryLb);
      expect((await messages(database)).some((m) => m.startsWith("pra failover check "))).toBe(
        true,
      );
      expect(r.stdout).toContain("Then, by hand:");
      expect(r.stdout + r.stderr).not.toContain(PASSWORD);
    } finally {
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
      router.server.closeAllConnections();
      await new Promise((resolve) => router.server.close(resolve));
      for (const cluster of [dr, primary]) await cluster.shutdown();
      for (const endpoint of Object.values(endpoints)) await endpoint.close();
      await aws.close();
    }
  }, 300_000);
});
