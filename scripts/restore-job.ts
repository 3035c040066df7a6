/**
 * `npm run restore-job -- --stack lab (--point app-1700000000.db | --before <time>) [--out <dir>]`:
 * writes a restore Job for a chosen restore point, to apply by hand (docs/runbooks/lab-restore.md).
 * The file goes to restore-jobs/<stack>/, outside dist/: `npm run synth` deletes and rewrites
 * dist/, and a chosen-point Job written there would be gone before it is applied.
 * The arguments are checked before anything is written: a point that is not an
 * `app-<unix-seconds>.db` name, or a time that is neither unix seconds nor an ISO 8601 time with
 * its zone, is bad usage (exit 2), as for `npm run restore`.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { restorePointTime } from "../charts/constructs/restore-point";
import { restoreJobYaml } from "../charts/stacks";
import { loadStack } from "../config";
import { restoreJobFile } from "../dr/lab-restore-runbook";
import { beforeSeconds, defineCommand, EXIT_OK, runCommand, stackName, UsageError } from "./cli";

const command = defineCommand({
  name: "npm run restore-job",
  synopsis:
    "-- --stack <stack> (--point app-<unix-seconds>.db | --before <ISO time or unix seconds>) " +
    "[--out <dir>]",
  details: [
    "Writes restore-jobs/<stack>/restore-<point>.k8s.yaml (or into --out) and prints its path.",
  ],
  options: {
    stack: { type: "string" },
    point: { type: "string" },
    before: { type: "string" },
    out: { type: "string" },
  },
});

runCommand(command, ({ values }) => {
  const stack = stackName(values.stack);
  if ((values.point === undefined) === (values.before === undefined))
    throw new UsageError("one of --point or --before is required");
  if (values.point !== undefined) {
    try {
      restorePointTime(values.point);
    } catch (error) {
      throw new UsageError(error instanceof Error ? error.message : String(error));
    }
  }
  const before = values.before === undefined ? undefined : beforeSeconds(values.before);
  const config = loadStack(stack, process.cwd());
  if (config.topology !== "lab")
    throw new UsageError(
      `stack ${stack} has the ${config.topology} topology: its restores use AWS tools ` +
        "(docs/aws-target.md)",
    );
  const yaml = restoreJobYaml(config, values.point, before);
  const planned = restoreJobFile(
    config,
    before === undefined ? { point: values.point ?? "" } : { before },
  );
  if (planned === undefined) throw new Error("no restore point chosen");
  const file = values.out === undefined ? planned : join(values.out, basename(planned));
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, yaml);
  console.log(file);
  return EXIT_OK;
});
