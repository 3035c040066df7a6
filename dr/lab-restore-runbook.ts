/**
 * The lab's volume-loss restore as an ordered list of kubectl calls. Building the list runs
 * nothing: scripts/restore-runbook.ts executes it, and the DR report prints the same steps, so
 * what a person reads is what the command does.
 *
 * Every name comes from the synthesized charts (the same constructs `npm run synth` writes), not
 * from copies of them, so a renamed Deployment or CronJob cannot leave the runbook behind.
 */
import { App } from "cdk8s";
import { restorePointTime } from "../charts/constructs/restore-point";
import { LabChart, LabOpsChart } from "../charts/lab/lab-chart";
import { isWorkload, manifestsFromYaml, podSpecOf } from "../charts/manifest";
import { defineStack, restoreJobYaml } from "../charts/stacks";
import type { LabConfig } from "../config";

export interface RunbookOptions {
  /** A restore point's file name (`app-1700000000.db`). @default the newest valid point */
  readonly point?: string;
  /** A kubeconfig context, passed to every kubectl call. @default kubectl's current context */
  readonly context?: string;
}

/** What a step's stdout says, when the exit code alone is not proof enough. */
export interface CheckResult {
  readonly ok: boolean;
  readonly message: string;
}

export interface RunbookStep {
  /** Stable key for tests and report anchors. */
  readonly id: string;
  readonly description: string;
  /** The command, `kubectl` included. */
  readonly argv: readonly string[];
  readonly stdin?: string;
  /** One line saying what `stdin` holds: the YAML is too long for a plan or a message. */
  readonly stdinSummary?: string;
  /** Shell lines that do the same by hand, when `argv` cannot simply be pasted (it reads stdin). */
  readonly byHand?: readonly string[];
  /**
   * Runs alongside `argv`; its success means this step failed. `kubectl wait` for `complete`
   * never returns on a failed Job, it only times out, which would hide the failure for the whole RTO.
   */
  readonly failsIf?: { readonly argv: readonly string[]; readonly reason: string };
  /**
   * A failure whose stderr matches this is success. Some kubectl versions report "no matching
   * resources found" when a wait for deletion is already met (the app was already at zero).
   */
  readonly succeedsOnStderr?: RegExp;
  readonly check?: (stdout: string) => CheckResult;
  /** Where the app stands when this step fails. */
  readonly appIfFailed: string;
  /** What to inspect or decide when this step fails. */
  readonly onFailure?: string;
}

const JOB_FAILED = "the restore Job failed (condition Failed)";

