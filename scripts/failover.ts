/**
 * `npm run failover -- --stack <stack> [--failback] [--dry-run] [--yes] [--outputs <file>]
 * [--from <step>] [--service-url <url>] [--manifests <dir>]`: the target's failover to its DR region
 * (or the failback), step by step through the AWS CLI, kubectl and HTTP. The steps come from
 * dr/failover-runbook.ts; this file reads the stack's outputs, checks the arguments, asks for
 * confirmation, runs the steps and reports where the system stands when one fails.
 *
 * The names come from the stack's `failover` output: `pulumi stack output --json --stack <stack>`
 * when the Pulumi CLI is on the PATH, else the file given with --outputs (the same JSON). Exit
 * codes: 0 done, 1 a step failed, 2 bad usage or not confirmed (nothing was run).
 *
 * `runFailover` is the whole command as a function of its arguments, environment, folder and
 * streams: the npm script calls it with the process's own, a test with its stand-ins' PATH and
 * buffers, without a new process for each run.
 */
import { readFileSync } from "node:fs";
import { resolve as resolvePath } from "node:path";
import { formatDuration, loadStack, type TargetConfig } from "../config";
import { type FailoverTargets, failoverTargetsSchema } from "../config/failover-targets";
import {
  afterFailback,
  type Captured,
  describeMissing,
  type FailoverDirection,
  type FailoverStep,
  failoverManifests,
  failoverSeconds,
  failoverSteps,
  missingParts,
} from "../dr/failover-runbook";
import { shellLine } from "../dr/lab-restore-runbook";
import {
  confirmedOnStdin,
  defineCommand,
  exitCodeOf,
  type Parsed,
  runCommand,
  stackName,
  UsageError,
} from "./cli";
import { type CommandIo, exitReport, printer, processIo, startChild } from "./child-command";

const command = defineCommand({
  name: "npm run failover",
  synopsis:
    "-- --stack <stack> [--failback] [--dry-run] [--yes] " +
    "[--outputs <pulumi stack output --json file>] [--from <step id>] [--service-url <url>] " +
    "[--manifests <dir>]",
  details: [
    "Fails the target over to its DR region (or back, --failback) step by step, after asking.",
    "Exit 1 when a step fails (the message says where the system stands), 2 when not confirmed.",
  ],
  options: {
    stack: { type: "string" },
    failback: { type: "boolean" },
    "dry-run": { type: "boolean" },
    yes: { type: "boolean", short: "y" },
    outputs: { type: "string" },
    from: { type: "string" },
    "service-url": { type: "string" },
    manifests: { type: "string" },
  },
});

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** What a run reads and writes besides its arguments. */
/** What a run reads and writes besides its arguments. */
export type FailoverIo = CommandIo;

interface Request {
  readonly config: TargetConfig;
  readonly targets: FailoverTargets;
  readonly direction: FailoverDirection;
  readonly steps: readonly FailoverStep[];
  readonly dryRun: boolean;
  readonly yes: boolean;
  readonly from?: string;
}

/** The `failover` output, from a file or from the Pulumi CLI. */
async function readTargets(
  stack: string,
  file: string | undefined,
  io: FailoverIo,
): Promise<FailoverTargets> {
  let text: string;
  let source: string;
  if (file !== undefined) {
    text = readFileSync(resolvePath(io.cwd, file), "utf8");
    source = file;
  } else {
    const argv = ["pulumi", "stack", "output", "--json", "--stack", stack];
    const result = await startChild(io, argv, { echo: { stdout: false, stderr: false } }).exited;
    if (result.error)
      throw new Error(
        "the Pulumi CLI is not on the PATH: pass the stack's outputs with --outputs <file> " +
          "(pulumi stack output --json, run where the CLI is)",
      );
    if (result.code !== 0)
      throw new Error(
        `pulumi stack output failed: ${result.stderr.trim().split("\n").pop() ?? ""}`,
      );
    text = result.stdout;
    source = `pulumi stack output --stack ${stack}`;
  }
  const json: unknown = JSON.parse(text);
  const failover =
    typeof json === "object" && json !== null && "failover" in json ? json.failover : json;
  const parsed = failoverTargetsSchema.safeParse(failover);
  if (!parsed.success)
    throw new Error(
      `${source}: no usable failover output (deployed with a version of the stack that has it?): ` +
        parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
    );
  return parsed.data;
}

