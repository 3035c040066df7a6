/**
 * How the runbook commands (`npm run restore`, `npm run failover`) run the programs their steps
 * name: in the command's folder and environment, on its terminal, each step's output echoed as it
 * comes and kept whole for the step's checks. One runner for both, so a step means the same thing
 * in either runbook (the same stdin, the same echo, the same exit report).
 */
import { spawn } from "node:child_process";
import { processTerminal, type Terminal } from "./cli";

/** A runbook command's world: its terminal, and where the programs it runs are found. */
export interface CommandIo extends Terminal {
  /** The environment of the programs it runs (`kubectl`, `aws`, `pulumi` are found on its PATH). */
  readonly env: NodeJS.ProcessEnv;
  /** The folder stack files are read from and the programs run in. */
  readonly cwd: string;
}

/** The process's own terminal, environment and folder. */
export function processIo(): CommandIo {
  return Object.assign(processTerminal(), { env: process.env, cwd: process.cwd() });
}

/** A run's output, line by line, on its terminal. */
export const printer = (io: Terminal) => ({
  log: (text: string) => io.stdout.write(`${text}\n`),
  error: (text: string) => io.stderr.write(`${text}\n`),
});

export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The program could not be started (not on the PATH). */
  readonly error?: Error;
}

export interface ChildOptions {
  /** Written to the program's stdin, which is then closed (closed at once without it). */
  readonly stdin?: string | undefined;
  /** Echo what the program writes to stdout / stderr on the terminal. @default true for both */
  readonly echo?: { readonly stdout: boolean; readonly stderr: boolean };
}

/** Starts `argv`; `exited` resolves (never rejects) with its whole output, `stop` sends SIGTERM. */
export function startChild(
  io: CommandIo,
  argv: readonly string[],
  options: ChildOptions = {},
): { readonly exited: Promise<ChildExit>; stop(): void } {
  const echo = options.echo ?? { stdout: true, stderr: true };
  // stdin is always a pipe, ended at once when there is nothing to send: the program sees EOF.
  const child = spawn(argv[0] ?? "", argv.slice(1), {
    cwd: io.cwd,
    env: io.env,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    if (echo.stdout) io.stdout.write(chunk);
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
    if (echo.stderr) io.stderr.write(chunk);
  });
  // A program may exit before reading all of stdin; that shows in its exit code, not as EPIPE here.
  child.stdin.on("error", () => {});
  child.stdin.end(options.stdin);
  const exited = new Promise<ChildExit>((resolve) => {
    child.on("error", (error) => resolve({ code: null, signal: null, stdout, stderr, error }));
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { exited, stop: () => child.kill("SIGTERM") };
}

/** Why `argv`'s run failed, for a step's report: it did not start, or its exit and last stderr line. */
export function exitReport(argv: readonly string[], exit: ChildExit): string {
  if (exit.error) return `${exit.error.message} (is ${argv[0]} on the PATH?)`;
  const last = exit.stderr.trim().split("\n").pop();
  return `exited with ${exit.signal ?? `code ${exit.code}`}${last ? `: ${last}` : ""}`;
}