/** The steps of `npm run restore` for `config`, in order. Throws on a refused point name. */
export function labRestoreSteps(config: LabConfig, options: RunbookOptions = {}): RunbookStep[] {
  if (options.point !== undefined) restorePointTime(options.point);
  const names = labNames(config);
  const ns = config.namespace;
  const kubectl = (...args: string[]) => [
    "kubectl",
    ...(options.context !== undefined ? ["--context", options.context] : []),
    "-n",
    ns,
    ...args,
  ];
  const k = (...args: string[]) => shellLine(kubectl(...args));
  // Each wait alone is bounded by the RTO: past it the objective is missed whatever happens next,
  // and a person should look rather than the script wait on.
  const timeout = `--timeout=${config.objectives.rtoSeconds}s`;
  const deployment = `deployment/${names.app}`;
  const job = `job/${names.restoreJob}`;
  const suspend = (value: boolean) => [
    "--type=merge",
    "-p",
    JSON.stringify({ spec: { suspend: value } }),
  ];
  const manifest = restoreJobYaml(config, options.point);
  const pointText = options.point ?? "the newest valid restore point";
  const down = `DOWN: ${deployment} in namespace ${ns} is scaled to zero; keep it there until the restore is done`;
  const inspectJob = [
    k("describe", job),
    k("logs", job),
    k("get", "pods", "-l", `job-name=${names.restoreJob}`),
  ];
  const restoreByHand =
    options.point === undefined
      ? [
          "npm run synth",
          `kubectl apply -f dist/${config.stack}/ops/${config.stack}-restore.k8s.yaml`,
        ]
      : [
          `npm run restore-job -- --stack ${config.stack} --point ${options.point}`,
          `kubectl apply -f dist/${config.stack}/ops/restore-${options.point.replace(/\.db$/, "")}.k8s.yaml`,
        ];

  return [
    {
      id: "scale-app-down",
      description: `Scale ${deployment} to zero, so nothing writes the database during the restore`,
      argv: kubectl("scale", deployment, "--replicas=0"),
      appIfFailed: `UNCHANGED: ${deployment} may still be serving; nothing was restored`,
      onFailure: `Check that the context and namespace are right:\n  ${k("get", deployment)}`,
    },
    {
      id: "wait-app-gone",
      description: "Wait until the app's pods are gone (they hold the data volume)",
      argv: kubectl("wait", "--for=delete", "pod", "-l", names.appSelector, timeout),
      succeedsOnStderr: /no matching resources found/,
      appIfFailed: `${down}; a pod may still be terminating`,
      onFailure: `A pod that does not terminate holds the data volume:\n  ${k("get", "pods", "-l", names.appSelector)}`,
    },
    {
      id: "suspend-backup",
      description: `Suspend cronjob/${names.backupCronJob}: no new restore point during the restore`,
      argv: kubectl("patch", `cronjob/${names.backupCronJob}`, ...suspend(true)),
      appIfFailed: down,
    },
    {
      id: "suspend-restore-test",
      description: `Suspend cronjob/${names.restoreTestCronJob}, so it does not alert on a restore in progress`,
      argv: kubectl("patch", `cronjob/${names.restoreTestCronJob}`, ...suspend(true)),
      appIfFailed: down,
    },
    {
      id: "delete-previous-restore",
      description: `Delete any previous ${job} (a Job's pod template cannot be changed in place)`,
      argv: kubectl("delete", job, "--ignore-not-found", "--cascade=foreground", timeout),
      appIfFailed: down,
      onFailure: `Inspect the old Job:\n  ${inspectJob[0]}`,
    },
    {
      id: "apply-restore",
      description: `Start ${job} restoring ${pointText}`,
      argv: kubectl("apply", "-f", "-"),
      stdin: manifest,
      stdinSummary: summarizeManifest(manifest),
      byHand: restoreByHand,
      appIfFailed: down,
    },
    {
      id: "wait-restore",
      description: `Wait for ${job} to complete (or fail)`,
      argv: kubectl("wait", "--for=condition=complete", job, timeout),
      failsIf: {
        argv: kubectl("wait", "--for=condition=failed", job, timeout),
        reason: JOB_FAILED,
      },
      appIfFailed:
        `${down}. The database is either untouched (the restore checks the point before it ` +
        "replaces anything) or restored: read the log before starting the app",
      onFailure: [
        "Read why:",
        ...inspectJob.map((line) => `  ${line}`),
        "A damaged or missing point: run the runbook again with another --point.",
      ].join("\n"),
    },
    {
      id: "verify-restore",
      description: `Read ${job}'s summary line: which point was restored`,
      argv: kubectl("logs", job),
      check: (stdout) => checkRestoreLog(stdout, options.point),
      appIfFailed: down,
      onFailure: `Read the whole log before starting the app:\n  ${inspectJob[1]}`,
    },
    {
      id: "scale-app-up",
      description: `Scale ${deployment} back to ${names.replicas}`,
      argv: kubectl("scale", deployment, `--replicas=${names.replicas}`),
      appIfFailed: `${down}; the database holds the restored point`,
    },
    {
      id: "wait-app-ready",
      description: `Wait for ${deployment} to be ready on the restored data`,
      argv: kubectl("rollout", "status", deployment, timeout),
      appIfFailed:
        `STARTING BUT NOT READY: ${deployment} was scaled to ${names.replicas} on the restored ` +
        "data (verified) and has not become ready",
      onFailure: [
        "Inspect the pod:",
        `  ${k("get", "pods", "-l", names.appSelector)}`,
        `  ${k("describe", "pods", "-l", names.appSelector)}`,
        `  ${k("logs", deployment)}`,
        `To take it down again: ${k("scale", deployment, "--replicas=0")}`,
      ].join("\n"),
    },
    {
      id: "resume-backup",
      description: `Resume cronjob/${names.backupCronJob}`,
      argv: kubectl("patch", `cronjob/${names.backupCronJob}`, ...suspend(false)),
      appIfFailed: `SERVING the restored data, but backups are still suspended: no new restore point is taken`,
    },
    {
      id: "resume-restore-test",
      description: `Resume cronjob/${names.restoreTestCronJob}`,
      argv: kubectl("patch", `cronjob/${names.restoreTestCronJob}`, ...suspend(false)),
      appIfFailed: `SERVING the restored data and backing up, but the restore test is still suspended`,
    },
  ];
}

