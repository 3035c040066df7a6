/**
 * The lab's volume-loss restore as an ordered list of kubectl calls. Building the list runs
 * nothing: scripts/restore-runbook.ts executes it, and the DR report prints the same steps, so
 * what a person reads is what the command does.
 *
 * Every name comes from the synthesized charts (the same constructs `npm run synth` writes), not
 * from copies of them, so a renamed Deployment or CronJob cannot leave the runbook behind.
 */
import { ApiObject, App } from "cdk8s";
import { stringify } from "yaml";
import { restorePointTime } from "../charts/constructs/restore-point";
import { LabChart, LabOpsChart } from "../charts/lab/lab-chart";
import { isWorkload, manifestsFromYaml, podSpecOf } from "../charts/manifest";
import { defineStack, restoreJobYaml } from "../charts/stacks";
import type { LabConfig } from "../config";

/**
 * The lab's failures a person recovers from with kubectl, each with its runbook. What each one
 * damages in the cluster is stated in config/scenarios.ts (SCENARIO_DAMAGE).
 */
export const LAB_RUNBOOKS = ["data-volume-loss", "backup-volume-loss", "operator-error"] as const;
export type LabRunbook = (typeof LAB_RUNBOOKS)[number];

export interface RunbookOptions {
  /**
   * The failure recovered from. @default "operator-error" with `point` or `before`, else
   * "data-volume-loss"
   */
  readonly scenario?: LabRunbook;
  /** A restore point's file name (`app-1700000000.db`). @default the newest valid point */
  readonly point?: string;
  /** Unix seconds: restore the newest valid point taken at or before then. Not with `point`. */
  readonly before?: number;
  /** A kubeconfig context, passed to every kubectl call. @default kubectl's current context */
  readonly context?: string;
  /**
   * For the DR report: `point` may be a placeholder such as `app-<unix-seconds>.db`, and no
   * manifest is built. Steps built this way are printed, never run.
   */
  readonly forPrinting?: boolean;
}

