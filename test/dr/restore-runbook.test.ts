/**
 * `npm run restore` against a recording kubectl stand-in (never a cluster). Every run is started
 * at once in beforeAll: they are independent. Failures are made at one command of each of the
 * runbook's seven stages (scale down, suspend, start the Job, wait, verify, scale up, resume):
 * they all go through the same stop-and-report path, so a process per command would only add time.
 *
 * Most runs call the command's own function (runRestore) in this process, with the stand-in's
 * PATH and buffers for its output: a tsx-compiled process costs about a second of start-up each.
 * kubectl is still a process of its own. Three runs go through the npm script's own process, as a
 * person runs it: confirmed on stdin (exit 0), not confirmed (exit 2), a failed step (exit 1).
 */
import { execFile } from "node:child_process";
import { EventEmitter } from "node:events";
import { join } from "node:path";
import { Readable } from "node:stream";
import { parseAllDocuments } from "yaml";
import { loadStack } from "../../config";
import { shellLine } from "../../dr/lab-restore-runbook";
import { runRestore } from "../../scripts/restore-runbook";
import { type FakeKubectl, installFakeKubectl, type KubectlCall } from "./fake-kubectl";

const ROOT = join(__dirname, "..", "..");
const POINT = "app-1700000000.db";
const WATCH = "--for=condition=failed";
/** Every wait is bounded by the stack's RTO. */
const TIMEOUT = `--timeout=${loadStack("lab", ROOT).objectives.rtoSeconds}s`;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** kubectl calls in order, without the failure watch (it starts alongside the Job's wait). */
  readonly calls: string[][];
  readonly watches: string[][];
  readonly stdins: (string | undefined)[];
}

const suspend = (value: boolean) => ["--type=merge", "-p", `{"spec":{"suspend":${value}}}`];
/** The whole successful sequence, spelled out rather than derived, so a change to it shows here. */
const CLAIM_STATE = "jsonpath={.metadata.name},{.metadata.deletionTimestamp}";
const SUCCESS = [
  ["get", "pvc", "pra-data", "--ignore-not-found", "-o", CLAIM_STATE],
  ["scale", "deployment/pra-app", "--replicas=0"],
  ["wait", "--for=delete", "pod", "-l", "app.kubernetes.io/name=pra-app", TIMEOUT],
  ["patch", "cronjob/sqlite-backup", ...suspend(true)],
  ["patch", "cronjob/sqlite-restore-test", ...suspend(true)],
  ["wait", "--for=delete", "pvc/pra-data", TIMEOUT],
  ["apply", "-f", "-"],
  ["delete", "job/sqlite-restore", "--ignore-not-found", "--cascade=foreground", TIMEOUT],
  ["apply", "-f", "-"],
  ["wait", "--for=condition=complete", "job/sqlite-restore", TIMEOUT],
  ["logs", "job/sqlite-restore"],
  ["scale", "deployment/pra-app", "--replicas=1"],
  ["rollout", "status", "deployment/pra-app", TIMEOUT],
  ["patch", "cronjob/sqlite-backup", ...suspend(false)],
  ["patch", "cronjob/sqlite-restore-test", ...suspend(false)],
].map((args) => ["-n", "pra", ...args]);
const SCALE_UP = SUCCESS.findIndex((args) => args.includes("--replicas=1"));
/** The restore Job's apply (the claim's comes first). */
const APPLY_RESTORE = SUCCESS.findIndex((args, i) => args.includes("apply") && i > 6);

let fake: FakeKubectl;
const runs = new Map<string, Run>();

/** The runs that go through the npm script's own process: its exit codes as a person sees them. */
const AS_NPM_RUNS_IT = new Set(["confirmed", "not-confirmed", "apply"]);

/** `npm run restore -- <args>`: its exit code and output. */
function restore(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  stdin: string | undefined,
  asNpmRunsIt: boolean,
): Promise<Pick<Run, "code" | "stdout" | "stderr">> {
  if (asNpmRunsIt)
    return new Promise((resolve) => {
      const child = execFile(
        process.execPath,
        ["--require", "tsx/cjs", "scripts/restore-runbook.ts", ...args],
        { cwd: ROOT, env },
        (error, stdout, stderr) =>
          resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
      );
      child.stdin?.end(stdin);
    });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  const into = (chunks: Buffer[]) => ({
    write: (chunk: string | Uint8Array) => chunks.push(Buffer.from(chunk)),
  });
  return runRestore(args, {
    stdin: Readable.from(stdin === undefined ? [] : [stdin]),
    stdout: into(stdout),
    stderr: into(stderr),
    env,
    cwd: ROOT,
    interrupts: new EventEmitter(),
  }).then((code) => ({
    code,
    stdout: Buffer.concat(stdout).toString("utf8"),
    stderr: Buffer.concat(stderr).toString("utf8"),
  }));
}

