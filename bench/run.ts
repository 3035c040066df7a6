/**
 * `npm run bench [-- <filter>]`: runs every bench/*.bench.ts in turn, each in its own process so
 * that one suite's warm caches do not flatter the next. `npm run bench -- synth` runs only the
 * suites whose name contains "synth". Exit 1 when a suite misses one of its targets (it prints
 * OVER TARGET on that line) or fails; 2 on bad usage (a filter that matches no suite).
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { defineCommand, EXIT_FAILED, EXIT_OK, runCommand, UsageError } from "../scripts/cli";

const all = readdirSync(__dirname)
  .filter((name) => name.endsWith(".bench.ts"))
  .sort();

const command = defineCommand({
  name: "npm run bench",
  synopsis: "[-- <filter>]",
  details: [
    `Runs the benchmark suites (${all.join(", ")}), or those whose name contains <filter>.`,
    "Exit 1 when a suite misses a target (OVER TARGET) or fails.",
  ],
  options: {},
  allowPositionals: true,
});

runCommand(command, ({ positionals }) => {
  if (positionals.length > 1) throw new UsageError("at most one filter");
  const [filter] = positionals;
  const suites = all.filter((name) => filter === undefined || name.includes(filter));
  if (suites.length === 0) throw new UsageError(`no suite matches "${filter}"`);
  let failed = 0;
  for (const suite of suites) {
    console.log(`\n== ${suite}`);
    const result = spawnSync(process.execPath, ["--require", "tsx/cjs", join(__dirname, suite)], {
      stdio: "inherit",
    });
    if (result.status !== 0) failed++;
  }
  return failed > 0 ? EXIT_FAILED : EXIT_OK;
});
