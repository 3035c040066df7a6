/**
 * `npm run status` on a target stack (staging): its synthesized manifests applied to the cluster
 * stand-in (test/cluster-standin/), the real app serving from a real PostgreSQL (Debian's), the
 * export CronJob running the real `pra-app backup` (pg_dump to the S3 stand-in) and the restore test
 * the real `pra-app verify` (the export restored into a throwaway PostgreSQL). Then what an incident
 * looks like: the database unreachable from the exports, the newest export growing older than the
 * cadence, and the CronJobs left suspended.
 *
 * What the stand-in does not model, and plays instead: External Secrets' first sync (called here,
 * as its controller does on creation) with TLS turned off (the test's PostgreSQL has none), the
 * pods' Pod Identity credentials (the test's static keys for the S3 stand-in), and the autoscaler
 * (the Deployment runs the API server's default of one replica).
 */
import { join } from "node:path";
import { CronExpressionParser } from "cron-parser";
import { TASK_NAMES } from "../../charts/constructs/database";
import { isKind, type Manifest, type ManifestOf } from "../../charts/manifest";
import { prepareStack, synthStack } from "../../charts/stacks";
import { cloudNames, formatDuration, listStacks, loadStack, parseDuration } from "../../config";
import { freshnessLimit, type RestorePointStatus, stackStatus, statusText } from "../../dr/status";
import { cloudSettingsData } from "../../infra/kubernetes/cloud-settings";
import { Cluster } from "../cluster-standin/cluster";
import {
  applyKustomization,
  kubectl,
  runStatusScript,
  serveKubectl,
  type StandinEndpoint,
} from "../cluster-standin/kubectl";
import { freePort, type PostgresServer, startPostgres } from "../support/postgres";
import { REPO_ROOT, tempDir, type TempDir } from "../support/pra-app";
import { type S3Stub, startS3Stub } from "../support/s3-stub";

const loaded = loadStack("staging", REPO_ROOT);
if (loaded.topology !== "target") throw new Error("staging is expected to be a target stack");
const staging = loaded;
const NS = staging.namespace;
const { backup: EXPORT, restoreTest: RESTORE_TEST } = TASK_NAMES.postgres;
const CONTEXT = `pra-${staging.stack}`;
const names = cloudNames(staging.stack);
const BUCKET = names.exportBucket("123456789012", staging.region);

let dir: TempDir;
let postgres: PostgresServer;
let s3: S3Stub;
let cluster: Cluster;
let endpoint: StandinEndpoint;
/** The Secrets Manager entry External Secrets reads (pra/<stack>/database). */
let secret: Record<string, string>;
const savedEnv = { ...process.env };

const k = (args: readonly string[]) =>
  kubectl(cluster, ["-n", NS, ...args], undefined, { cwd: dir.path, context: CONTEXT });
const must = async (args: readonly string[]) => {
  const result = await k(args);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
};
const notChecked = { checked: false, why: "not asked" } as const;
const status = () =>
  stackStatus(staging, k, { nowSeconds: Math.floor(cluster.now() / 1000), alerts: notChecked });
const story = () => cluster.events.join("\n");

/** The synthesized CronJob, as the stand-in holds it. */
function cronJob(name: string) {
  const found = cluster.cronJobs.get(`${NS}/${name}`);
  if (!found?.spec) throw new Error(`no cronjob ${name}`);
  return found.spec;
}

