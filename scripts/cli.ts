/**
 * The command-line convention every npm script follows (README, "Command-line tools"):
 * `--help`/`-h` prints the usage and exits 0, `--version` prints the project's version and exits 0,
 * an unknown option or a bad value prints the reason and the usage and exits 2 (nothing was done),
 * a failed operation exits 1 with its reason. A user's mistake (UsageError, ConfigError) never
 * shows a stack trace; an unexpected error shows its message, and its stack with PRA_DEBUG=1.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { ConfigError, listStacks } from "../config";

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** Bad usage: the message is printed with the usage, and the command exits 2 having done nothing. */
export class UsageError extends Error {
  override name = "UsageError";
}

type Options = NonNullable<ParseArgsConfig["options"]>;

export interface CommandSpec<O extends Options> {
  /** How the user types it, e.g. `npm run check`. */
  readonly name: string;
  /** The synopsis after the name, e.g. `[-- --stack <stack>] [--json]`. */
  readonly synopsis: string;
  /** Further help lines: what it does, what each option means, the exit codes. */
  readonly details?: readonly string[];
  readonly options: O;
  readonly allowPositionals?: boolean;
}

/** A command's spec, its option types kept literal so that the parsed values are typed. */
export function defineCommand<const O extends Options>(spec: CommandSpec<O>): CommandSpec<O> {
  return spec;
}

export interface Parsed<O extends Options> {
  readonly values: ReturnType<typeof parseArgs<{ options: O; strict: true }>>["values"];
  readonly positionals: string[];
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** The version in the project's package.json: one source, the one npm reads. */
export function projectVersion(): string {
  const text = readFileSync(join(__dirname, "..", "package.json"), "utf8");
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed === "object" && parsed !== null && "version" in parsed) {
    const { version } = parsed;
    if (typeof version === "string") return version;
  }
  throw new Error("package.json has no version");
}

export function usageText<O extends Options>(command: CommandSpec<O>): string {
  return [
    `usage: ${command.name} ${command.synopsis}`.trimEnd(),
    ...(command.details ?? []),
    "Every command: --help prints this, --version the version; exit 0 done, 1 failed, 2 bad usage.",
  ].join("\n");
}

/** True when argv asks for `flag` before a `--` that ends the options. */
function asks(argv: readonly string[], ...flags: string[]): boolean {
  const end = argv.indexOf("--");
  return (end === -1 ? argv : argv.slice(0, end)).some((arg) => flags.includes(arg));
}

/** Parses argv strictly; throws UsageError on an unknown option or a missing value. */
export function parseCommandLine<O extends Options>(
  command: CommandSpec<O>,
  argv: readonly string[],
): Parsed<O> {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: command.options,
      strict: true,
      allowPositionals: command.allowPositionals ?? false,
    });
    return { values, positionals };
  } catch (error) {
    throw new UsageError(messageOf(error));
  }
}

/**
 * Where a command reads and writes: the process's own streams, or a caller's when it runs the
 * command in its own process (a test, which then needs no new process for each run).
 */
export interface Terminal {
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: { write(chunk: string | Uint8Array): unknown };
  readonly stderr: { write(chunk: string | Uint8Array): unknown };
}

/** The process's streams, read when asked for (process.stdin is only opened once it is used). */
export function processTerminal(): Terminal {
  return {
    get stdin() {
      return process.stdin;
    },
    stdout: process.stdout,
    stderr: process.stderr,
  };
}

/** `main` run under the convention, to the exit code the command ends with; it never throws. */
export async function exitCodeOf<O extends Options>(
  command: CommandSpec<O>,
  main: (args: Parsed<O>) => number | Promise<number>,
  argv: readonly string[],
  terminal: Pick<Terminal, "stdout" | "stderr"> = processTerminal(),
): Promise<number> {
  const fail = (error: unknown) => {
    if (error instanceof UsageError) {
      terminal.stderr.write(`${error.message}\n${usageText(command)}\n`);
      return EXIT_USAGE;
    }
    terminal.stderr.write(`${messageOf(error)}\n`);
    if (!(error instanceof ConfigError) && process.env.PRA_DEBUG && error instanceof Error)
      terminal.stderr.write(`${error.stack}\n`);
    return EXIT_FAILED;
  };
  if (asks(argv, "--help", "-h")) {
    terminal.stdout.write(`${usageText(command)}\n`);
    return EXIT_OK;
  }
  if (asks(argv, "--version")) {
    terminal.stdout.write(
      `${command.name.replace(/^npm run /, "")} (pra-stack) ${projectVersion()}\n`,
    );
    return EXIT_OK;
  }
  try {
    return await main(parseCommandLine(command, argv));
  } catch (error) {
    return fail(error);
  }
}

/**
 * Runs `main` under the convention and sets the exit code (or exits, with `exit: true`, for a
 * command whose children or timers would otherwise keep the process alive).
 */
export function runCommand<O extends Options>(
  command: CommandSpec<O>,
  main: (args: Parsed<O>) => number | Promise<number>,
  settings: { argv?: readonly string[]; exit?: boolean } = {},
): void {
  void exitCodeOf(command, main, settings.argv ?? process.argv.slice(2)).then((code) => {
    if (settings.exit) process.exit(code);
    process.exitCode = code;
  });
}

/** `value` as a positive number, or a UsageError naming the option. */
export function positiveNumber(option: string, value: string): number {
  const number = Number(value);
  if (!(number > 0)) throw new UsageError(`--${option} must be a positive number, got "${value}"`);
  return number;
}

/** `--stack`'s value checked against the stack files in `root`: a name without one is bad usage. */
export function stackName(value: string | undefined, root: string = process.cwd()): string {
  if (value === undefined) throw new UsageError("--stack is required");
  const stacks = listStacks(root);
  if (!stacks.includes(value))
    throw new UsageError(
      `--stack ${value}: no Pulumi.${value}.yaml here (stacks: ${stacks.join(", ") || "none"})`,
    );
  return value;
}

/** `--before`: unix seconds, or an ISO 8601 time with its zone; anything else is bad usage. */
export function beforeSeconds(text: string): number {
  if (/^\d+$/.test(text)) return Number(text);
  const millis = /^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:?\d{2})$/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(millis))
    throw new UsageError(
      `--before "${text}": expected unix seconds or an ISO 8601 time with its zone`,
    );
  return Math.floor(millis / 1000);
}

/**
 * Asks a person to type "yes" on stdin before a runbook acts (`--yes` skips the question). An
 * empty or closed stdin (a CI job, a pipe) is a no, so nothing runs by accident.
 */
export async function confirmedOnStdin(
  prompt: string,
  terminal: Pick<Terminal, "stdin" | "stdout"> = processTerminal(),
): Promise<boolean> {
  const lines = createInterface({ input: terminal.stdin });
  terminal.stdout.write(prompt);
  const answer = await new Promise<string>((resolveAnswer) => {
    lines.once("line", resolveAnswer);
    lines.once("close", () => resolveAnswer(""));
  });
  lines.close();
  return answer.trim().toLowerCase() === "yes";
}