async function readRequest(
  { values }: Parsed<typeof command.options>,
  io: FailoverIo,
): Promise<Request | { usageError: string }> {
  if (!values.stack) return { usageError: "--stack is required" };
  stackName(values.stack, io.cwd);
  try {
    const config = loadStack(values.stack, io.cwd);
    if (config.topology !== "target")
      return {
        usageError:
          `stack ${values.stack} has the ${config.topology} topology: it has no DR region; ` +
          "its restore is npm run restore",
      };
    const targets = await readTargets(values.stack, values.outputs, io);
    const direction: FailoverDirection = values.failback === true ? "failback" : "failover";
    const steps = failoverSteps(config, targets, failoverManifests(config), direction, {
      ...(values.manifests !== undefined ? { manifestsDir: values.manifests } : {}),
      ...(values["service-url"] !== undefined ? { serviceUrl: values["service-url"] } : {}),
    });
    const missing = missingParts(steps, targets.parts);
    if (missing.length > 0)
      return {
        usageError:
          `the DR region of stack ${config.stack} lacks what the ${direction} needs: ` +
          `${describeMissing(missing)}. pulumi up a version of the stack that declares it`,
      };
    if (values.from !== undefined && !steps.some((step) => step.id === values.from))
      return {
        usageError: `--from ${values.from}: no such step (${steps.map((s) => s.id).join(", ")})`,
      };
    return {
      config,
      targets,
      direction,
      steps,
      dryRun: values["dry-run"] === true,
      yes: values.yes === true,
      ...(values.from !== undefined ? { from: values.from } : {}),
    };
  } catch (error) {
    return { usageError: messageOf(error) };
  }
}

function header(index: number, steps: readonly FailoverStep[]): string {
  return `[${index + 1}/${steps.length}] ${steps[index]!.description}`;
}

/**
 * `argv` as a shell line in which `$NAME` still expands: an argument holding one is double-quoted,
 * so a person who set the captured values (the lines that assign them) can paste the rest.
 */
function shellWithValues(argv: readonly string[]): string {
  return argv
    .map((arg) =>
      /\$[A-Z_]+/.test(arg) ? `"${arg.replace(/["\\`]/g, "\\$&")}"` : shellLine([arg]),
    )
    .join(" ");
}

/** The line a person runs for `step`, `$NAME` left for the values captured earlier. */
function commandLine(step: FailoverStep): string {
  if (step.byHand !== undefined) return step.byHand;
  if (step.tool === "http") {
    const [method, url] = step.argv;
    return step.body === undefined
      ? shellWithValues(["curl", "-fsS", "-X", method ?? "GET", url ?? ""])
      : shellWithValues([
          "curl",
          "-fsS",
          "-X",
          method ?? "POST",
          "-H",
          "content-type: application/json",
          "-d",
          step.body,
          url ?? "",
        ]);
  }
  const line = shellWithValues(step.argv);
  return step.captures ? `${step.captures}=$(${line})` : line;
}

function planText(request: Request): string {
  const { config, targets, steps, direction } = request;
  const lines = [
    `DRY RUN: nothing is run. ${direction} of stack ${config.stack} ` +
      `(${direction === "failover" ? targets.region : targets.drRegion} -> ` +
      `${direction === "failover" ? targets.drRegion : targets.region}, ` +
      `${targets.strategy}); the steps add up to ${formatDuration(failoverSeconds(steps))}:`,
  ];
  steps.forEach((step, index) => {
    lines.push(header(index, steps), `    $ ${commandLine(step)}`);
    if (step.stdinSummary) lines.push(`      stdin: ${step.stdinSummary}`);
    if (step.check) lines.push("      then checks its output");
    lines.push(`      if it fails: ${step.standsIfFailed}`);
  });
  lines.push(
    "A value written with a leading $ is captured by the step that names it; $STARTED is the run's " +
      "start (by hand: STARTED=$(date +%s) first).",
  );
  if (direction === "failback")
    lines.push("Afterwards, by hand:", ...afterFailback(config, targets).map((l) => `  - ${l}`));
  return lines.join("\n");
}

const substitute = (text: string, captured: Captured) =>
  text.replace(/\$([A-Z_]+)/g, (whole, name: string) => captured[name] ?? whole);

type Outcome = { ok: true; stdout: string; note?: string } | { ok: false; why: string };

async function runStepCommand(
  step: FailoverStep,
  captured: Captured,
  io: FailoverIo,
): Promise<Outcome> {
  const argv = step.argv.map((arg) => substitute(arg, captured));
  // A secret step's stdout (a password) is kept for the next steps, never shown.
  const echo = { stdout: step.secret !== true, stderr: true };
  const exit = await startChild(io, argv, { stdin: step.stdin?.(captured), echo }).exited;
  const accepted = exit.code !== null && step.succeedsOnStderr?.test(exit.stderr) === true;
  if (exit.code !== 0 && !accepted) return { ok: false, why: exitReport(argv, exit) };
  return { ok: true, stdout: exit.stdout };
}