beforeAll(async () => {
  dir = tempDir("pra-status-target-");
  [postgres, s3] = await Promise.all([startPostgres(), startS3Stub()]);
  // What every pod reads besides its own environment: the S3 endpoint and credentials (Pod
  // Identity's part) and where the image keeps PostgreSQL's programs.
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    PG_BIN_DIR: postgres.binDir,
  });
  await postgres.createDatabase("pra");
  secret = {
    username: "postgres",
    password: "not-checked-by-trust-auth",
    host: "127.0.0.1",
    port: new URL(postgres.url).port,
    dbname: "pra",
  };
  synthStack(staging, join(dir.path, "dist", staging.stack));
  cluster = new Cluster(dir.join("cluster"));
  cluster.externalSecrets = {
    source: (key) => (key === names.databaseSecretName ? secret : undefined),
    rewrite: (value) => value.replace(/sslmode=verify-full&sslrootcert=[^&]*/, "sslmode=disable"),
  };
  endpoint = await serveKubectl(cluster, { cwd: dir.path, context: CONTEXT });
  await applyKustomization(cluster, `dist/${staging.stack}`, { cwd: dir.path, context: CONTEXT });
  // What Pulumi adds beside the synced charts: the pra-cloud ConfigMap (bucket, KMS key, region).
  const cloud: Manifest = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "pra-cloud", namespace: NS },
    data: cloudSettingsData({
      bucketName: BUCKET,
      kmsKeyArn: `arn:aws:kms:${staging.region}:123456789012:key/standin`,
      region: staging.region,
    }),
  };
  cluster.apply([cloud], NS);
  if (!cluster.syncExternalSecret(NS, "pra-database")) throw new Error(story());
  await cluster.firstPodReady(story);
  const url = cluster.serviceUrl(NS, "pra-app");
  for (let i = 0; i < 3; i++) {
    const response = await fetch(`${url}/events`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: `status-${i}` }),
    });
    if (response.status !== 201) throw new Error(`POST /events answered ${response.status}`);
  }
  // One export on its schedule, then the restore test as an operator starts it after a deploy
  // (it runs every six hours otherwise): a Job the CronJob owns, like a scheduled one.
  const exportInterval = intervalSeconds(cronJob(EXPORT).schedule);
  await cluster.advance(exportInterval + 1);
  await must(["create", "job", "restore-test-after-deploy", `--from=cronjob/${RESTORE_TEST}`]);
  const ended = await cluster.until(
    () => cluster.jobs.get(`${NS}/restore-test-after-deploy`)?.condition !== undefined,
    600,
    "the restore test",
  );
  if (!ended) throw new Error(`the restore test did not end:\n${story()}`);
  // And the next export: the newest point is now newer than the one the restore test verified.
  await cluster.advance(exportInterval);
}, 120_000);

afterAll(async () => {
  await cluster?.shutdown();
  await endpoint?.close();
  await s3?.stop();
  postgres?.stop();
  process.env = savedEnv;
  dir?.remove();
});

/** Seconds between two runs of an even cron schedule. */
function intervalSeconds(schedule: string): number {
  const runs = CronExpressionParser.parse(schedule, { tz: "UTC" });
  const first = runs.next().getTime();
  return (runs.next().getTime() - first) / 1000;
}

type CronJobSpec = NonNullable<ManifestOf<"CronJob">["spec"]>;

/**
 * How old the newest export may be, from an export CronJob: its interval, plus how late a run may
 * start, plus how long it may run (docs/architecture.md, "Objectives become schedules").
 */
function exportWorstCase(spec: CronJobSpec = cronJob(EXPORT)): number {
  return (
    intervalSeconds(spec.schedule) +
    (spec.startingDeadlineSeconds ?? 0) +
    (spec.jobTemplate.spec?.activeDeadlineSeconds ?? 0)
  );
}

/** The `--max-age` a restore-test CronJob passes to `pra-app verify`. */
function restoreTestMaxAge(spec: CronJobSpec = cronJob(RESTORE_TEST)): number | undefined {
  const args = spec.jobTemplate.spec?.template.spec?.containers[0]?.args ?? [];
  const value = args[args.indexOf("--max-age") + 1];
  return value === undefined ? undefined : parseDuration(value);
}

let healthyPoint: string | undefined;

