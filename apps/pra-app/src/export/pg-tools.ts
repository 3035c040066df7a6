/**
 * Running pg_dump and pg_restore without putting the password on a command line (where `ps` shows it):
 * the URL goes without its password, which travels in PGPASSWORD.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";

/**
 * PostgreSQL's programs (the clients, and the server the restore test runs): from PG_BIN_DIR when set
 * (the image sets it; the tests use the local server's), else from PATH.
 */
export function pgTool(
  name: "pg_dump" | "pg_restore" | "initdb" | "pg_ctl",
  env: NodeJS.ProcessEnv = process.env,
): string {
  return env.PG_BIN_DIR ? join(env.PG_BIN_DIR, name) : name;
}

export interface LibpqConnection {
  /** The URL without its password. */
  readonly url: string;
  readonly env: NodeJS.ProcessEnv;
}

export function libpqConnection(databaseUrl: string, caFile: string | undefined): LibpqConnection {
  const url = new URL(databaseUrl);
  const password = decodeURIComponent(url.password);
  url.password = "";
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (password) env.PGPASSWORD = password;
  if (caFile && !url.searchParams.has("sslrootcert")) {
    env.PGSSLROOTCERT = caFile;
    if (!url.searchParams.has("sslmode")) env.PGSSLMODE = "verify-full";
  }
  return { url: url.toString(), env };
}

export interface ToolRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a tool to completion, collecting its output (for small outputs such as `pg_restore --list`). */
export function runTool(
  command: string,
  args: readonly string[],
  env?: NodeJS.ProcessEnv,
): Promise<ToolRun> {
  return new Promise((resolveRun) => {
    const child = spawn(command, args, {
      env: env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.once("error", (error) =>
      resolveRun({ code: null, stdout, stderr: `${stderr}${error.message}` }),
    );
    child.once("close", (code) => resolveRun({ code, stdout, stderr }));
  });
}
