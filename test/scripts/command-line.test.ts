/**
 * The command-line convention (scripts/cli.ts), held by every npm script and by pra-app: run as
 * npm runs them (each script's command line read from package.json), `--help` prints the usage and
 * exits 0, an unknown option prints the reason and the usage and exits 2 having done nothing,
 * `--version` prints the project's version. The runs go in parallel: one process each.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PRA_APP_BIN, REPO_ROOT } from "../support/pra-app";

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(command: string, args: readonly string[]): Promise<Run> {
  return new Promise((resolve) =>
    execFile(command, args, { cwd: REPO_ROOT, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

const manifest: unknown = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8"));
const scriptsOf = (value: unknown): Record<string, string> => {
  const scripts =
    typeof value === "object" && value !== null && "scripts" in value ? value.scripts : {};
  return Object.fromEntries(
    Object.entries(typeof scripts === "object" && scripts !== null ? scripts : {}).filter(
      (entry): entry is [string, string] => typeof entry[1] === "string",
    ),
  );
};
const version =
  typeof manifest === "object" && manifest !== null && "version" in manifest
    ? String(manifest.version)
    : "";
const LAUNCHER = "node --require tsx/cjs ";
/** The project's own commands: every npm script that runs one of its TypeScript files. */
const COMMANDS = Object.entries(scriptsOf(manifest))
  .filter(([, line]) => line.startsWith(LAUNCHER))
  .map(([name, line]) => ({ name, file: line.slice(LAUNCHER.length) }));

const runScript = (file: string, args: readonly string[]) =>
  run(process.execPath, ["--require", "tsx/cjs", file, ...args]);

const results = new Map<string, Run>();
beforeAll(async () => {
  await Promise.all([
    ...COMMANDS.flatMap(({ name, file }) => [
      runScript(file, ["--help"]).then((r) => results.set(`${name} --help`, r)),
      runScript(file, ["--no-such-option"]).then((r) => results.set(`${name} --bad`, r)),
    ]),
    runScript("scripts/dr-check.ts", ["--version"]).then((r) => results.set("check --version", r)),
    run(PRA_APP_BIN, ["--version"]).then((r) => results.set("pra-app --version", r)),
    run(PRA_APP_BIN, ["--no-such-option"]).then((r) => results.set("pra-app --bad", r)),
    // One bad restore point, given to the three commands that take one.
    runScript("scripts/restore-job.ts", ["--stack", "lab", "--point", "x"]).then((r) =>
      results.set("restore-job --point x", r),
    ),
    runScript("scripts/restore-runbook.ts", ["--stack", "lab", "--point", "x", "--dry-run"]).then(
      (r) => results.set("restore --point x", r),
    ),
    run(PRA_APP_BIN, ["restore", "--point", "x"]).then((r) =>
      results.set("pra-app restore --point x", r),
    ),
  ]);
}, 90_000);

const result = (key: string): Run => {
  const found = results.get(key);
  if (!found) throw new Error(`no run ${key}`);
  return found;
};

test("every documented command is covered", () => {
  expect(COMMANDS.map((c) => c.name).sort()).toEqual(
    expect.arrayContaining([
      "bench",
      "check",
      "docs",
      "drill",
      "failover",
      "restore",
      "restore-job",
      "status",
      "synth",
    ]),
  );
});

describe.each(COMMANDS.map((c) => [c.name]))("npm run %s", (name) => {
  test("--help prints the usage on stdout and exits 0", () => {
    const help = result(`${name} --help`);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain(`usage: npm run ${name}`);
    expect(help.stdout).toContain("exit 0 done, 1 failed, 2 bad usage");
  });

  test("an unknown option: the reason and the usage on stderr, exit 2, no stack trace", () => {
    const bad = result(`${name} --bad`);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("Unknown option '--no-such-option'");
    expect(bad.stderr).toContain(`usage: npm run ${name}`);
    expect(bad.stderr).not.toMatch(/^\s+at /m);
  });
});

test("--version prints the project's version", () => {
  expect(result("check --version")).toEqual({
    code: 0,
    stdout: `check (pra-stack) ${version}\n`,
    stderr: "",
  });
});

test("pra-app follows the same convention: --version, and exit 2 on an unknown option", () => {
  const appVersion: unknown = JSON.parse(
    readFileSync(join(REPO_ROOT, "apps/pra-app/package.json"), "utf8"),
  );
  expect(result("pra-app --version").code).toBe(0);
  expect(result("pra-app --version").stdout.trim()).toBe(
    typeof appVersion === "object" && appVersion !== null && "version" in appVersion
      ? String(appVersion.version)
      : "none",
  );
  expect(result("pra-app --bad").code).toBe(2);
  expect(result("pra-app --bad").stderr).toContain("unknown option '--no-such-option'");
});

test.each(["restore-job", "restore", "pra-app restore"])(
  "%s --point x: a value that cannot name a restore point is bad usage (exit 2), nothing run",
  (command) => {
    const bad = result(`${command} --point x`);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/"?x"? (refused: it )?is not (of the form|a restore point name)/);
    expect(bad.stderr).not.toMatch(/^\s+at /m);
  },
);
