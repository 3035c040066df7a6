/**
 * `npm run synth`: dist/<stack>/ for every Pulumi.<stack>.yaml. Every stack is checked first, its
 * settings and then its objectives against what its design provides (dr/assess.ts); one problem
 * anywhere stops synthesis with every problem listed, exit 1, and dist/ is left as it was.
 *
 * npm runs this file itself rather than through cdk8s-cli (`cdk8s synth`, which cdk8s.yaml still
 * serves): cdk8s-cli answers an app's exit 1 with its own stack trace under the message, and
 * empties dist/ before the app has checked anything.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, listStacks, loadStack, type PraConfig } from "../config";
import { assess } from "../dr/assess";
import { prepareStack, writeStack } from "../charts/stacks";
import { defineCommand, EXIT_FAILED, EXIT_OK, runCommand } from "./cli";

const command = defineCommand({
  name: "npm run synth",
  synopsis: "",
  details: [
    "Checks every stack file, then writes dist/<stack>/ for each (dist/ is replaced whole).",
    "Exit 1, with every problem listed and dist/ untouched, when a stack's settings or objectives",
    "do not hold. CDK8S_OUTDIR names another output folder.",
  ],
  options: {},
});

runCommand(command, () => {
  const outdir = process.env.CDK8S_OUTDIR ?? "dist";
  const configs: PraConfig[] = [];
  const problems: string[] = [];
  // Stack files are read from where synth runs: the project folder holding cdk8s.yaml.
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
        `${config.file}: the declared objectives cannot be met:\n` +
          violations.map((v) => `  ${v.message}`).join("\n"),
      );
    }
  }
  if (problems.length > 0) {
    console.error(`synth stopped: fix these settings first.\n${problems.join("\n")}`);
    return EXIT_FAILED;
  }
  // A stack file removed since the last synth leaves no folder behind for a GitOps tool to sync.
  rmSync(outdir, { recursive: true, force: true });
  for (const stack of prepared) {
    const files = writeStack(stack);
    console.log(`${stack.outdir}/: ${files.length} files`);
  }
  return EXIT_OK;
});
