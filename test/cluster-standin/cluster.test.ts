/**
 * The cluster stand-in's own semantics, the ones the runbook replays rely on: if one of these
 * broke, a replay could pass where a cluster would hang. The lab's synthesized objects, the real
 * app.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { synthStack } from "../../charts/stacks";
import { loadStack } from "../../config";
import { REPO_ROOT, tempDir, type TempDir } from "../support/pra-app";
import { Cluster } from "./cluster";
import { applyKustomization, kubectl } from "./kubectl";

let dir: TempDir;
let cluster: Cluster;
const k = (...args: string[]) =>
  kubectl(cluster, ["-n", "pra", ...args], undefined, { cwd: dir.path, context: "standin" });

beforeAll(async () => {
  dir = tempDir("pra-standin-");
  synthStack(loadStack("lab", REPO_ROOT), dir.join("dist"));
  cluster = new Cluster(dir.join("cluster"));
  await applyKustomization(cluster, "dist", { cwd: dir.path, context: "standin" });
  await cluster.firstPodReady();
}, 60_000);

afterAll(async () => {
  await cluster.shutdown();
  dir.remove();
});

test("a namespaced object cannot be applied before its namespace", async () => {
  const empty = new Cluster(dir.join("empty"));
  const result = await kubectl(empty, ["apply", "-f", "dist/0001-lab.k8s.yaml"], undefined, {
    cwd: dir.path,
    context: "standin",
  });
  const missingNamespace: unknown = expect.stringContaining('namespaces "pra" not found');
  expect(result).toMatchObject({
    code: 1,
    stderr: missingNamespace,
  });
});

test("suspend stops a CronJob's runs; resumed, it runs on its schedule", async () => {
  const jobs = () => [...cluster.jobs.keys()].filter((id) => id.startsWith("pra/sqlite-backup-"));
  expect(
    (await k("patch", "cronjob/sqlite-backup", "--type=merge", "-p", '{"spec":{"suspend":true}}'))
      .code,
  ).toBe(0);
  const before = jobs().length;
  await cluster.advance(180);
  expect(jobs()).toHaveLength(before);
  await k("patch", "cronjob/sqlite-backup", "--type=merge", "-p", '{"spec":{"suspend":false}}');
  await cluster.advance(61);
  // A run missed while suspended still starts if it is within startingDeadlineSeconds.
  expect(jobs().length).toBeGreaterThan(before);
});

test("a deleted claim stays Terminating while a pod mounts it; new pods that mount it wait", async () => {
  const volume = cluster.volumeOf("pra", "pra-data");
  expect((await k("delete", "pvc", "pra-data", "--wait=false")).code).toBe(0);
  const state = await k("get", "pvc", "pra-data", "-o", "jsonpath={.metadata.deletionTimestamp}");
  expect(state.stdout).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  await cluster.advance(61);
  // The next backup's pod waited on the claim (until the Job's active deadline failed it).
  expect(cluster.events.join("\n")).toMatch(
    /pod pra\/sqlite-backup-\S+ Pending: persistentvolumeclaim "pra-data" is being deleted/,
  );
  expect(existsSync(join(volume, "app.db"))).toBe(true);

  // The app gone (SIGTERM, then gone when it exits), the claim goes with its volume.
  await k("scale", "deployment/pra-app", "--replicas=0");
  const gone = await k("wait", "--for=delete", "pvc/pra-data", "--timeout=600s");
  expect(gone.code).toBe(0);
  expect(existsSync(volume)).toBe(false);
});

test("a Job whose claim is missing stays Pending, and the wait times out instead of hanging", async () => {
  expect(
    (await k("create", "job", "restore-check", "--from=cronjob/sqlite-restore-test")).code,
  ).toBe(0);
  const started = Date.now();
  const wait = await k("wait", "--for=condition=complete", "job/restore-check", "--timeout=600s");
  expect(wait).toMatchObject({
    code: 1,
    stderr: "error: timed out waiting for the condition on jobs/restore-check\n",
  });
  // Ten minutes of cluster time, in far less real time.
  expect(Date.now() - started).toBeLessThan(10_000);
  expect(cluster.timeouts).toEqual([
    "-n pra wait --for=condition=complete job/restore-check --timeout=600s",
  ]);
  // Its pod waited on the missing claim until the Job's active deadline failed it.
  expect(cluster.events.join("\n")).toMatch(
    /pod pra\/restore-check-\w+ Pending: persistentvolumeclaim "pra-data" not found/,
  );
  expect(cluster.jobs.get("pra/restore-check")).toMatchObject({
    condition: "Failed",
    reason: "DeadlineExceeded",
  });
});

test("a Job's pod template cannot be changed in place, and a missing object is NotFound", async () => {
  const job = (args: string) =>
    [
      "apiVersion: batch/v1",
      "kind: Job",
      "metadata: {name: once, namespace: pra}",
      "spec:",
      "  template:",
      "    spec:",
      "      restartPolicy: Never",
      `      containers: [{name: c, image: pra-app, command: [pra-app], args: [${args}]}]`,
    ].join("\n");
  const apply = (yaml: string) =>
    kubectl(cluster, ["-n", "pra", "apply", "-f", "-"], yaml, {
      cwd: dir.path,
      context: "standin",
    });
  expect((await apply(job("backups"))).code).toBe(0);
  expect((await apply(job("verify"))).stderr).toContain("field is immutable");
  expect((await k("scale", "deployment/nothing", "--replicas=1")).stderr).toContain(
    'Error from server (NotFound): deployment "nothing" not found',
  );
});