async function runHttp(step: FailoverStep, captured: Captured, io: FailoverIo): Promise<Outcome> {
  const [method, url] = step.argv.map((arg) => substitute(arg, captured));
  try {
    const response = await fetch(url ?? "", {
      method: method ?? "GET",
      ...(step.body !== undefined
        ? { body: substitute(step.body, captured), headers: { "content-type": "application/json" } }
        : {}),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    if (!response.ok) return { ok: false, why: `${method} ${url} answered ${response.status}` };
    printer(io).log(`  ${method} ${url}: ${response.status}`);
    return { ok: true, stdout: text };
  } catch (error) {
    return { ok: false, why: `${method} ${url}: ${messageOf(error)}` };
  }
}

async function runStep(
  step: FailoverStep,
  captured: Record<string, string>,
  io: FailoverIo,
): Promise<Outcome> {
  const outcome =
    step.tool === "http"
      ? await runHttp(step, captured, io)
      : await runStepCommand(step, captured, io);
  if (!outcome.ok) return outcome;
  const checked = step.check?.(outcome.stdout, captured);
  if (checked && !checked.ok) return { ok: false, why: checked.message };
  if (step.captures) captured[step.captures] = outcome.stdout.trim();
  return checked ? { ...outcome, note: checked.message } : outcome;
}

async function confirmed(request: Request, io: FailoverIo): Promise<boolean> {
  const { config, targets, direction } = request;
  printer(io).log(
    direction === "failover"
      ? `The failover of stack ${config.stack} moves the service to ${targets.drRegion}: it promotes or ` +
          `restores the database there, rewrites the DR copy of ${targets.secret.name}, starts the app in ` +
          `${targets.drCluster.name} and points ${targets.serviceName.record} at it.`
      : `The failback of stack ${config.stack} re-seeds ${targets.region} from ${targets.drRegion}, stops ` +
          `the DR app (the service is down during the switch) and points ${targets.serviceName.record} back.`,
  );
  return (
    request.yes || (await confirmedOnStdin('Declare the disaster and type "yes" to go on: ', io))
  );
}

async function main(args: Parsed<typeof command.options>, io: FailoverIo): Promise<number> {
  const out = printer(io);
  const request = await readRequest(args, io);
  if ("usageError" in request) throw new UsageError(request.usageError);
  if (request.dryRun) {
    out.log(planText(request));
    return 0;
  }
  if (!(await confirmed(request, io))) {
    out.error("Not confirmed: nothing was run.");
    return 2;
  }
  const { steps } = request;
  const captured: Record<string, string> = { STARTED: String(Math.floor(Date.now() / 1000)) };
  const start = request.from === undefined ? 0 : steps.findIndex((s) => s.id === request.from);
  for (const [index, step] of steps.entries()) {
    // Resuming: earlier steps run again only for the values they capture (reads, or an UPSERT).
    if (index < start && step.captures === undefined) continue;
    out.log(`\n${header(index, steps)}\n$ ${commandLine(step)}`);
    const outcome = await runStep(step, captured, io);
    if (outcome.ok) {
      if (outcome.note) out.log(`  ${outcome.note}`);
      continue;
    }
    out.error(
      [
        "",
        `${request.direction.toUpperCase()} STOPPED at ${header(index, steps)}`,
        `  why: ${outcome.why}`,
        `Where the system stands: ${step.standsIfFailed}.`,
        ...(step.onFailure ? [step.onFailure] : []),
        "Once the cause is fixed, go on from this step:",
        `  npm run failover -- --stack ${request.config.stack}` +
          `${request.direction === "failback" ? " --failback" : ""} --from ${step.id}`,
        "or by hand, in order:",
        ...steps.slice(index).map((s) => `  ${commandLine(s)}`),
      ].join("\n"),
    );
    return 1;
  }
  out.log(
    request.direction === "failover"
      ? `\nFailover of stack ${request.config.stack} done: the service answers from ` +
          `${request.targets.drRegion} behind ${request.targets.serviceName.record}.`
      : `\nFailback of stack ${request.config.stack} done: the service answers from ` +
          `${request.targets.region}. Then, by hand:\n` +
          afterFailback(request.config, request.targets)
            .map((line) => `  - ${line}`)
            .join("\n"),
  );
  return 0;
}

/** The process's own streams, environment and folder: the npm script's run. */
/** `npm run failover` with `argv` (its arguments, after `--`), to its exit code. */
export function runFailover(
  argv: readonly string[],
  io: FailoverIo = processIo(),
): Promise<number> {
  return exitCodeOf(command, (args) => main(args, io), argv, io);
}

if (require.main === module) runCommand(command, (args) => main(args, processIo()));