async function run(
  name: string,
  args: string[],
  settings?: Parameters<FakeKubectl["env"]>[1],
  /** Typed at the confirmation prompt; without it the run passes --yes. */
  answer?: string,
): Promise<void> {
  const env = fake.env(name, settings);
  const result = await restore(
    [...args, ...(answer === undefined ? ["--yes"] : [])],
    env,
    answer,
    AS_NPM_RUNS_IT.has(name),
  );
  // The context is read first when --context is not given; it changes nothing.
  const all: KubectlCall[] = fake.calls(name).filter((call) => call.argv[0] !== "config");
  const isWatch = (call: KubectlCall) => call.argv.includes(WATCH);
  runs.set(name, {
    ...result,
    calls: all.filter((call) => !isWatch(call)).map((call) => call.argv),
    watches: all.filter(isWatch).map((call) => call.argv),
    stdins: all.filter((call) => !isWatch(call)).map((call) => call.stdin),
  });
}

/** Runs failing at one command: the index in SUCCESS where it stops, and how it is made to fail. */
const FAILURES: {
  name: string;
  stop: number;
  settings: Parameters<FakeKubectl["env"]>[1];
  args?: string[];
}[] = [
  { name: "pods-stay", stop: 2, settings: { fail: "--for=delete" } },
  { name: "suspend-restore-test", stop: 4, settings: { fail: SUCCESS[4]!.join(" ") } },
  { name: "apply", stop: 6, settings: { fail: "apply -f -" } },
  { name: "job-failed", stop: 9, settings: { hang: "--for=condition=complete" } },
  {
    name: "wrong-point",
    stop: 10,
    settings: { restored: "app-1699999999.db" },
    args: ["--scenario", "data-volume-loss", "--point", POINT],
  },
  { name: "not-ready", stop: 12, settings: { fail: "rollout status" } },
  { name: "resume-backup", stop: 13, settings: { fail: SUCCESS[13]!.join(" ") } },
];

beforeAll(async () => {
  fake = installFakeKubectl();
  await Promise.all([
    run("default", ["--stack", "lab"]),
    run("point", [
      "--stack",
      "lab",
      "--scenario",
      "data-volume-loss",
      "--point",
      POINT,
      "--context",
      "kind-lab",
    ]),
    run("dry-run", [
      "--stack",
      "lab",
      "--scenario",
      "data-volume-loss",
      "--point",
      POINT,
      "--dry-run",
    ]),
    run("not-confirmed", ["--stack", "lab"], undefined, "no\n"),
    run("confirmed", ["--stack", "lab"], undefined, "yes\n"),
    run("bad-point", ["--stack", "lab", "--point", "../x.db"]),
    run("no-stack", ["--point", POINT]),
    run("target", ["--stack", "prod"]),
    run("point-and-before", ["--stack", "lab", "--point", POINT, "--before", "1700000000"]),
    run("error-without-point", ["--stack", "lab", "--scenario", "operator-error"]),
    run("bad-before", ["--stack", "lab", "--before", "yesterday"]),
    ...FAILURES.map(({ name, settings, args = [] }) =>
      run(name, ["--stack", "lab", ...args], settings),
    ),
  ]);
});
afterAll(() => fake.remove());

const get = (name: string) => runs.get(name)!;

describe("a successful restore", () => {
  test("runs every step in order, exits 0", () => {
    const result = get("default");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.calls).toEqual(SUCCESS);
    expect(result.stdout).toContain(`restored ${POINT}`);
  });

  test("watches the restore Job for failure while waiting for it to complete", () => {
    // Stopped once the Job completes: it may be killed before the stand-in records it.
    expect(get("default").watches.length).toBeLessThanOrEqual(1);
    expect(get("job-failed").watches).toEqual([
      ["-n", "pra", "wait", WATCH, "job/sqlite-restore", TIMEOUT],
    ]);
  });

  test("applies the newest-point Job by default, and the chosen point's Job with --point", () => {
    const job = (name: string): unknown => {
      const stdin = get(name).stdins[APPLY_RESTORE]!;
      const object: unknown = parseAllDocuments(stdin)[0]?.toJS();
      return object;
    };
    const containerArgs = (name: string): unknown => {
      let value = job(name);
      for (const key of ["spec", "template", "spec", "containers", "0", "args"]) {
        const next: unknown =
          value !== null && typeof value === "object" ? Reflect.get(value, key) : undefined;
        value = next;
      }
      return value;
    };
    expect(job("default")).toMatchObject({
      kind: "Job",
      metadata: { name: "sqlite-restore", namespace: "pra" },
    });
    expect(containerArgs("default")).toEqual(["restore"]);
    expect(containerArgs("point")).toEqual(["restore", "--point", POINT]);
  });

  test("--context goes to every kubectl call", () => {
    const result = get("point");
    expect(result.code).toBe(0);
    expect(result.calls).toEqual(SUCCESS.map((args) => ["--context", "kind-lab", ...args]));
    for (const watch of result.watches)
      expect(watch.slice(0, 2)).toEqual(["--context", "kind-lab"]);
  });
});

