/**
 * A RECORDING STAND-IN for the AWS CLI, for replaying the failover runbook (nothing here calls
 * AWS): an `aws` executable on the runbook's PATH (standin-shim.js) sends each call here, where it is
 * recorded and answered by `answer`, the test's model of the few AWS behaviours the runbook relies
 * on. A call the model does not know fails, as an unknown command would.
 */
import { serveShim } from "./standin-request";

export interface AwsCall {
  readonly argv: readonly string[];
  readonly stdin?: string;
}

export interface AwsAnswer {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface AwsStandin {
  readonly calls: AwsCall[];
  /** PATH with the stand-in's `aws` first, and its URL. */
  env(base?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  close(): Promise<void>;
}

/** `aws <service> <command>`, and a flag's value. */
export function commandOf(argv: readonly string[]): string {
  return argv.slice(0, 2).join(" ");
}

export function flag(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

export async function startAwsStandin(answer: (call: AwsCall) => AwsAnswer): Promise<AwsStandin> {
  const calls: AwsCall[] = [];
  const command = await serveShim("aws", 255, ({ argv, stdin }) => {
    const call: AwsCall = stdin === undefined ? { argv } : { argv, stdin };
    calls.push(call);
    return answer(call);
  });
  return { calls, env: command.env, close: command.close };
}