/** Checks the restore Job's log: its JSON summary line, and that it names the chosen point. */
export function checkRestoreLog(log: string, point?: string): CheckResult {
  const summary = log
    .split("\n")
    .reverse()
    .map(parseObject)
    .find((line) => line?.command === "restore");
  if (!summary)
    return { ok: false, message: 'the log holds no summary line ({"command":"restore",...})' };
  if (summary.ok !== true || typeof summary.restored !== "string")
    return {
      ok: false,
      message: `the summary line does not report a restore: ${JSON.stringify(summary)}`,
    };
  if (point !== undefined && summary.restored !== point)
    return { ok: false, message: `${summary.restored} was restored, not the chosen ${point}` };
  const taken =
    typeof summary.timestamp === "number"
      ? ` (taken ${new Date(summary.timestamp * 1000).toISOString()})`
      : "";
  const skipped = Array.isArray(summary.skipped) && summary.skipped.length > 0;
  return {
    ok: true,
    message:
      `restored ${summary.restored}${taken}` +
      (skipped ? `; skipped as invalid: ${JSON.stringify(summary.skipped)}` : ""),
  };
}

/** `argv` as a line a POSIX shell reads back unchanged. */
export function shellLine(argv: readonly string[]): string {
  return argv
    .map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`))
    .join(" ");
}

/** The shell lines a person runs for `step`. */
export function byHandLines(step: RunbookStep): readonly string[] {
  return step.byHand ?? [shellLine(step.argv)];
}

/** The command that runs the whole runbook again; every step can be repeated. */
export function rerunCommand(config: LabConfig, options: RunbookOptions = {}): string {
  const flags = ["--stack", config.stack];
  if (options.point !== undefined) flags.push("--point", options.point);
  if (options.context !== undefined) flags.push("--context", options.context);
  return shellLine(["npm", "run", "restore", "--", ...flags]);
}

function labNames(config: LabConfig) {
  const charts = defineStack(config, { synced: new App(), ops: new App() });
  // Not instanceof: cdk8s's Chart answers it true for every chart (Symbol.hasInstance).
  const lab = charts.synced.find((chart): chart is LabChart => chart.constructor === LabChart);
  const ops = charts.ops.find((chart): chart is LabOpsChart => chart.constructor === LabOpsChart);
  if (!lab || !ops) throw new Error(`${config.file}: the lab charts were not defined`);
  return {
    app: lab.app.name,
    appSelector: Object.entries(lab.app.selectorLabels)
      .map(([key, value]) => `${key}=${value}`)
      .join(","),
    replicas: lab.app.deployment.replicas ?? 1,
    backupCronJob: lab.backup.cronJob.name,
    restoreTestCronJob: lab.restoreTest.cronJob.name,
    restoreJob: ops.restore.job.name,
  };
}

function summarizeManifest(yaml: string): string {
  const summaries = manifestsFromYaml(yaml, "the restore Job's manifest").map((object) => {
    const what = `${object.kind} ${object.metadata.namespace}/${object.metadata.name}`;
    const container = isWorkload(object) ? podSpecOf(object).containers[0] : undefined;
    const command = [...(container?.command ?? []), ...(container?.args ?? [])];
    return container === undefined ? what : `${what}: ${container.image} ${command.join(" ")}`;
  });
  return summaries.join("; ").concat(` (${yaml.trimEnd().split("\n").length} lines of YAML)`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parseObject(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
