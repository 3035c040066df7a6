/**
 * The image can't be built here (no container engine), so this runs the Dockerfile's own build command
 * natively and lays the result out as the runtime stage does (dist/, bin/, package.json, node_modules; no
 * src/), then runs the built CLI through a `pra-app` on PATH, as the Kubernetes manifests do.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import {
  cleanEnv,
  eventIds,
  makeAppDatabase,
  REPO_ROOT,
  summaryLine,
  type TempDir,
  tempDir,
} from "../../support/pra-app";

const APP = join(REPO_ROOT, "apps", "pra-app");
const dockerfile = readFileSync(join(APP, "Dockerfile"), "utf8");
let dir: TempDir;

beforeAll(() => {
  dir = tempDir("pra-image-");
});

afterAll(() => dir.remove());

test("the base image is Node 22 pinned to an exact version and by digest, in both stages", () => {
  expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:22\.\d+\.\d+-[a-z]+-slim@sha256:[a-f0-9]{64}$/m);
  expect(dockerfile.match(/^FROM \$\{NODE_IMAGE\}/gm)).toHaveLength(2);
});

test("the runtime stage runs as 10001:10001 with pra-app on PATH and only /data and /backup made writable", () => {
  const runtime = dockerfile.slice(dockerfile.lastIndexOf("FROM "));
  expect(runtime).toMatch(/^USER 10001:10001$/m);
  expect(runtime).toContain("ln -s /app/apps/pra-app/bin/pra-app.js /usr/local/bin/pra-app");
  expect(runtime).toContain("chown 10001:10001 /data /backup");
  expect(runtime).toMatch(/^CMD \["pra-app", "serve"\]$/m);
  // Production dependencies only: the runtime copies the node_modules of the --omit=dev install.
  expect(dockerfile).toMatch(/npm ci --omit=dev/);
  expect(runtime).not.toMatch(/COPY .*apps\/pra-app\/src/);
});

test("the runtime stage has PostgreSQL 18's pg_dump from the PGDG repository, and uses it", () => {
  const runtime = dockerfile.slice(dockerfile.lastIndexOf("FROM "));
  expect(runtime).toContain("apt-get install -y --no-install-recommends postgresql-client-18");
  expect(runtime).toMatch(
    /signed-by=\S+apt\.postgresql\.org\.asc\] https:\/\/apt\.postgresql\.org\/pub\/repos\/apt bookworm-pgdg main/,
  );
  expect(runtime).toContain("PG_BIN_DIR=/usr/lib/postgresql/18/bin");
});

test("the Dockerfile's build command compiles the app and the built CLI works from PATH", () => {
  const buildRoot = join(dir.path, "src");
  mkdirSync(join(buildRoot, "apps", "pra-app"), { recursive: true });
  for (const name of ["package.json", "tsconfig.json", "src"]) {
    cpSync(join(APP, name), join(buildRoot, "apps", "pra-app", name), { recursive: true });
  }
  // What `npm ci --workspace apps/pra-app` installs: hoisted modules and the workspace's own.
  symlinkSync(join(REPO_ROOT, "node_modules"), join(buildRoot, "node_modules"));
  symlinkSync(join(APP, "node_modules"), join(buildRoot, "apps", "pra-app", "node_modules"));
  const tscCommand = /^RUN (node node_modules\/typescript\/bin\/tsc .+)$/m.exec(dockerfile)?.[1];
  expect(tscCommand).toBeDefined();
  const build = spawnSync("sh", ["-c", tscCommand!], { cwd: buildRoot, encoding: "utf8" });
  expect(build.stderr + build.stdout).toBe("");
  expect(build.status).toBe(0);

  // The runtime stage's layout.
  const app = join(dir.path, "app");
  mkdirSync(join(app, "apps", "pra-app"), { recursive: true });
  symlinkSync(join(REPO_ROOT, "node_modules"), join(app, "node_modules"));
  symlinkSync(join(APP, "node_modules"), join(app, "apps", "pra-app", "node_modules"));
  cpSync(join(buildRoot, "apps", "pra-app", "dist"), join(app, "apps", "pra-app", "dist"), {
    recursive: true,
  });
  cpSync(join(APP, "package.json"), join(app, "apps", "pra-app", "package.json"));
  cpSync(join(APP, "bin"), join(app, "apps", "pra-app", "bin"), { recursive: true });
  expect(existsSync(join(app, "apps", "pra-app", "src"))).toBe(false);
  const pathDir = join(dir.path, "usr-local-bin");
  mkdirSync(pathDir);
  symlinkSync(join(app, "apps", "pra-app", "bin", "pra-app.js"), join(pathDir, "pra-app"));

  const db = join(dir.path, "data", "app.db");
  makeAppDatabase(db, 12);
  const env = cleanEnv({
    PATH: `${pathDir}:${process.env.PATH}`,
    DB_PATH: db,
    BACKUP_DIR: join(dir.path, "backup"),
  });
  const run = (args: string[]) =>
    spawnSync("pra-app", args, { env, cwd: dir.path, encoding: "utf8" });
  expect(run(["--help"]).stdout).toContain("backup");
  const backup = run(["backup", "--keep-last", "3"]);
  expect(backup.status).toBe(0);
  const file = z.object({ file: z.string() }).parse(summaryLine(backup.stdout)).file;
  expect(eventIds(join(dir.path, "backup", file))).toHaveLength(12);
  const verify = run(["verify", "--max-age", "1m"]);
  expect(verify.status).toBe(0);
  expect(summaryLine(verify.stdout)).toMatchObject({ ok: true, file, last_event_id: 12 });
});
