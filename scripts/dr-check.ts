/**
 * `npm run check [-- --stack <stack>] [--json]`: checks each stack's settings and its declared
 * objectives against what its design provides (dr/assess.ts). Exit 0 when every objective holds,
 * 1 when one does not (or a setting is invalid, or the plan exceeds an account quota), 2 on bad
 * usage. `--json` prints one document with every stack's result on stdout instead of the text.
 */
import { ConfigError, formatDuration, listStacks, loadStack } from "../config";
import { assess } from "../dr/assess";
import { describeSelection } from "../dr/backup-selection";
import { credentialProblems, describeRotation } from "../dr/credentials";
import { quotaProblems } from "../dr/quotas";
import { defineCommand, EXIT_FAILED, EXIT_OK, runCommand, stackName } from "./cli";

const command = defineCommand({
  name: "npm run check",
  synopsis: "[-- --stack <stack> ...] [--json]",
  details: [
    "Checks each stack's settings and objectives (every stack file without --stack).",
    "  --json   one JSON document on stdout: { ok, stacks: [{ stack, file, ok, ... }] }",
  ],
  options: { stack: { type: "string", multiple: true }, json: { type: "boolean" } },
});

/** One stack's result, as `--json` prints it. */
export interface StackCheck {
  readonly stack: string;
  readonly file: string;
  readonly ok: boolean;
  /** The settings' problems, when the stack file does not parse. */
  readonly settingsProblems: readonly { key: string; message: string }[];
  readonly objectives?: { rpo: string; rto: string; scenarios: readonly string[] };
  readonly violations: readonly { scenario: string; message: string }[];
  readonly quotaProblems: readonly string[];
  /** What AWS Backup selects (the target only). */
  readonly backupSelection?: string;
  /** How the database credentials rotate and reach the pods (the target only). */
  readonly credentialRotation?: string;
  readonly credentialProblems: readonly string[];
}

function checkStack(stack: string): StackCheck {
  let config;
  try {
    config = loadStack(stack, process.cwd());
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return {
      stack,
      file: error.file,
      ok: false,
      settingsProblems: error.problems.map(({ key, message }) => ({ key, message })),
      violations: [],
      quotaProblems: [],
      credentialProblems: [],
    };
  }
  const { violations, facts } = assess(config);
  const quotas = quotaProblems(config);
  const credentials =
    facts.topology === "target" && config.topology === "target"
      ? credentialProblems(config, facts.credentials)
      : [];
  const o = config.objectives;
  return {
    stack,
    file: config.file,
    ok: violations.length === 0 && quotas.length === 0 && credentials.length === 0,
    settingsProblems: [],
    objectives: {
      rpo: formatDuration(o.rpoSeconds),
      rto: formatDuration(o.rtoSeconds),
      scenarios: o.scenarios,
    },
    violations: violations.map(({ scenario, message }) => ({ scenario, message })),
    quotaProblems: quotas,
    credentialProblems: credentials,
    ...(facts.topology === "target"
      ? {
          backupSelection: describeSelection(facts.backupSelection),
          credentialRotation: describeRotation(facts.credentials),
        }
      : {}),
  };
}

function printText(check: StackCheck): void {
  if (check.settingsProblems.length > 0)
    console.error(new ConfigError(check.file, check.settingsProblems).message);
  if (check.backupSelection !== undefined)
    console.log(`${check.file}: AWS Backup selects ${check.backupSelection}`);
  if (check.credentialRotation !== undefined)
    console.log(`${check.file}: ${check.credentialRotation}`);
  for (const problem of check.credentialProblems) console.error(problem);
  if (check.quotaProblems.length > 0) {
    console.error(`${check.file}: the plan exceeds an account quota:`);
    for (const problem of check.quotaProblems) console.error(`  ${problem}`);
  }
  if (!check.objectives) return;
  if (check.violations.length === 0) {
    const o = check.objectives;
    console.log(
      `${check.file}: every declared objective holds (RPO ${o.rpo}, RTO ${o.rto}; ` +
        `${o.scenarios.join(", ")})`,
    );
  } else {
    console.error(`${check.file}: the declared objectives cannot be met:`);
    for (const violation of check.violations) console.error(`  ${violation.message}`);
  }
}

runCommand(command, ({ values }) => {
  const stacks = values.stack?.map((stack) => stackName(stack)) ?? listStacks(process.cwd());
  const checks = stacks.map(checkStack);
  const ok = checks.every((check) => check.ok);
  if (values.json) console.log(JSON.stringify({ ok, stacks: checks }, null, 2));
  else checks.forEach(printText);
  return ok ? EXIT_OK : EXIT_FAILED;
});
