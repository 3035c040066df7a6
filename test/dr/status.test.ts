/**
 * `npm run status` against the cluster stand-in (test/cluster-standin/) running the synthesized
 * lab: the real app, the backup CronJob writing real restore points, a runbook's half-way state
 * (app scaled to zero, CronJobs suspended), and a real Alertmanager (Debian's) with an alert fired.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { synthStack } from "../../charts/stacks";
import { loadStack } from "../../config";
import { freshnessLimit, readAlerts, stackStatus, statusText } from "../../dr/status";
import { debianTool } from "../../scripts/debian-tools";
import { Cluster } from "../cluster-standin/cluster";
import {
  applyKustomization,
  kubectl,
  runStatusScript,
  serveKubectl,
  type StandinEndpoint,
} from "../cluster-standin/kubectl";
import { freePort } from "../support/postgres";
import { REPO_ROOT, tempDir, type TempDir } from "../support/pra-app";

const CONTEXT = "standin";
const lab = loadStack("lab", REPO_ROOT);
const NS = lab.namespace;

let dir: TempDir;
let cluster: Cluster;
let endpoint: StandinEndpoint;
const k = (args: readonly string[]) =>
  kubectl(cluster, ["-n", NS, ...args], undefined, { cwd: dir.path, context: CONTEXT });
const notChecked = { checked: false, why: "not asked" } as const;
const status = () =>
  stackStatus(lab, k, { nowSeconds: Math.floor(cluster.now() / 1000), alerts: notChecked });

beforeAll(async () => {
  dir = tempDir("pra-status-");
  synthStack(lab, join(dir.path, "dist", "lab"));
  cluster = new Cluster(join(dir.path, "volumes"));
  endpoint = await serveKubectl(cluster, { cwd: dir.path, context: CONTEXT });
  await applyKustomization(cluster, "dist/lab", { cwd: dir.path, context: CONTEXT });
  await cluster.firstPodReady();
  // Past one restore-test interval: backups and a restore test have run.
  await cluster.advance(lab.restoreTest.intervalSeconds + 61);
}, 120_000);

afterAll(async () => {
  await cluster.shutdown();
  await endpoint.close();
  dir.remove();
});

test("a healthy lab: app ready, newest point within the RPO, last Jobs succeeded", async () => {
  const s = await status();
  expect(s.problems).toEqual([]);
  expect(s.ok).toBe(true);
  expect(s.app).toEqual({ found: true, desired: 1, ready: 1 });
  expect(s.backup.lastJob?.state).toBe("succeeded");
  expect(s.restoreTest.lastJob?.state).toBe("succeeded");
  // The newest point is a real file the backup wrote, named by the Job's own summary line.
  const point = s.newestPoint;
  expect(point?.file).toMatch(/^app-\d+\.db$/);
  expect(point?.fresh).toBe(true);
  expect(point?.limitBasis).toBe("RPO");
  expect(point?.limitSeconds).toBe(lab.objectives.rpoSeconds);
  expect(point?.ageSeconds).toBeLessThanOrEqual(lab.objectives.rpoSeconds);
  expect(existsSync(join(cluster.volumeOf(NS, "pra-backup"), point?.file ?? "none"))).toBe(true);
  expect(statusText(s)).toContain("stack lab, namespace pra: OK");
});

describe("a restore stopped half-way (app at zero, CronJobs suspended), some time later", () => {
  let text: string;
  let problems: readonly string[];
  beforeAll(async () => {
    for (const args of [
      ["scale", "deployment/pra-app", "--replicas=0"],
      ["patch", "cronjob", "sqlite-backup", "--type", "merge", "-p", '{"spec":{"suspend":true}}'],
      [
        "patch",
        "cronjob",
        "sqlite-restore-test",
        "--type",
        "merge",
        "-p",
        '{"spec":{"suspend":true}}',
      ],
    ]) {
      const result = await k(args);
      if (result.code !== 0) throw new Error(result.stderr);
    }
    await cluster.advance(lab.objectives.rpoSeconds + 60);
    const s = await status();
    problems = s.problems;
    text = statusText(s);
    expect(s.ok).toBe(false);
  });

  test("says the app is at zero, the point is over the RPO, and which CronJobs to resume", () => {
    expect(problems).toEqual([
      "the app is scaled to zero (a restore stopped half-way leaves it so)",
      expect.stringMatching(
        /^the newest restore point app-\d+\.db is \S+ old, over the RPO of 2m$/,
      ),
      expect.stringContaining("cronjob/sqlite-backup is suspended: resume it"),
      expect.stringContaining("cronjob/sqlite-restore-test is suspended: resume it"),
    ]);
    expect(text).toContain("NEEDS ATTENTION");
    expect(text).toContain("cronjob/sqlite-backup (SUSPENDED)");
  });
});

describe("firing alerts from a real Alertmanager", () => {
  let alertmanager: ChildProcess;
  let url: string;
  beforeAll(async () => {
    const port = await freePort();
    const amDir = join(dir.path, "alertmanager");
    mkdirSync(amDir);
    writeFileSync(join(amDir, "am.yml"), "route:\n  receiver: none\nreceivers:\n  - name: none\n");
    alertmanager = spawn(
      debianTool("prometheus-alertmanager"),
      [
        `--config.file=${join(amDir, "am.yml")}`,
        `--storage.path=${amDir}`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--cluster.listen-address=",
      ],
      { stdio: "ignore" },
    );
    url = `http://127.0.0.1:${port}/`;
    for (let i = 0; i < 100; i++) {
      const up = await fetch(`${url}-/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (up) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const alert = (alertname: string, namespace: string) => ({
      labels: { alertname, namespace, severity: "page" },
      annotations: {},
    });
    const posted = await fetch(`${url}api/v2/alerts`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify([alert("PraAppUnavailable", NS), alert("SomeoneElses", "other")]),
    });
    if (!posted.ok) throw new Error(`posting the alert: ${posted.status}`);
  }, 30_000);
  afterAll(() => {
    alertmanager.kill();
  });

  test("lists this namespace's firing alert and counts it as a problem", async () => {
    const alerts = await readAlerts(url, NS);
    const since: unknown = expect.any(String);
    expect(alerts).toEqual({
      checked: true,
      firing: [{ name: "PraAppUnavailable", severity: "page", since }],
    });
    const s = await stackStatus(lab, k, { nowSeconds: Math.floor(cluster.now() / 1000), alerts });
    expect(s.problems).toContain("alert firing: PraAppUnavailable");
  });

  test("an unreachable Alertmanager is said, not fatal", async () => {
    const alerts = await readAlerts("http://127.0.0.1:9/", NS);
    const error: unknown = expect.stringContaining("unreachable");
    expect(alerts).toEqual({ checked: true, error });
  });
});

test("npm run status, run as a user runs it, reads the cluster through kubectl", async () => {
  const result = await runStatusScript(endpoint, "lab", CONTEXT);
  // The describe block above left the app at zero: something needs attention, exit 1.
  expect(result.stderr).toBe("");
  expect(result.code).toBe(1);
  const report: unknown = JSON.parse(result.stdout);
  expect(report).toMatchObject({
    stack: "lab",
    namespace: NS,
    ok: false,
    app: { found: true, desired: 0, ready: 0 },
    suspended: ["sqlite-backup", "sqlite-restore-test"],
    alerts: { checked: false },
  });
});

test("a cluster kubectl cannot read: the reason, exit 1, no stack trace", async () => {
  const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    execFile(
      process.execPath,
      ["--require", "tsx/cjs", "scripts/status.ts", "--stack", "lab", "--context", "nope"],
      { cwd: REPO_ROOT, env: endpoint.env() },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    ),
  );
  expect(result.code).toBe(1);
  expect(result.stderr).toContain('context "nope" does not exist');
  expect(result.stderr).not.toMatch(/^\s+at /m);
});

test("the target's exports are judged by their cadence, not by the RPO that RDS holds", () => {
  const prod = loadStack("prod", REPO_ROOT);
  const limit = freshnessLimit(prod);
  expect(limit.basis).toBe("export cadence");
  // Hourly exports sized from the database: a point 20 minutes old is normal, not an incident.
  expect(limit.seconds).toBe(prod.backup.overdueAfterSeconds);
  expect(limit.seconds).toBeGreaterThan(prod.objectives.rpoSeconds);
  expect(freshnessLimit(lab)).toEqual({ seconds: lab.objectives.rpoSeconds, basis: "RPO" });
});
