/**
 * Every lab runbook replayed against its scenario, on a cluster stand-in with Kubernetes'
 * semantics (test/cluster-standin/): the synthesized lab is applied, the app serves real data and
 * the backup CronJob writes real restore points; the scenario's damage (config/scenarios.ts) is
 * made; the runbook runs as a person runs it (`npm run restore`, or its by-hand lines in a shell);
 * then the data is read. A replay fails when a step would hang (a wait runs out), names an object
 * that does not exist at that moment, or ends with data that is not the expected point's.
 *
 * The target's runbooks are AWS commands; their kubectl lines are replayed on the DR cluster.
 */
import { execFile } from "node:child_process";
import { EventEmitter } from "node:events";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { parse as parseYaml } from "yaml";
import { synthStack } from "../../charts/stacks";
import { type LabConfig, loadStack, type TargetConfig } from "../../config";
import { type LabDamage, SCENARIO_DAMAGE } from "../../config/scenarios";
import type { LabRunbook } from "../../dr/lab-restore-runbook";
import { failOverCluster, labRestoreCommands, POINT_PLACEHOLDER } from "../../dr/recovery-commands";
import { runRestore } from "../../scripts/restore-runbook";
import { Cluster } from "../cluster-standin/cluster";
import {
  applyKustomization,
  kubectl,
  serveKubectl,
  type StandinEndpoint,
} from "../cluster-standin/kubectl";
import { copyProject, type ProjectCopy } from "../support/project-copy";
import { eventIds, REPO_ROOT, tempDir, type TempDir } from "../support/pra-app";

const CONTEXT = "standin";
const NS = "pra";
const lab = loadStack("lab", REPO_ROOT);
if (lab.topology !== "lab") throw new Error("Pulumi.lab.yaml is not a lab stack");
const labConfig: LabConfig = lab;

interface Stack {
  readonly cluster: Cluster;
  readonly endpoint: StandinEndpoint;
  readonly dir: TempDir;
  /** Restore points in the order they were taken, with the event ids each holds. */
  readonly points: { file: string; ids: number[] }[];
  /** When the operator error happened (unix seconds), for --before. */
  errorAt?: number;
  /** Event ids of the live database just before the damage. */
  liveBefore: number[];
}

interface Replay {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly stack: Stack;
}

let dist: TempDir;
const replays = new Map<string, Replay>();
const stacks: Stack[] = [];

const k = (stack: Stack, ...args: string[]) =>
  kubectl(stack.cluster, ["-n", NS, ...args], undefined, { cwd: dist.path, context: CONTEXT });

const dataDb = (stack: Stack) => join(stack.cluster.volumeOf(NS, "pra-data"), "app.db");
const backupDir = (stack: Stack) => stack.cluster.volumeOf(NS, "pra-backup");
const pointFiles = (stack: Stack) =>
  readdirSync(backupDir(stack))
    .filter((name) => /^app-\d+\.db$/.test(name))
    .sort();

async function write(stack: Stack, count: number): Promise<void> {
  const url = stack.cluster.serviceUrl(NS, "pra-app");
  for (let i = 0; i < count; i++) {
    const response = await fetch(`${url}/events`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: `replay-${i}` }),
    });
    if (response.status !== 201) throw new Error(`POST /events answered ${response.status}`);
  }
}

/** Advances the clock until the backup CronJob has written one more restore point. */
async function nextPoint(stack: Stack): Promise<void> {
  const before = pointFiles(stack).length;
  await stack.cluster.advance(61);
  const files = pointFiles(stack);
  const file = files.at(-1);
  if (files.length <= before || file === undefined)
    throw new Error(`no new restore point:\n${stack.cluster.events.join("\n")}`);
  stack.points.push({ file, ids: eventIds(join(backupDir(stack), file)) });
}

/**
 * The lab running with data and restore points: rows 1-3, point A, rows 4-5, point B, row 6
 * (newer than every point).
 */