/** The scenario `options` ask for, after checking that its restore choice fits it. */
export function runbookScenario(options: RunbookOptions): LabRunbook {
  const chosen = options.point !== undefined || options.before !== undefined;
  const scenario = options.scenario ?? (chosen ? "operator-error" : "data-volume-loss");
  if (options.point !== undefined && options.before !== undefined)
    throw new Error("--point and --before are alternatives: give one");
  if (scenario === "operator-error" && !chosen)
    throw new Error(
      "operator-error needs --point or --before: the newest restore point may already hold the error",
    );
  if (scenario === "backup-volume-loss" && chosen)
    throw new Error("backup-volume-loss restores nothing: the live database is intact");
  return scenario;
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
  const scenario = runbookScenario(options);
  if (options.point !== undefined && options.forPrinting !== true) restorePointTime(options.point);
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
  const backupOnly = scenario === "backup-volume-loss";
  const claim = backupOnly ? names.backupClaim : names.dataClaim;
  const down =
    `DOWN: ${deployment} in namespace ${ns} is scaled to zero; ` +
    (backupOnly
      ? `its data is intact: scale it back up once ${claim.name} is recreated`
      : "keep it there until the restore is done");
  const claimLost = scenario !== "operator-error";
  const claimLines = claim.yaml.trimEnd().split("\n");

  const checkClaim: RunbookStep = {
    id: "check-claim",
    description: claimLost
      ? `Check that claim ${claim.name} is lost (gone, or Terminating): this runbook recreates it`
      : `Check that claim ${claim.name} is intact: this runbook restores onto it`,
    argv: kubectl(
      "get",
      "pvc",
      claim.name,
      "--ignore-not-found",
      "-o",
      "jsonpath={.metadata.name},{.metadata.deletionTimestamp}",
    ),
    check: (stdout) => checkClaimState(stdout, claim.name, claimLost),
    appIfFailed: "UNCHANGED: nothing was changed",
    onFailure: `Read the claim's state:\n  ${k("get", "pvc", claim.name)}`,
  };
  const scaleDown: RunbookStep[] = [
    {
      id: "scale-app-down",
      description: backupOnly
        ? `Scale ${deployment} to zero, so that its pod releases ${claim.name}`
        : `Scale ${deployment} to zero, so nothing writes the database during the restore`,
      argv: kubectl("scale", deployment, "--replicas=0"),
      appIfFailed: `UNCHANGED: ${deployment} may still be serving; nothing was restored`,
      onFailure: `Check that the context and namespace are right:\n  ${k("get", deployment)}`,
    },
    {
      id: "wait-app-gone",
      description: "Wait until the app's pods are gone (they hold both volumes)",
      argv: kubectl("wait", "--for=delete", "pod", "-l", names.appSelector, timeout),
      succeedsOnStderr: /no matching resources found/,
      appIfFailed: `${down}; a pod may still be terminating`,
      onFailure:
        "A pod that does not terminate holds the volumes:\n" +
        `  ${k("get", "pods", "-l", names.appSelector)}`,
    },
  ];
  const recreateClaim: RunbookStep[] = [
    {
      id: "wait-claim-released",
      description:
        `Wait until claim ${claim.name} is gone: it is released once no pod mounts it ` +
        "(a backup Job still running may hold it until it ends)",
      argv: kubectl("wait", "--for=delete", `pvc/${claim.name}`, timeout),
      appIfFailed: down,
      onFailure:
        `A pod still mounts ${claim.name}:\n  ${k("get", "pods")}\n` +
        `  ${k("describe", "pvc", claim.name)}`,
    },
    {
      id: "recreate-claim",
      description:
        `Recreate claim ${claim.name}, empty, from the synthesized manifest ` +
        "(only the claim: applying the whole folder would scale the app back up)",
      argv: kubectl("apply", "-f", "-"),
      stdin: claim.yaml,
      stdinSummary: `PersistentVolumeClaim ${ns}/${claim.name} (${claimLines.length} lines of YAML)`,
      byHand: [`${k("apply", "-f", "-")} <<'EOF'`, ...claimLines, "EOF"],
      appIfFailed: down,
    },
  ];
  const scaleUp = (restored: boolean): RunbookStep[] => [
    {
      id: "scale-app-up",
      description: `Scale ${deployment} back to ${names.replicas}`,
      argv: kubectl("scale", deployment, `--replicas=${names.replicas}`),
      appIfFailed: restored ? `${down}; the database holds the restored point` : down,
    },
    {
      id: "wait-app-ready",
      description: `Wait for ${deployment} to be ready${restored ? " on the restored data" : ""}`,
      argv: kubectl("rollout", "status", deployment, timeout),
      appIfFailed:
        `STARTING BUT NOT READY: ${deployment} was scaled to ${names.replicas}` +
        `${restored ? " on the restored data (verified)" : ""} and has not become ready`,
      onFailure: [
        "Inspect the pod:",
        `  ${k("get", "pods", "-l", names.appSelector)}`,
        `  ${k("describe", "pods", "-l", names.appSelector)}`,
        `  ${k("logs", deployment)}`,
        `To take it down again: ${k("scale", deployment, "--replicas=0")}`,
      ].join("\n"),
    },
  ];

  if (scenario === "backup-volume-loss") {
    const manual = `${names.backupCronJob}-manual`;
    const manualJob = `job/${manual}`;
    return [
      checkClaim,
      ...scaleDown,
      ...recreateClaim,
      ...scaleUp(false),
      {
        id: "delete-previous-backup",
        description: `Delete any previous ${manualJob}`,
        argv: kubectl("delete", manualJob, "--ignore-not-found", "--cascade=foreground", timeout),
        appIfFailed: "SERVING, with no restore point yet",
      },
      {
        id: "run-backup",
        description: `Take a restore point now, from cronjob/${names.backupCronJob}'s template`,
        argv: kubectl("create", "job", manual, `--from=cronjob/${names.backupCronJob}`),
        appIfFailed: "SERVING, with no restore point yet",
      },
      {
        id: "wait-backup",
        description: `Wait for ${manualJob} to complete (or fail)`,
        argv: kubectl("wait", "--for=condition=complete", manualJob, timeout),
        failsIf: {
          argv: kubectl("wait", "--for=condition=failed", manualJob, timeout),
          reason: "the backup Job failed (condition Failed)",
        },
        appIfFailed: "SERVING, with no restore point yet",
        onFailure: `Read why:\n  ${k("logs", manualJob)}\n  ${k("describe", manualJob)}`,
      },
      {
        id: "verify-backup",
        description: `Read ${manualJob}'s summary line: which restore point was written`,
        argv: kubectl("logs", manualJob),
        check: checkBackupLog,
        appIfFailed: "SERVING, with no restore point yet",
      },
    ];
  }

  const choice =
    options.before !== undefined
      ? { text: `the newest valid point taken at or before ${isoTime(options.before)}` }
      : { text: options.point ?? "the newest valid restore point" };
  const manifest =
    options.forPrinting === true ? "" : restoreJobYaml(config, options.point, options.before);
  const inspectJob = [
    k("describe", job),
    k("logs", job),
    k("get", "pods", "-l", `job-name=${names.restoreJob}`),
  ];
  const file = restoreJobFile(config, options);
  const restoreByHand =
    file === undefined
      ? [
          "npm run synth",
          k("apply", "-f", `dist/${config.stack}/ops/${config.stack}-restore.k8s.yaml`),
        ]
      : [restoreJobCommand(config, options), k("apply", "-f", file)];

  return [
    checkClaim,
    ...scaleDown,
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
    ...(claimLost ? recreateClaim : []),
    {
      id: "delete-previous-restore",
      description: `Delete any previous ${job} (a Job's pod template cannot be changed in place)`,
      argv: kubectl("delete", job, "--ignore-not-found", "--cascade=foreground", timeout),
      appIfFailed: down,
      onFailure: `Inspect the old Job:\n  ${inspectJob[0]}`,
    },
    {
      id: "apply-restore",
      description: `Start ${job} restoring ${choice.text}`,
      argv: kubectl("apply", "-f", "-"),
      ...(options.forPrinting === true
        ? {}
        : { stdin: manifest, stdinSummary: summarizeManifest(manifest) }),
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
      check: (stdout) => checkRestoreLog(stdout, options.point, options.before),
      appIfFailed: down,
      onFailure: `Read the whole log before starting the app:\n  ${inspectJob[1]}`,
    },
    ...scaleUp(true),
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

/**
 * Where `npm run restore-job` writes a chosen point's Job: outside dist/, which `npm run synth`
 * deletes and rewrites. Undefined for the newest point (synth's own ops/ Job).
 */
export function restoreJobFile(config: LabConfig, options: RunbookOptions): string | undefined {
  if (options.before !== undefined)
    return `restore-jobs/${config.stack}/restore-before-${options.before}.k8s.yaml`;
  if (options.point !== undefined)
    return `restore-jobs/${config.stack}/restore-${options.point.replace(/\.db$/, "")}.k8s.yaml`;
  return undefined;
}

function restoreJobCommand(config: LabConfig, options: RunbookOptions): string {
  const choice =
    options.before !== undefined
      ? ["--before", String(options.before)]
      : ["--point", options.point ?? ""];
  return ["npm", "run", "restore-job", "--", "--stack", config.stack, ...choice].join(" ");
}

const isoTime = (seconds: number) => new Date(seconds * 1000).toISOString();

/** `get pvc NAME -o jsonpath={.metadata.name},{.metadata.deletionTimestamp}` read for a runbook. */
function checkClaimState(stdout: string, claim: string, expectLost: boolean): CheckResult {
  const [name = "", deleting = ""] = stdout.trim().split(",");
  const state = name === "" ? "gone" : deleting !== "" ? `Terminating since ${deleting}` : "intact";
  const lost = state !== "intact";
  if (lost === expectLost) return { ok: true, message: `claim ${claim} is ${state}` };
  return {
    ok: false,
    message: expectLost
      ? `claim ${claim} is intact: to restore onto it, run with --scenario operator-error ` +
        "and --point or --before"
      : `claim ${claim} is ${state}: run with --scenario data-volume-loss, which recreates it`,
  };
}

/** Checks a backup Job's log: its JSON summary line names the restore point written. */
export function checkBackupLog(log: string): CheckResult {
  const summary = summaryLine(log, "backup");
  if (!summary || summary.ok !== true || typeof summary.file !== "string")
    return {
      ok: false,
      message: 'the log holds no successful summary line ({"command":"backup",...})',
    };
  return { ok: true, message: `restore point ${summary.file} written` };
}

function summaryLine(log: string, command: string): Record<string, unknown> | undefined {
  return log
    .split("\n")
    .reverse()
    .map(parseObject)
    .find((line) => line?.command === command);
}

/** Checks the restore Job's log: its JSON summary line, and that it names the chosen point. */
export function checkRestoreLog(log: string, point?: string, before?: number): CheckResult {
  const summary = summaryLine(log, "restore");
  if (!summary)
    return { ok: false, message: 'the log holds no summary line ({"command":"restore",...})' };
  if (summary.ok !== true || typeof summary.restored !== "string")
    return {
      ok: false,
      message: `the summary line does not report a restore: ${JSON.stringify(summary)}`,
    };
  if (point !== undefined && summary.restored !== point)
    return { ok: false, message: `${summary.restored} was restored, not the chosen ${point}` };
  if (before !== undefined && (typeof summary.timestamp !== "number" || summary.timestamp > before))
    return {
      ok: false,
      message: `${summary.restored} was restored, which is not from before ${isoTime(before)}`,
    };
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
  if (options.scenario !== undefined) flags.push("--scenario", options.scenario);
  if (options.point !== undefined) flags.push("--point", options.point);
  if (options.before !== undefined) flags.push("--before", String(options.before));
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
    dataClaim: claimOf(lab, "data"),
    backupClaim: claimOf(lab, "backup"),
  };
}

/** A claim of the lab's storage: its name and its manifest as synth writes it. */
function claimOf(lab: LabChart, id: "data" | "backup"): { name: string; yaml: string } {
  const claim = lab.storage.node.tryFindChild(id);
  if (claim === undefined || !ApiObject.isApiObject(claim))
    throw new Error(`the lab's storage has no ${id} claim`);
  return { name: claim.name, yaml: stringify(claim.toJson()) };
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
