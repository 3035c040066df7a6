/**
 * `npm run restore -- --stack lab [--scenario <s>] [--point app-<ts>.db | --before <time>]
 * [--context <name>] [--dry-run] [--yes]`: the lab's runbook for a lost data volume, a lost backup
 * volume or an operator error (docs/runbooks/lab-restore.md), step by step through kubectl. The
 * steps come from dr/lab-restore-runbook.ts; this file only checks the arguments, asks for
 * confirmation, runs them and reports.
 *
 * On a failed step it stops at once and leaves the app scaled to zero: a person decides what the
 * data is before anything serves it. Exit codes: 0 done, 1 a step failed, 2 bad usage or not
 * confirmed (nothing was run).
 *
 * `runRestore` is the whole command as a function of its arguments, environment, folder, streams
 * and interrupts: the npm script calls it with the process's own, a test with its stand-ins'.
 */
import { restorePointTime } from "../charts/constructs/restore-point";
import { type LabConfig, loadStack } from "../config";
import {
  byHandLines,
  type CheckResult,
  LAB_RUNBOOKS,
  type LabRunbook,
  labRestoreSteps,
  type RunbookOptions,
  type RunbookStep,
  rerunCommand,
  runbookScenario,
  shellLine,
} from "../dr/lab-restore-runbook";
import {
  beforeSeconds,
  confirmedOnStdin,
  defineCommand,
  exitCodeOf,
  type Parsed,
  runCommand,
  stackName,
  UsageError,
} from "./cli";
import { type CommandIo, exitReport, printer, processIo, startChild } from "./child-command";

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** What a run reads and writes besides its arguments. */
export interface RestoreIo extends CommandIo {
  /** Where an interrupt (SIGINT) comes from: the process, or a caller's emitter. */
  readonly interrupts: Pick<NodeJS.EventEmitter, "on" | "off">;
}

const command = defineCommand({
  name: "npm run restore",
  synopsis:
    `-- --stack <stack> [--scenario ${LAB_RUNBOOKS.join("|")}] ` +
    "[--point app-<unix-seconds>.db | --before <ISO time or unix seconds>] " +
    "[--context <kubectl context>] [--dry-run] [--yes]",
  details: [
    "Runs the lab's restore runbook through kubectl, after naming the kube context and asking",
    "(--yes skips the question; --dry-run prints the steps and runs nothing).",
    "Exit 1 when a step fails (the app is left scaled to zero), 2 when not confirmed.",
  ],
  options: {
    stack: { type: "string" },
    scenario: { type: "string" },
    point: { type: "string" },
    before: { type: "string" },
    context: { type: "string" },
    "dry-run": { type: "boolean" },
    yes: { type: "boolean", short: "y" },
  },
});

interface Request {
  readonly config: LabConfig;
  readonly options: RunbookOptions;
  readonly scenario: LabRunbook;
  readonly dryRun: boolean;
  readonly yes: boolean;
}

const isRunbook = (value: string): value is LabRunbook =>
  LAB_RUNBOOKS.some((scenario) => scenario === value);

/** The request, or a UsageError; nothing has touched the cluster yet either way. */
function readRequest({ values }: Parsed<typeof command.options>, io: RestoreIo): Request {
  const stack = stackName(values.stack, io.cwd);
  if (values.scenario !== undefined && !isRunbook(values.scenario))
    throw new UsageError(
      `--scenario "${values.scenario}": expected one of ${LAB_RUNBOOKS.join(", ")}`,
    );
  if (values.point !== undefined) {
    try {
      restorePointTime(values.point);
    } catch (error) {
      throw new UsageError(messageOf(error));
    }
  }
  const config = loadStack(stack, io.cwd);
  if (config.topology !== "lab") {
    throw new UsageError(
      `stack ${stack} has the ${config.topology} topology: this runbook restores the ` +
        "lab's SQLite volume; the target restores with AWS tools (docs/aws-target.md)",
    );
  }
  const options: RunbookOptions = {
    ...(values.scenario !== undefined && isRunbook(values.scenario)
      ? { scenario: values.scenario }
      : {}),
    ...(values.point !== undefined ? { point: values.point } : {}),
    ...(values.before !== undefined ? { before: beforeSeconds(values.before) } : {}),
    ...(values.context !== undefined ? { context: values.context } : {}),
  };
  let scenario: LabRunbook;
  try {
    scenario = runbookScenario(options);
  } catch (error) {
    throw new UsageError(messageOf(error));
  }
  return {
    config,
    options,
    scenario,
    dryRun: values["dry-run"] === true,
    yes: values.yes === true,
  };
}

type Outcome = { ok: true; note?: string } | { ok: false; why: string };

async function runStep(step: RunbookStep, io: RestoreIo): Promise<Outcome> {
  const main = startChild(io, step.argv, { stdin: step.stdin });
  const watch = step.failsIf && startChild(io, step.failsIf.argv);
  // The watch only decides when it succeeds; its own timeout or error says nothing about the step.
  const watchFired = watch?.exited.then((exit) =>
    exit.code === 0 ? "fired" : new Promise<never>(() => {}),
  );
  const first = await Promise.race([main.exited, ...(watchFired ? [watchFired] : [])]);
  if (first === "fired") {
    main.stop();
    await main.exited;
    return { ok: false, why: step.failsIf!.reason };
  }
  if (watch) {
    watch.stop();
    await watch.exited;
  }
  const exit = first;
  const accepted = exit.code !== null && step.succeedsOnStderr?.test(exit.stderr) === true;
  if (exit.code !== 0 && !accepted) return { ok: false, why: exitReport(step.argv, exit) };
  const checked: CheckResult | undefined = step.check?.(exit.stdout);
  if (checked && !checked.ok) return { ok: false, why: checked.message };
  return checked ? { ok: true, note: checked.message } : { ok: true };
}