describe("a healthy target", () => {
  test("ok: app ready, last export and restore test succeeded, point within the export cadence", async () => {
    const s = await status();
    if (!s.ok) throw new Error(`${statusText(s)}\n${story()}`);
    expect(s.problems).toEqual([]);
    expect(s).toMatchObject({ stack: "staging", namespace: NS, suspended: [] });
    expect(s.app.found).toBe(true);
    expect(s.app.desired).toBeGreaterThanOrEqual(1);
    expect(s.app.ready).toBe(s.app.desired);
    expect(s.backup).toMatchObject({ cronJob: EXPORT, found: true, suspended: false });
    expect(s.backup.lastJob?.state).toBe("succeeded");
    expect(s.restoreTest).toMatchObject({ cronJob: RESTORE_TEST, found: true });
    expect(s.restoreTest.lastJob).toMatchObject({
      name: "restore-test-after-deploy",
      state: "succeeded",
    });
    // The newest point is the export the real pg_dump last wrote to the bucket, named by the
    // Job's summary line; the restore test verified the one before it.
    const point = s.newestPoint;
    healthyPoint = point?.file;
    const exported = [...(s3.buckets.get(BUCKET)?.keys() ?? [])]
      .filter((key) => key.endsWith(".dump"))
      .sort();
    expect(exported).toHaveLength(2);
    expect(exported.map((key) => key.replace(/^exports\//, ""))).toEqual([
      s.restoreTest.lastJob?.summary?.file,
      point?.file,
    ]);
    expect(point?.file).toMatch(/^app-\d+\.dump$/);
    expect(point?.from).toBe(`job/${s.backup.lastJob?.name ?? "?"}`);
    // A real restore: the events the app wrote, counted in the throwaway server.
    expect(s.restoreTest.lastJob?.summary?.rows).toMatchObject({ events: 3 });
    // Judged by the export cadence, the figure the restore test and the alerts use, not by the
    // RPO that RDS holds.
    expect(point?.limitBasis).toBe("export cadence");
    expect(point?.limitSeconds).toBe(exportWorstCase());
    expect(point?.limitSeconds).toBe(restoreTestMaxAge());
    expect(point?.limitSeconds).not.toBe(staging.objectives.rpoSeconds);
    expect(point?.fresh).toBe(true);

    const text = statusText(s);
    expect(text).toContain(`stack staging, namespace ${NS}: OK`);
    expect(text).toMatch(new RegExp(`cronjob/${EXPORT}: job/\\S+ succeeded`));
    expect(text).toContain(`cronjob/${RESTORE_TEST}: job/restore-test-after-deploy succeeded`);
    expect(text).toContain("(export cadence 39m, within)");
  });

  test("npm run status -- --stack staging --json, as an operator runs it: exit 0 and the report", async () => {
    const result = await runStatusScript(endpoint, "staging", CONTEXT);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    // The script judges ages by the real clock, which the stand-in's runs ahead of: the point's
    // age is asserted above (stackStatus on the cluster's clock), not here.
    const report: unknown = JSON.parse(result.stdout);
    expect(report).toMatchObject({
      stack: "staging",
      namespace: NS,
      ok: true,
      backup: { cronJob: EXPORT, lastJob: { state: "succeeded" } },
      restoreTest: { cronJob: RESTORE_TEST, lastJob: { state: "succeeded" } },
      newestPoint: { file: healthyPoint, limitBasis: "export cadence" },
      problems: [],
    });
    // Every call went to the context and namespace given.
    for (const call of endpoint.calls)
      expect(call.slice(0, 4)).toEqual(["--context", CONTEXT, "-n", NS]);
  });
});

describe("the database unreachable from the exports, past the cadence", () => {
  let problems: readonly string[];
  let point: RestorePointStatus | undefined;
  let now: number;
  beforeAll(async () => {
    // The entry now names a port nothing listens on; External Secrets re-renders the Secret. The
    // running app keeps the connection it started with; each new export Job reads the new one.
    secret = { ...secret, port: String(await freePort()) };
    await must(["annotate", "externalsecret", "pra-database", "force-sync=1", "--overwrite"]);
    await cluster.advance(exportWorstCase() + 60);
    const s = await status();
    now = Math.floor(cluster.now() / 1000);
    problems = s.problems;
    point = s.newestPoint;
    expect(s.ok).toBe(false);
  }, 60_000);

  test("says the newest export is older than the cadence, and which failed Job's logs to read", async () => {
    const failed = /job\/(\S+), failed: kubectl -n (\S+) logs job\/(\S+)$/;
    // The point is still the one the last successful export made, not lost with the failed run,
    // and its age is the time since the export its name dates.
    expect(point?.file).toBe(healthyPoint);
    const age = now - Number(/^app-(\d+)\.dump$/.exec(point?.file ?? "")?.[1]);
    expect(point?.ageSeconds).toBe(age);
    expect(age).toBeGreaterThan(exportWorstCase());
    expect(problems).toEqual([
      `the newest restore point ${healthyPoint ?? "?"} is ${formatDuration(age)} old, ` +
        "over the export cadence of 39m",
      expect.stringMatching(new RegExp(`^the last job of cronjob/${EXPORT}, ${failed.source}`)),
    ]);
    const [, job, namespace, logsOf] = failed.exec(problems[1] ?? "") ?? [];
    expect(point?.from).not.toBe(`job/${job ?? ""}`);
    expect(namespace).toBe(NS);
    expect(logsOf).toBe(job);
    // The command it gives works, and shows why: the connection the export could not make.
    const logs = await kubectl(
      cluster,
      ["-n", namespace ?? "", "logs", `job/${logsOf ?? ""}`],
      undefined,
      { cwd: dir.path, context: CONTEXT },
    );
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/ECONNREFUSED|Connection refused/);
  });
});

