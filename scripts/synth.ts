/**
 * The cdk8s app (`npm run synth`): dist/<stack>/ for every Pulumi.<stack>.yaml. Every stack is
 * checked first, its settings and then its objectives against what its design provides
 * (dr/assess.ts); one problem anywhere stops synthesis with every problem listed.
 */
import { join } from "node:path";
import { ConfigError, listStacks, loadStack, type PraConfig } from "../config";
import { assess } from "../dr/assess";
import { prepareStack, writeStack } from "../charts/stacks";

const outdir = process.env.CDK8S_OUTDIR ?? "dist";
const configs: PraConfig[] = [];
const problems: string[] = [];
// Stack files are read from where `cdk8s synth` runs: the project folder holding cdk8s.yaml.
for (const stack of listStacks(process.cwd())) {
  try {
    configs.push(loadStack(stack, process.cwd()));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(error.message);
  }
}
const prepared = configs.map((config) => prepareStack(config, join(outdir, config.stack)));
for (const { config, objects } of prepared) {
  const { violations } = assess(config, objects);
  if (violations.length > 0) {
    problems.push(
      `${config.file}: the declared objectives cannot be met:\n${violations.map((v) => `  ${v.message}`).join("\n")}`,
    );
  }
}
if (problems.length > 0) {
  console.error(`synth stopped: fix these settings first.\n${problems.join("\n")}`);
  process.exit(1);
}
for (const stack of prepared) writeStack(stack);
