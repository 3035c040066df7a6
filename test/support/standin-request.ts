/**
 * The `kubectl` and `aws` commands the stand-ins put on a runbook's PATH (standin-shim.js), and
 * what they post: the command's arguments, and its standard input when it reads one. Shared by
 * the cluster stand-in's and the AWS stand-in's servers.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface ShimRequest {
  readonly argv: string[];
  readonly stdin?: string;
}

export function parseShimRequest(body: string): ShimRequest {
  const parsed: unknown = JSON.parse(body);
  const argv =
    typeof parsed === "object" && parsed !== null && "argv" in parsed && Array.isArray(parsed.argv)
      ? parsed.argv.filter((a): a is string => typeof a === "string")
      : [];
  const stdin =
    typeof parsed === "object" &&
    parsed !== null &&
    "stdin" in parsed &&
    typeof parsed.stdin === "string"
      ? parsed.stdin
      : undefined;
  return stdin === undefined ? { argv } : { argv, stdin };
}

/** A command put on a PATH of its own, answered by a stand-in's server on loopback. */
export interface ShimCommand {
  readonly binDir: string;
  /** `base` with the command first on PATH and the stand-in's URL set. */
  readonly env: (base?: NodeJS.ProcessEnv) => NodeJS.ProcessEnv;
  readonly remove: () => void;
}

/** The URL variable standin-shim.js reads for each command. */
const URL_VARIABLE = { kubectl: "STANDIN_KUBE_URL", aws: "STANDIN_AWS_URL" } as const;

/** Writes `name` (a wrapper running standin-shim.js) into a new folder, posting to `port`. */
export function installShim(name: keyof typeof URL_VARIABLE, port: number): ShimCommand {
  const binDir = mkdtempSync(join(tmpdir(), `pra-standin-${name}-`));
  const shim = join(__dirname, "standin-shim.js");
  const file = join(binDir, name);
  writeFileSync(file, `#!/bin/sh\nexec "${process.execPath}" "${shim}" ${name} "$@"\n`);
  chmodSync(file, 0o755);
  return {
    binDir,
    env: (base = process.env) => ({
      ...base,
      PATH: `${binDir}:${base.PATH ?? ""}`,
      [URL_VARIABLE[name]]: `http://127.0.0.1:${port}/`,
    }),
    remove: () => rmSync(binDir, { recursive: true, force: true }),
  };
}

/** What a shimmed command prints and exits with. */
export interface ShimReply {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Puts `name` on a PATH of its own and answers its calls on loopback: each call's request to
 * `answer`, whose reply the shim prints. An answer that throws is the command failing with
 * `failureCode` (kubectl 1, the AWS CLI 255); `aborted` fires when the caller was killed (a
 * failure watch stopped once the Job completed), so a wait can stop.
 */
export async function serveShim(
  name: keyof typeof URL_VARIABLE,
  failureCode: number,
  answer: (request: ShimRequest, aborted: AbortSignal) => ShimReply | Promise<ShimReply>,
): Promise<ShimCommand & { readonly close: () => Promise<void> }> {
  const server = createServer((request, response) => {
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => {
      body += chunk;
    });
    request.on("end", () => {
      const aborted = new AbortController();
      response.on("close", () => {
        if (!response.writableEnded) aborted.abort();
      });
      const failed = (error: unknown): ShimReply => ({
        code: failureCode,
        stdout: "",
        stderr: `stand-in failure: ${String(error)}\n`,
      });
      new Promise<ShimReply>((resolve) => resolve(answer(parseShimRequest(body), aborted.signal)))
        .catch(failed)
        .then(
          (reply) => response.end(JSON.stringify(reply)),
          () => response.end(),
        );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const command = installShim(
    name,
    typeof address === "object" && address !== null ? address.port : 0,
  );
  return {
    ...command,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      command.remove();
    },
  };
}
