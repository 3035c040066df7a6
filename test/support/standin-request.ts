/**
 * The `kubectl` and `aws` commands the stand-ins put on a runbook's PATH (standin-shim.js), and
 * what they post: the command's arguments, and its standard input when it reads one. Shared by
 * the cluster stand-in's and the AWS stand-in's servers.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
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