function header(index: number, steps: readonly RunbookStep[]): string {
  return `[${index + 1}/${steps.length}] ${steps[index]!.description}`;
}

function planText(request: Request, steps: readonly RunbookStep[]): string {
  const lines = [
    `DRY RUN: nothing is run. ${request.scenario} runbook for stack ${request.config.stack} ` +
      `(namespace ${request.config.namespace}):`,
  ];
  steps.forEach((step, index) => {
    lines.push(header(index, steps), `    $ ${shellLine(step.argv)}`);
    if (step.stdinSummary) lines.push(`      stdin: ${step.stdinSummary}`);
    if (step.failsIf)
      lines.push(`      alongside, to stop on failure: $ ${shellLine(step.failsIf.argv)}`);
    if (step.check) lines.push("      then checks its output");
  });
  return lines.join("\n");
}

/** The kube context the steps act on: --context, or kubectl's current one. */
async function kubeContext(request: Request, io: RestoreIo): Promise<string> {
  if (request.options.context !== undefined) return request.options.context;
  const argv = ["kubectl", "config", "current-context"];
  const exit = await startChild(io, argv, { echo: { stdout: false, stderr: false } }).exited;
  if (exit.code !== 0)
    throw new Error(`cannot read kubectl's current context: ${exitReport(argv, exit)}`);
  return exit.stdout.trim();
}

/** Says where the steps will act and, unless --yes, asks a person to type "yes". */
async function confirmed(request: Request, io: RestoreIo): Promise<boolean> {
  const context = await kubeContext(request, io);
  printer(io).log(
    `The ${request.scenario} runbook of stack ${request.config.stack} will act on kube context ` +
      `"${context}", namespace ${request.config.namespace}: it scales the app down.`,
  );
  return request.yes || (await confirmedOnStdin('Type "yes" to go on: ', io));
}

async function main(args: Parsed<typeof command.options>, io: RestoreIo): Promise<number> {
  const out = printer(io);
  const request = readRequest(args, io);
  const steps = labRestoreSteps(request.config, request.options);
  if (request.dryRun) {
    out.log(planText(request, steps));
    return 0;
  }
  if (!(await confirmed(request, io))) {
    out.error("Not confirmed: nothing was run.");
    return 2;
  }
  let interrupted = false;
  // kubectl gets the same SIGINT and stops; the step then fails and the message says what is left.
  const interrupt = () => {
    interrupted = true;
  };
  io.interrupts.on("SIGINT", interrupt);
  try {
    return await runSteps(request, steps, io, () => interrupted);
  } finally {
    io.interrupts.off("SIGINT", interrupt);
  }
}

async function runSteps(
  request: Request,
  steps: readonly RunbookStep[],
  io: RestoreIo,
  interrupted: () => boolean,
): Promise<number> {
  const out = printer(io);
  for (const [index, step] of steps.entries()) {
    out.log(`\n${header(index, steps)}\n$ ${shellLine(step.argv)}`);
    const outcome = interrupted()
      ? ({ ok: false, why: "interrupted" } as const)
      : await runStep(step, io);
    if (outcome.ok) {
      if (outcome.note) out.log(`  ${outcome.note}`);
      continue;
    }
    const rest = steps.slice(index);
    out.error(
      [
        "",
        `RESTORE STOPPED at ${header(index, steps)}`,
        `  why: ${interrupted() ? "interrupted" : outcome.why}`,
        `The app is ${step.appIfFailed}.`,
        ...(step.onFailure ? [step.onFailure] : []),
        "To finish by hand once the cause is fixed, run what is left, in order:",
        ...rest.flatMap((s) => byHandLines(s).map((line) => `  ${line}`)),
        "Or run the whole runbook again (every step can be repeated):",
        `  ${rerunCommand(request.config, request.options)}`,
      ].join("\n"),
    );
    return 1;
  }
  out.log(
    request.scenario === "backup-volume-loss"
      ? `\n${request.scenario} runbook of stack ${request.config.stack} done: the app serves, ` +
          "and a new restore point is written."
      : `\nRestore of stack ${request.config.stack} done: the app serves the restored data, ` +
          "backups and the restore test are resumed.",
  );
  return 0;
}

/** The process's own streams, environment, folder and signals: the npm script's run. */
function processRestoreIo(): RestoreIo {
  return Object.assign(processIo(), { interrupts: process });
}

/** `npm run restore` with `argv` (its arguments, after `--`), to its exit code. */
export function runRestore(
  argv: readonly string[],
  io: RestoreIo = processRestoreIo(),
): Promise<number> {
  return exitCodeOf(command, (args) => main(args, io), argv, io);
}

if (require.main === module) runCommand(command, (args) => main(args, processRestoreIo()));