describe("a failed step", () => {
  test.each(FAILURES.map(({ name, stop }) => [name, stop + 1, stop] as const))(
    "%s (command %i): stops there, exits 1, says what to do next, never scales the app up after a failure",
    (name, _number, stop) => {
      const result = get(name);
      expect(result.code).toBe(1);
      expect(result.calls).toEqual(SUCCESS.slice(0, stop + 1));
      if (stop < SCALE_UP) expect(result.calls.flat()).not.toContain("--replicas=1");
      expect(result.stderr).toContain(`RESTORE STOPPED at [${stop + 1}/${SUCCESS.length}]`);
      if (stop >= 2 && stop <= SCALE_UP) {
        expect(result.stderr).toContain(
          "The app is DOWN: deployment/pra-app in namespace pra is scaled to zero",
        );
      }
      // What is left to do by hand, with the stack's real names, then the whole runbook again.
      expect(result.stderr).toContain(
        "kubectl -n pra patch cronjob/sqlite-restore-test --type=merge",
      );
      expect(result.stderr).toMatch(
        /npm run restore -- --stack lab( --scenario data-volume-loss --point app-1700000000\.db)?\n/,
      );
    },
  );

  test("a failing kubectl call is reported with its own error", () => {
    expect(get("apply").stderr).toContain(
      "why: exited with code 1: error: fake kubectl told to fail",
    );
    // The manifest cannot be pasted: the message says how to write and apply it by hand.
    expect(get("apply").stderr).toContain(
      "kubectl -n pra apply -f dist/lab/ops/lab-restore.k8s.yaml",
    );
  });

  test("the restore Job failing is caught by its watch, not waited out", () => {
    const result = get("job-failed");
    expect(result.stderr).toContain("why: the restore Job failed (condition Failed)");
    expect(result.stderr).toContain("kubectl -n pra logs job/sqlite-restore");
    expect(result.stderr).toContain("kubectl -n pra describe job/sqlite-restore");
  });

  test("a log naming another point than the chosen one stops before the app starts", () => {
    expect(get("wrong-point").stderr).toContain(
      `app-1699999999.db was restored, not the chosen ${POINT}`,
    );
  });

  test("after the app is up, a failure says it serves, and how to take it down", () => {
    expect(get("not-ready").stderr).toContain("STARTING BUT NOT READY");
    expect(get("not-ready").stderr).toContain(
      "kubectl -n pra scale deployment/pra-app --replicas=0",
    );
    expect(get("resume-backup").stderr).toContain("backups are still suspended");
  });
});

test("--dry-run prints the plan and calls nothing", () => {
  const result = get("dry-run");
  expect(result.code).toBe(0);
  expect(result.calls).toEqual([]);
  expect(result.watches).toEqual([]);
  expect(result.stdout).toContain("DRY RUN: nothing is run");
  for (const args of SUCCESS)
    expect(result.stdout).toContain(`$ ${shellLine(["kubectl", ...args])}`);
  expect(result.stdout).toContain(
    `stdin: Job pra/sqlite-restore: pra-app:0.1.0 pra-app restore --point ${POINT}`,
  );
});

test.each([
  ["bad-point", 'restore point "../x.db" refused'],
  ["no-stack", "--stack is required"],
  ["target", "stack prod has the target topology"],
  ["point-and-before", "--point and --before are alternatives: give one"],
  ["error-without-point", "operator-error needs --point or --before"],
  ["bad-before", '--before "yesterday": expected unix seconds or an ISO 8601 time with its zone'],
])("bad usage (%s): exits 2 before any kubectl call", (name, message) => {
  const result = get(name);
  expect(result.code).toBe(2);
  expect(result.stderr).toContain(message);
  expect(result.stderr).toContain("usage: npm run restore");
  expect(result.calls).toEqual([]);
});

test("without --yes it names the kube context and runs nothing unless told yes", () => {
  const refused = get("not-confirmed");
  expect(refused.code).toBe(2);
  expect(refused.stdout).toContain('will act on kube context "", namespace pra');
  expect(refused.stderr).toContain("Not confirmed: nothing was run.");
  expect(refused.calls).toEqual([]);
  expect(get("confirmed").code).toBe(0);
  expect(get("confirmed").calls).toEqual(SUCCESS);
});

test("without kubectl on the PATH: the run stops at once, naming the missing program (exit 1)", async () => {
  const env = { ...process.env, PATH: join(ROOT, "no-such-dir") };
  const result = await restore(["--stack", "lab", "--yes"], env, undefined, false);
  expect(result.code).toBe(1);
  expect(result.stderr).toContain("cannot read kubectl's current context");
  expect(result.stderr).toContain("(is kubectl on the PATH?)");
  const named = await restore(["--stack", "lab", "--yes", "--context", "kind-pra"], env, "", false);
  expect(named.code).toBe(1);
  expect(named.stderr).toMatch(/why: spawn kubectl ENOENT \(is kubectl on the PATH\?\)/);
});
