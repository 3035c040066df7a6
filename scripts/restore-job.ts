/**
 * `npm run restore-job -- --stack lab (--point app-1700000000.db | --before <time>) [--out <dir>]`:
 * writes a restore Job for a chosen restore point, to apply by hand (docs/runbooks/lab-restore.md).
 * The file goes to restore-jobs/<stack>/, outside dist/: `npm run synth` deletes and rewrites
 * dist/, and a chosen-point Job written there would be gone before it is applied.
 * The point is checked before anything is written: only `app-<unix-seconds>.db` names.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { restoreJobYaml } from "../charts/stacks";
import { loadStack } from "../config";
import { restoreJobFile } from "../dr/lab-restore-runbook";

const usage =
  "usage: npm run restore-job -- --stack <stack> " +
  "(--point app-<unix-seconds>.db | --before <unix seconds>) [--out <dir>]";

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

function main(): number {
  let values: { stack?: string; point?: string; before?: string; out?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        stack: { type: "string" },
        point: { type: "string" },
        before: { type: "string" },
        out: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    console.error(`${messageOf(error)}\n${usage}`);
    return 2;
  }
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (!values.stack || (values.point === undefined) === (values.before === undefined)) {
    console.error(`--stack and one of --point or --before are required\n${usage}`);
    return 2;
  }
  if (values.before !== undefined && !/^\d+$/.test(values.before)) {
    console.error(`--before takes unix seconds, got "${values.before}"\n${usage}`);
    return 2;
  }
  try {
    const config = loadStack(values.stack, process.cwd());
    if (config.topology !== "lab") throw new Error(`stack ${config.stack} restores with AWS tools`);
    const before = values.before === undefined ? undefined : Number(values.before);
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
    return 0;
  } catch (error) {
    console.error(messageOf(error));
    return 1;
  }
}

process.exitCode = main();