async function runningStack(cwd: string): Promise<Stack> {
  const dir = tempDir("pra-replay-");
  const cluster = new Cluster(dir.path);
  const endpoint = await serveKubectl(cluster, { cwd, context: CONTEXT });
  const stack: Stack = { cluster, endpoint, dir, points: [], liveBefore: [] };
  stacks.push(stack);
  await applyKustomization(cluster, join(dist.path, "lab"), { cwd, context: CONTEXT });
  await cluster.firstPodReady();
  await write(stack, 3);
  await nextPoint(stack);
  await write(stack, 2);
  await nextPoint(stack);
  await write(stack, 1);
  return stack;
}

/** Makes `damage` happen, as config/scenarios.ts states it. */
async function damage(stack: Stack, what: LabDamage): Promise<void> {
  stack.liveBefore = eventIds(dataDb(stack));
  if ("claimDeleted" in what) {
    const claim = what.claimDeleted === "data" ? "pra-data" : "pra-backup";
    // `kubectl delete` would wait for the claim to go, which it cannot while the app mounts it.
    const deleted = await k(stack, "delete", "pvc", claim, "--wait=false");
    if (deleted.code !== 0) throw new Error(deleted.stderr);
    // Time passes before anyone acts: the CronJobs keep firing, their pods wait on the claim.
    await stack.cluster.advance(150);
    return;
  }
  if ("rowsChanged" in what) {
    // A bad migration, one second after point B: it deletes the first two events.
    await stack.cluster.advance(1);
    stack.errorAt = Math.floor(stack.cluster.now() / 1000);
    const { default: Database } = await import("better-sqlite3");
    const db = new Database(dataDb(stack));
    db.prepare("DELETE FROM events WHERE id <= 2").run();
    db.close();
    // Backups taken after the error hold it: the newest points are damaged.
    await nextPoint(stack);
    await nextPoint(stack);
    return;
  }
  throw new Error(`the lab has no runbook for ${JSON.stringify(what)}`);
}

function run(command: string, args: readonly string[], stack: Stack, cwd: string) {
  return new Promise<Replay>((resolve) => {
    execFile(
      command,
      args,
      { cwd, env: stack.endpoint.env(), timeout: 120_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr, stack });
      },
    );
  });
}

/**
 * `npm run restore -- <args>`: the command's own function in this process (a tsx-compiled process
 * would add a second of start-up; test/dr/restore-runbook.test.ts runs the npm script's), with
 * the stand-in's kubectl first on its PATH.
 */
async function restore(stack: Stack, args: readonly string[]): Promise<Replay> {
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  const into = (chunks: Buffer[]) => ({
    write: (chunk: string | Uint8Array) => chunks.push(Buffer.from(chunk)),
  });
  const code = await runRestore(["--stack", "lab", "--yes", ...args], {
    stdin: Readable.from([]),
    stdout: into(stdout),
    stderr: into(stderr),
    env: stack.endpoint.env(),
    cwd: REPO_ROOT,
    interrupts: new EventEmitter(),
  });
  return {
    code,
    stdout: Buffer.concat(stdout).toString("utf8"),
    stderr: Buffer.concat(stderr).toString("utf8"),
    stack,
  };
}

/** The report's by-hand lines for `scenario`, run in order by a shell, the point filled in. */
function byHand(stack: Stack, scenario: LabRunbook, point: string, project: ProjectCopy) {
  // The placeholder stands in the point's name and in its Job's file name.
  const stem = (name: string) => name.replace(/\.db$/, "");
  const lines = labRestoreCommands(labConfig, "pra-app", scenario).map((line) =>
    line.replaceAll(stem(POINT_PLACEHOLDER), stem(point)),
  );
  return run("sh", ["-e", "-c", lines.join("\n")], stack, project.dir);
}

let project: ProjectCopy;

