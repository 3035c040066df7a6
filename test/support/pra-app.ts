/** Running the pra-app CLI and service the way users do, and making SQLite files for them. */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import Database from "better-sqlite3";
import { freePort } from "./postgres";

export const REPO_ROOT = join(__dirname, "..", "..");
export const PRA_APP_BIN = join(REPO_ROOT, "node_modules", ".bin", "pra-app");

export interface CliRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The JSON summary line on stdout. */
  json(): Record<string, unknown>;
}

/** The environment of a run: the caller's, without DB settings that would leak in from outside. */
export function cleanEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of ["DB_PATH", "DATABASE_URL", "BACKUP_DIR", "PORT", "EXPORT_BUCKET"])
    delete env[key];
  return { ...env, ...extra };
}

function cliRun(status: number | null, stdout: string, stderr: string): CliRun {
  return {
    status,
    stdout,
    stderr,
    json: () => summaryLine(stdout, stderr),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The one JSON object a command prints on stdout; `stderr` is shown when there is not exactly one. */
export function summaryLine(stdout: string, stderr = ""): Record<string, unknown> {
  const lines = stdout.trim().split("\n");
  const parsed: unknown = lines.length === 1 ? JSON.parse(lines[0] ?? "") : undefined;
  if (!isRecord(parsed))
    throw new Error(`expected one JSON object line on stdout, got:\n${stdout}\n${stderr}`);
  return parsed;
}

/** `pra-app <args>` as a separate process, through the installed bin. */
export function spawnPraApp(
  args: readonly string[],
  env: Record<string, string | undefined> = {},
  timeoutMs = 60_000,
): CliRun {
  // A command that should have ended (a serve that should have refused to start) is killed, not
  // waited for: its status is then null.
  const result = spawnSync(PRA_APP_BIN, args, {
    encoding: "utf8",
    env: cleanEnv(env),
    cwd: REPO_ROOT,
    timeout: timeoutMs,
  });
  return cliRun(result.status, result.stdout, result.stderr);
}

/**
 * `pra-app <args>` run in this process (the same `runCli` the bin calls), capturing stdout, stderr and
 * the exit code; much faster than a process per case. Tests of the bin itself use `spawnPraApp`.
 */
export async function runPraApp(
  args: readonly string[],
  env: Record<string, string | undefined> = {},
): Promise<CliRun> {
  const { runCli } = await import("../../apps/pra-app/src/cli");
  const savedEnv = process.env;
  let stdout = "";
  let stderr = "";
  const capture = (sink: (text: string) => void) =>
    ((chunk: string | Uint8Array) => {
      sink(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString());
      return true;
    }) as typeof process.stdout.write;
  const out = jest.spyOn(process.stdout, "write").mockImplementation(
    capture((text) => {
      stdout += text;
    }),
  );
  const err = jest.spyOn(process.stderr, "write").mockImplementation(
    capture((text) => {
      stderr += text;
    }),
  );
  process.env = cleanEnv({ LOG_LEVEL: "warn", ...env });
  try {
    const status = await runCli(["node", "pra-app", ...args]);
    return cliRun(status, stdout, stderr);
  } finally {
    process.env = savedEnv;
    out.mockRestore();
    err.mockRestore();
  }
}

export interface TempDir {
  readonly path: string;
  join(...parts: string[]): string;
  remove(): void;
}

export function tempDir(prefix = "pra-app-"): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return {
    path,
    join: (...parts) => join(path, ...parts),
    remove: () => rmSync(path, { recursive: true, force: true }),
  };
}

/** A database as the service makes it (WAL mode, the events table) holding `rows` events "event-<n>". */
export function makeAppDatabase(path: string, rows: number, messageBytes = 20): void {
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  try {
    db.pragma("journal_mode = WAL");
    db.exec(`CREATE TABLE IF NOT EXISTS events (
      id INTEGER PRIMARY KEY AUTOINCREMENT, message TEXT NOT NULL,
      created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))`);
    const insert = db.prepare("INSERT INTO events (message) VALUES (?)");
    const pad = "x".repeat(Math.max(0, messageBytes - 12));
    db.transaction(() => {
      const start = (db.prepare("SELECT count(*) AS n FROM events").get() as { n: number }).n;
      for (let i = start + 1; i <= start + rows; i++)
        insert.run(`event-${i}${pad ? `-${pad}` : ""}`);
    })();
  } finally {
    db.close();
  }
}

/** The event ids in a database file, ascending. */
export function eventIds(path: string): number[] {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare("SELECT id FROM events ORDER BY id").all() as { id: number }[]).map(
      (row) => row.id,
    );
  } finally {
    db.close();
  }
}

