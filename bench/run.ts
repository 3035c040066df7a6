/**
 * `npm run bench`: runs every bench/*.bench.ts in turn, each in its own process so that one
 * suite's warm caches do not flatter the next. `npm run bench -- synth` runs only the suites
 * whose name contains "synth".
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";

const filter = process.argv[2];
const suites = readdirSync(__dirname)
  .filter((name) => name.endsWith(".bench.ts") && (!filter || name.includes(filter)))
  .sort();
let failed = 0;
for (const suite of suites) {
  console.log(`\n== ${suite}`);
  const result = spawnSync(process.execPath, ["--require", "tsx/cjs", join(__dirname, suite)], {
    stdio: "inherit",
  });
  if (result.status !== 0) failed++;
}
process.exit(failed > 0 ? 1 : 0);