describe("a restore stopped half-way: the CronJobs left suspended", () => {
  test("lists them, with the command that resumes each, and marks them in the text", async () => {
    for (const name of [EXPORT, RESTORE_TEST])
      await must(["patch", "cronjob", name, "--type", "merge", "-p", '{"spec":{"suspend":true}}']);
    const s = await status();
    expect(s.suspended).toEqual([EXPORT, RESTORE_TEST]);
    for (const name of [EXPORT, RESTORE_TEST])
      expect(s.problems).toContain(
        `cronjob/${name} is suspended: resume it once the restore is done ` +
          `(kubectl -n ${NS} patch cronjob ${name} -p '{"spec":{"suspend":false}}')`,
      );
    const text = statusText(s);
    expect(text).toContain(`stack staging, namespace ${NS}: NEEDS ATTENTION`);
    expect(text).toContain(`cronjob/${EXPORT} (SUSPENDED): job/`);
    expect(text).toContain(`cronjob/${RESTORE_TEST} (SUSPENDED): job/restore-test-after-deploy`);
  });
});

test("the synthesized CronJobs are the target's: exports and restore test of PostgreSQL", () => {
  // What the status reads is what the target deploys, not the lab's names.
  const commands = [EXPORT, RESTORE_TEST].map(
    (name) => cronJob(name).jobTemplate.spec?.template.spec?.containers[0]?.args?.[0],
  );
  expect(commands).toEqual(["backup", "verify"]);
  const stored = [...cluster.cronJobs.values()].map((m) => m.metadata.name);
  expect(stored.sort()).toEqual([EXPORT, RESTORE_TEST].sort());
});

test.each(
  listStacks(REPO_ROOT).filter((stack) => loadStack(stack, REPO_ROOT).topology === "target"),
)("%s: the newest export is judged by the worst case of the export CronJob it deploys", (stack) => {
  const config = loadStack(stack, REPO_ROOT);
  const synced = prepareStack(config, dir.join(`prepared-${stack}`)).objects.synced;
  const spec = (name: string) => {
    const found = synced.find((m) => isKind(m, "CronJob") && m.metadata.name === name);
    if (!found || !isKind(found, "CronJob") || !found.spec) throw new Error(`no cronjob ${name}`);
    return found.spec;
  };
  const limit = freshnessLimit(config);
  expect(limit.basis).toBe("export cadence");
  expect(limit.seconds).toBe(exportWorstCase(spec(EXPORT)));
  expect(limit.seconds).toBe(restoreTestMaxAge(spec(RESTORE_TEST)));
});