export interface RunningService {
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything the process wrote on stderr (its logs) so far. */
  logs(): string;
  /** SIGTERM, then the exit code; SIGKILL after 10 s. */
  stop(): Promise<number | null>;
}

/** Starts `pra-app serve` on a free port and waits until /health answers. */
export async function startService(
  env: Record<string, string | undefined>,
): Promise<RunningService> {
  const port = await freePort();
  const child = spawn(PRA_APP_BIN, ["serve"], {
    env: cleanEnv({ ...env, PORT: String(port) }),
    cwd: REPO_ROOT,
  });
  let logs = "";
  child.stderr.on("data", (chunk: Buffer) => {
    logs += chunk.toString();
  });
  // "close" comes after the process exited and its output streams ended, so `logs` is complete.
  const exited = new Promise<number | null>((resolveExit) =>
    child.once("close", (code) => resolveExit(code)),
  );
  const url = `http://127.0.0.1:${port}`;
  const service: RunningService = {
    url,
    child,
    logs: () => logs,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`pra-app serve exited with ${await exited}:\n${logs}`);
    try {
      const response = await fetch(`${url}/health`);
      if (response.ok) return service;
    } catch {
      // not listening yet
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 100));
  }
  await service.stop();
  throw new Error(`pra-app serve did not answer /health within 20 s:\n${logs}`);
}

/** What PRA_TEST_STOP_AT makes the app print on stderr once it waits at that step. */
export const STOPPED_AT_MARKER = "pra-test-stopped-at";

export interface StoppedRun {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (null when killed by a signal) once the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Runs `pra-app <args>` with PRA_TEST_STOP_AT=<step> and resolves once the process waits at that
 * step, so that a test can kill it there. Rejects when the process ends without reaching it.
 */
export function spawnStoppedAt(
  args: readonly string[],
  env: Record<string, string | undefined>,
  step: string,
): Promise<StoppedRun> {
  const child = spawn(PRA_APP_BIN, args, {
    env: cleanEnv({ ...env, PRA_TEST_STOP_AT: step }),
    cwd: REPO_ROOT,
  });
  let stdout = "";
  let stderr = "";
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
    (resolveExit) => child.once("close", (code, signal) => resolveExit({ code, signal })),
  );
  const run: StoppedRun = { child, stdout: () => stdout, stderr: () => stderr, exited };
  return new Promise((resolveStopped, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes(`${STOPPED_AT_MARKER} ${step}`)) resolveStopped(run);
    });
    void exited.then(({ code }) =>
      reject(new Error(`pra-app ${args.join(" ")} exited (${code}) before ${step}:\n${stderr}`)),
    );
  });
}

/** SIGKILL, and wait until the process is gone. */
export async function killHard(run: StoppedRun): Promise<void> {
  run.child.kill("SIGKILL");
  await run.exited;
}

export interface SmallFilesystem {
  readonly path: string;
  /** Fills the filesystem until fewer than `leaveBytes` are free; returns the filler's path. */
  fill(leaveBytes: number): string;
  freeBytes(): number;
  unmount(): void;
}

/**
 * A tmpfs of `sizeBytes` at `path` (made if missing): a volume that really fills up. Needs root
 * (the CI container runs as root); anywhere else it fails with the reason rather than skipping.
 */
export function mountSmallFilesystem(path: string, sizeBytes: number): SmallFilesystem {
  mkdirSync(path, { recursive: true });
  const mount = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${sizeBytes}`, "tmpfs", path], {
    encoding: "utf8",
  });
  if (mount.status !== 0) {
    throw new Error(
      `this test mounts a ${sizeBytes}-byte tmpfs at ${path} and needs root: ${mount.stderr}`,
    );
  }
  let mounted = true;
  const freeBytes = () => {
    const stats = statfsSync(path);
    return stats.bavail * stats.bsize;
  };
  return {
    path,
    freeBytes,
    fill(leaveBytes) {
      const filler = join(path, `filler-${Date.now()}`);
      const size = Math.max(0, freeBytes() - leaveBytes);
      writeFileSync(filler, Buffer.alloc(size));
      return filler;
    },
    unmount() {
      if (!mounted) return;
      mounted = false;
      const result = spawnSync("umount", ["-l", path], { encoding: "utf8" });
      if (result.status !== 0) throw new Error(`umount ${path} failed: ${result.stderr}`);
    },
  };
}