beforeAll(async () => {
  dist = tempDir("pra-replay-dist-");
  synthStack(labConfig, join(dist.path, "lab"));
  project = copyProject();
  const labFile: unknown = parseYaml(readFileSync(join(REPO_ROOT, "Pulumi.lab.yaml"), "utf8"));
  const config =
    typeof labFile === "object" && labFile !== null && "config" in labFile ? labFile.config : {};
  project.writeStack("lab", typeof config === "object" && config !== null ? { ...config } : {});

  const scenario = async (
    name: string,
    id: "data-volume-loss" | "backup-volume-loss" | "operator-error",
    go: (stack: Stack) => Promise<Replay>,
    cwd = REPO_ROOT,
  ) => {
    const stack = await runningStack(cwd);
    await damage(stack, SCENARIO_DAMAGE[id].labDamage);
    replays.set(name, await go(stack));
  };
  await Promise.all([
    scenario("data-volume-loss", "data-volume-loss", (stack) => restore(stack, [])),
    scenario("backup-volume-loss", "backup-volume-loss", (stack) =>
      restore(stack, ["--scenario", "backup-volume-loss"]),
    ),
    scenario("operator-error --point", "operator-error", (stack) =>
      restore(stack, ["--point", stack.points[1]?.file ?? "none"]),
    ),
    scenario("operator-error --before", "operator-error", (stack) =>
      restore(stack, ["--before", String(stack.errorAt)]),
    ),
    (async () => {
      // No damage: the data-volume-loss runbook run by mistake on an intact claim.
      const stack = await runningStack(REPO_ROOT);
      stack.liveBefore = eventIds(dataDb(stack));
      replays.set("intact claim", await restore(stack, []));
    })(),
    scenario(
      "data-volume-loss by hand",
      "data-volume-loss",
      (stack) => byHand(stack, "data-volume-loss", "", project),
      project.dir,
    ),
    scenario(
      "operator-error by hand",
      "operator-error",
      (stack) => byHand(stack, "operator-error", stack.points[1]?.file ?? "none", project),
      project.dir,
    ),
  ]);
}, 180_000);

afterAll(async () => {
  for (const stack of stacks) {
    await stack.cluster.shutdown();
    await stack.endpoint.close();
    stack.dir.remove();
  }
  project.remove();
  dist.remove();
});

/** Everything a failed replay needs to be understood. */
function story(replay: Replay): string {
  return [
    `exit ${replay.code}`,
    `timeouts: ${JSON.stringify(replay.stack.cluster.timeouts)}`,
    "--- stdout",
    replay.stdout,
    "--- stderr",
    replay.stderr,
    "--- cluster",
    ...replay.stack.cluster.events,
  ].join("\n");
}

function expectDone(name: string): Replay {
  const replay = replays.get(name);
  if (!replay) throw new Error(`no replay ${name}`);
  // The replay's whole story is the message when it failed.
  if (replay.code !== 0 || replay.stack.cluster.timeouts.length > 0)
    throw new Error(`replay ${name} failed:\n${story(replay)}`);
  return replay;
}

test.each([["data-volume-loss"], ["operator-error --point"], ["operator-error --before"]])(
  "%s: the runbook ends with the app serving point B's data",
  async (name) => {
    const replay = expectDone(name);
    const pointB = replay.stack.points[1];
    expect(pointB?.ids).toEqual([1, 2, 3, 4, 5]);
    expect(eventIds(dataDb(replay.stack))).toEqual(pointB?.ids);
    // The app's pod serves it: the count a user reads is point B's.
    const response = await fetch(`${replay.stack.cluster.serviceUrl(NS, "pra-app")}/count`);
    const body: unknown = await response.json();
    expect(body).toEqual({ count: 5 });
    expect(replay.stdout).toContain(`will act on kube context "${CONTEXT}", namespace ${NS}`);
  },
);

test("data-volume-loss: the claim is recreated from the synthesized manifest, the app not re-scaled by it", () => {
  const replay = expectDone("data-volume-loss");
  expect(replay.stack.liveBefore).toEqual([1, 2, 3, 4, 5, 6]);
  const applies = replay.stack.endpoint.calls.filter((argv) => argv.includes("apply"));
  expect(applies).toEqual([
    ["-n", NS, "apply", "-f", "-"],
    ["-n", NS, "apply", "-f", "-"],
  ]);
  expect(replay.stack.cluster.events.join("\n")).toMatch(/claim pra\/pra-data created/);
});

