/**
 * `npm run restore-job -- --stack lab --point app-1700000000.db`: writes a restore Job for a
 * chosen restore point into dist/<stack>/ops/, to apply by hand (see the README's runbook).
 * The point is checked before anything is written: only `app-<unix-seconds>.db` names.
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { writeRestoreJob } from "../charts/stacks";
import { loadStack } from "../config";

const usage =
  "usage: npm run restore-job -- --stack <stack> --point app-<unix-seconds>.db [--out <dir>]";

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

function main(): number {
  let values: { stack?: string; point?: string; out?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        stack: { type: "string" },
        point: { type: "string" },
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
  if (!values.stack || !values.point) {
    console.error(`--stack and --point are required\n${usage}`);
    return 2;
  }
  try {
    const config = loadStack(values.stack, process.cwd());
    const file = writeRestoreJob(
      config,
      values.point,
      values.out ?? join("dist", values.stack, "ops"),
    );
    console.log(file);
    return 0;
  } catch (error) {
    console.error(messageOf(error));
    return 1;
  }
}

process.exitCode = main();
