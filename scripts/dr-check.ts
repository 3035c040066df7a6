/**
 * `npm run check [-- --stack <stack>]`: checks each stack's settings and its declared objectives
 * against what its design provides (dr/assess.ts). Exit 0 when every objective holds, 1 when one
 * does not (or a setting is invalid), 2 on bad usage.
 */
import { parseArgs } from "node:util";
import { ConfigError, formatDuration, listStacks, loadStack } from "../config";
import { assess } from "../dr/assess";
import { describeSelection } from "../dr/backup-selection";
import { quotaProblems } from "../dr/quotas";

const usage = "usage: npm run check [-- --stack <stack>]";

function main(): number {
  let stacks: string[];
  try {
    const { values } = parseArgs({ options: { stack: { type: "string", multiple: true } } });
    stacks = values.stack ?? listStacks(process.cwd());
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n${usage}`);
    return 2;
  }
  let failed = 0;
  for (const stack of stacks) {
    try {
      const config = loadStack(stack, process.cwd());
      const { violations, facts } = assess(config);
      if (facts.topology === "target") {
        console.log(
          `${config.file}: AWS Backup selects ${describeSelection(facts.backupSelection)}`,
        );
      }
      const quotas = quotaProblems(config);
      if (quotas.length > 0) {
        failed++;
        console.error(`${config.file}: the plan exceeds an account quota:`);
        for (const problem of quotas) console.error(`  ${problem}`);
      }
      if (violations.length === 0) {
        const o = config.objectives;
        console.log(
          `${config.file}: every declared objective holds (RPO ${formatDuration(o.rpoSeconds)}, ` +
            `RTO ${formatDuration(o.rtoSeconds)}; ${o.scenarios.join(", ")})`,
        );
      } else {
        failed++;
        console.error(`${config.file}: the declared objectives cannot be met:`);
        for (const violation of violations) console.error(`  ${violation.message}`);
      }
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      failed++;
      console.error(error.message);
    }
  }
  return failed > 0 ? 1 : 0;
}

process.exitCode = main();