test("operator error, by hand: the chosen point's Job is applied, not synth's newest-point Job", () => {
  const replay = expectDone("operator-error by hand");
  expect(eventIds(dataDb(replay.stack))).toEqual([1, 2, 3, 4, 5]);
  expect(replay.stdout).toContain(
    `restore-jobs/lab/restore-${replay.stack.points[1]?.file.replace(".db", "")}`,
  );
});

test("Exercise 2 by hand (the README's lines): the claim is recreated, the newest point restored", () => {
  const replay = expectDone("data-volume-loss by hand");
  expect(eventIds(dataDb(replay.stack))).toEqual(replay.stack.points[1]?.ids);
  expect(replay.stack.cluster.serviceUrl(NS, "pra-app")).toMatch(/^http/);
});

test("the README's by-hand restore is exactly the generated runbook", () => {
  const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
  const block =
    /<!-- generated: the lab's data-volume-loss runbook[^\n]*\n+```sh\n([\s\S]*?)\n```\n+<!-- end generated -->/.exec(
      readme,
    )?.[1];
  expect(block).toBe(labRestoreCommands(labConfig, "pra-app", "data-volume-loss").join("\n"));
});

test("the volume-loss runbook on an intact claim stops at its first step and changes nothing", () => {
  const replay = replays.get("intact claim");
  if (!replay) throw new Error("no replay");
  expect(replay.code).toBe(1);
  expect(replay.stderr).toContain(
    "why: claim pra-data is intact: to restore onto it, run with --scenario operator-error",
  );
  expect(replay.stderr).toContain("The app is UNCHANGED: nothing was changed.");
  expect(replay.stack.endpoint.calls.filter((argv) => argv[0] !== "config")).toHaveLength(1);
  expect(eventIds(dataDb(replay.stack))).toEqual(replay.stack.liveBefore);
  expect(replay.stack.cluster.serviceUrl(NS, "pra-app")).toMatch(/^http/);
});

test("backup-volume-loss: the app keeps its data and a new restore point is written", () => {
  const replay = expectDone("backup-volume-loss");
  expect(eventIds(dataDb(replay.stack))).toEqual([1, 2, 3, 4, 5, 6]);
  // The claim is new: none of the lost points, and the runbook's own backup holds the live data.
  const points = pointFiles(replay.stack);
  for (const lost of replay.stack.points) expect(points).not.toContain(lost.file);
  const written = /restore point (app-\d+\.db) written/.exec(replay.stdout)?.[1];
  expect(points).toContain(written);
  expect(eventIds(join(backupDir(replay.stack), written ?? ""))).toEqual([1, 2, 3, 4, 5, 6]);
});

test("the target's kubectl lines apply on a DR cluster: every file and namespace they name exists", async () => {
  const targetDist = tempDir("pra-replay-target-");
  try {
    for (const stack of ["prod", "staging"]) {
      const config = loadStack(stack, REPO_ROOT);
      if (config.topology !== "target") throw new Error(`${stack} is not a target stack`);
      const target: TargetConfig = config;
      synthStack(target, join(targetDist.path, "dist", stack));
      const cluster = new Cluster(targetDist.join(`${stack}-cluster`));
      const lines = failOverCluster(target, `pra-${stack}-dr`)
        .filter((line) => line.startsWith("kubectl "))
        .map((line) => line.replace(/\s+#.*$/, ""));
      expect(lines).toEqual([`kubectl apply -f dist/${stack}/failover/`]);
      for (const line of lines) {
        const result = await kubectl(cluster, line.split(" ").slice(1), undefined, {
          cwd: targetDist.path,
          context: CONTEXT,
        });
        expect({ line, ...result }).toMatchObject({ code: 0, stderr: "" });
      }
      expect(cluster.deployments.get(`${target.namespace}/pra-app`)).toBeDefined();
    }
  } finally {
    targetDist.remove();
  }
});
