/**
 * A throwaway PostgreSQL server for tests: initdb into a temp dir, started on a free loopback port,
 * stopped (and its files removed) by `stop()`. PostgreSQL refuses to run as root, so as root the server
 * runs as `nobody`, owning its temp dir.
 */
import { execFileSync, spawnSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  rmSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "pg";

export interface PostgresServer {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  readonly url: string;
  readonly binDir: string;
  /** A fresh, empty database's URL. */
  createDatabase(name: string): Promise<string>;
  stop(): void;
}

const NOBODY = 65534;

/** The newest PostgreSQL's bin dir under /usr/lib/postgresql (Debian's layout). */
export function postgresBinDir(): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((name) => existsSync(join(root, name, "bin", "initdb")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) throw new Error(`no PostgreSQL server binaries under ${root}/*/bin`);
  return join(root, versions[0]!, "bin");
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

function asServerUser(command: string, args: string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [command, args];
  return [
    "setpriv",
    [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", command, ...args],
  ];
}

export interface PostgresOptions {
  /**
   * Serve TLS with this certificate and key (PEM files), on `localhost` too, so a client can check
   * the certificate's name as verify-full does. @default plain TCP on 127.0.0.1
   */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
}

export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresServer> {
  const binDir = postgresBinDir();
  const dir = mkdtempSync(join(tmpdir(), "pra-pg-"));
  const dataDir = join(dir, "data");
  if (process.getuid?.() === 0) chownSync(dir, NOBODY, NOBODY);
  const run = (tool: string, args: string[]) => {
    const [command, fullArgs] = asServerUser(join(binDir, tool), args);
    const result = spawnSync(command, fullArgs, { encoding: "utf8", cwd: dir });
    if (result.status !== 0) throw new Error(`${tool} failed: ${result.stderr || result.stdout}`);
  };
  const port = await freePort();
  run("initdb", ["-D", dataDir, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"]);
  let tls = "";
  if (options.tls) {
    // The server reads them as its own user, and refuses a key others can read.
    const cert = join(dir, "server.crt");
    const key = join(dir, "server.key");
    copyFileSync(options.tls.certFile, cert);
    copyFileSync(options.tls.keyFile, key);
    chmodSync(key, 0o600);
    if (process.getuid?.() === 0) for (const file of [cert, key]) chownSync(file, NOBODY, NOBODY);
    tls = ` -c ssl=on -c ssl_cert_file=${cert} -c ssl_key_file=${key}`;
  }
  const listen = options.tls ? "localhost" : "127.0.0.1";
  const serverOptions =
    `-p ${port} -k ${dir} -c listen_addresses=${listen} -c fsync=off -c full_page_writes=off` + tls;
  run("pg_ctl", [
    "-D",
    dataDir,
    "-l",
    join(dir, "server.log"),
    "-o",
    serverOptions,
    "-w",
    "-t",
    "30",
    "start",
  ]);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let stopped = false;
  return {
    url,
    binDir,
    async createDatabase(name) {
      const client = new Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${name}"`);
      } finally {
        await client.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    stop() {
      if (stopped) return;
      stopped = true;
      try {
        const [command, args] = asServerUser(join(binDir, "pg_ctl"), [
          "-D",
          dataDir,
          "-m",
          "immediate",
          "-w",
          "stop",
        ]);
        execFileSync(command, args, { stdio: "ignore", cwd: dir });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
