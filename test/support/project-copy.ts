/**
 * A throwaway copy of the project, to run its commands the way a user does (from the project
 * folder) against stack files a test writes. Code folders and node_modules are linked, not copied.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";

const ROOT = join(__dirname, "..", "..");

export interface ProjectCopy {
  readonly dir: string;
  writeStack(stack: string, config: Record<string, unknown>): void;
  run(
    command: string,
    args: readonly string[],
  ): { status: number | null; stdout: string; stderr: string };
  remove(): void;
}

export function copyProject(): ProjectCopy {
  const dir = mkdtempSync(join(tmpdir(), "pra-project-"));
  for (const name of ["charts", "config", "dr", "scripts", "infra", "apps", "node_modules"]) {
    symlinkSync(join(ROOT, name), join(dir, name));
  }
  for (const name of ["cdk8s.yaml", "package.json", "Pulumi.yaml"])
    copyFileSync(join(ROOT, name), join(dir, name));
  return {
    dir,
    writeStack(stack, config) {
      writeFileSync(join(dir, `Pulumi.${stack}.yaml`), stringify({ config }));
    },
    run(command, args) {
      const result = spawnSync(command, args, {
        cwd: dir,
        encoding: "utf8",
        env: { ...process.env, CI: "true" },
      });
      return { status: result.status, stdout: result.stdout, stderr: result.stderr };
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
