/**
 * `npm run restore -- --stack lab [--point app-<ts>.db] [--context <name>] [--dry-run]`: the lab's
 * volume-loss restore (docs/runbooks/lab-restore.md), step by step through kubectl. The steps
 * come from dr/lab-restore-runbook.ts; this file only checks the arguments, runs them and reports.
 *
 * On a failed step it stops at once and leaves the app scaled to zero: a person decides what the
 * data is before anything serves it. Exit codes: 0 restored, 1 a step failed, 2 bad usage.
 */
import { spawn } from "node:child_process";
import { parseArgs } from "node:util";
import { restorePointTime } from "../charts/constructs/restore-point";
import { type LabConfig, loadStack } from "../config";
import {
  byHandLines,
  type CheckResult,
  labRestoreSteps,
  type RunbookOptions,
  type RunbookStep,
  rerunCommand,
  shellLine,
} from "../dr/lab-restore-runbook";

const usage =
  "usage: npm run restore -- --stack <stack> [--point app-<unix-seconds>.db] " +
  "[--context <kubectl context>] [--dry-run]";

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

interface Request {
  readonly config: LabConfig;
  readonly options: RunbookOptions;
  readonly dryRun: boolean;
}

/** The request, or a usage error's message; nothing has touched the cluster yet either way. */
function readRequest(argv: string[]): Request | { usageError: string } | "help" {
  let values: {
    stack?: string;
    point?: string;
    context?: string;
    "dry-run"?: boolean;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        stack: { type: "string" },
        point: { type: "string" },
        context: { type: "string" },
        "dry-run": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    return { usageError: messageOf(error) };
  }
  if (values.help) return "help";
  if (!values.stack) return { usageError: "--stack is required" };
  try {
    if (values.point !== undefined) restorePointTime(values.point);
    const config = loadStack(values.stack, process.cwd());
    if (config.topology !== "lab") {
      return {
        usageError:
          `stack ${values.stack} has the ${config.topology} topology: this runbook restores the ` +
          "lab's SQLite volume; the target restores with AWS tools (docs/aws-target.md)",
      };
    }
    const options = {
      ...(values.point !== undefined ? { point: values.point } : {}),
      ...(values.context !== undefined ? { context: values.context } : {}),
    };
    return { config, options, dryRun: values["dry-run"] === true };
  } catch (error) {
    return { usageError: messageOf(error) };
  }
}

type Outcome = { ok: true; note?: string } | { ok: false; why: string };

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly error?: Error;
}

/** Runs one command, echoing its output as it comes and keeping it for checks. */
function start(argv: readonly string[], stdin?: string) {
  // stdin is always a pipe, ended at once when there is nothing to send: kubectl sees EOF either way.
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    process.stdout.write(chunk);
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
    process.stderr.write(chunk);
  });
  // kubectl may exit before reading all of stdin; that shows in its exit code, not as EPIPE here.
  child.stdin.on("error", () => {});
  child.stdin.end(stdin);
  const exited = new Promise<Exit>((resolve) => {
    child.on("error", (error) => resolve({ code: null, signal: null, stdout, stderr, error }));
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { exited, stop: () => child.kill("SIGTERM") };
}

function failure(exit: Exit): string {
  if (exit.error) return `${exit.error.message} (is kubectl on the PATH?)`;
  const last = exit.stderr.trim().split("\n").pop();
  return `exited with ${exit.signal ?? `code ${exit.code}`}${last ? `: ${last}` : ""}`;
}

async function runStep(step: RunbookStep): Promise<Outcome> {
  const main = start(step.argv, step.stdin);
  const watch = step.failsIf && start(step.failsIf.argv);
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
  if (exit.code !== 0 && !accepted) return { ok: false, why: failure(exit) };
  const checked: CheckResult | undefined = step.check?.(exit.stdout);
  if (checked && !checked.ok) return { ok: false, why: checked.message };
  return checked ? { ok: true, note: checked.message } : { ok: true };
}

function header(index: number, steps: readonly RunbookStep[]): string {
  return `[${index + 1}/${steps.length}] ${steps[index]!.description}`;
}

function planText(request: Request, steps: readonly RunbookStep[]): string {
  const lines = [
    `DRY RUN: nothing is run. Restore plan for stack ${request.config.stack} (namespace ${request.config.namespace}):`,
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

async function main(argv: string[]): Promise<number> {
  const request = readRequest(argv);
  if (request === "help") {
    console.log(usage);
    return 0;
  }
  if ("usageError" in request) {
    console.error(`${request.usageError}\n${usage}`);
    return 2;
  }
  const steps = labRestoreSteps(request.config, request.options);
  if (request.dryRun) {
    console.log(planText(request, steps));
    return 0;
  }
  let interrupted = false;
  // kubectl gets the same SIGINT and stops; the step then fails and the message says what is left.
  process.on("SIGINT", () => {
    interrupted = true;
  });
  for (const [index, step] of steps.entries()) {
    console.log(`\n${header(index, steps)}\n$ ${shellLine(step.argv)}`);
    const outcome = interrupted
      ? ({ ok: false, why: "interrupted" } as const)
      : await runStep(step);
    if (outcome.ok) {
      if (outcome.note) console.log(`  ${outcome.note}`);
      continue;
    }
    const rest = steps.slice(index);
    console.error(
      [
        "",
        `RESTORE STOPPED at ${header(index, steps)}`,
        `  why: ${interrupted ? "interrupted" : outcome.why}`,
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
  console.log(
    `\nRestore of stack ${request.config.stack} done: the app serves the restored data, ` +
      "backups and the restore test are resumed.",
  );
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  },
);
