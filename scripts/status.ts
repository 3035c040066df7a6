/**
 * `npm run status -- --stack <stack> [--context <kube context>] [--alertmanager <url>] [--json]`:
 * the stack's state during an incident (dr/status.ts): the app's readiness, the newest restore
 * point and its age against the RPO (on a target, against the export cadence: RDS holds the RPO),
 * the last backup (export) and restore-test Jobs, suspended CronJobs, firing alerts. Exit 0 when
 * nothing needs attention, 1 when something does or kubectl cannot read the cluster, 2 on bad
 * usage. It only reads.
 */
import { spawn } from "node:child_process";
import { loadStack } from "../config";
import { type CommandOutcome, readAlerts, stackStatus, statusText } from "../dr/status";
import { defineCommand, EXIT_FAILED, EXIT_OK, runCommand, stackName } from "./cli";

const command = defineCommand({
  name: "npm run status",
  synopsis: "-- --stack <stack> [--context <kube context>] [--alertmanager <url>] [--json]",
  details: [
    "Reads the stack's namespace through kubectl (nothing is changed) and says what needs",
    "attention. --alertmanager reads the firing alerts (after a kubectl port-forward).",
    "Exit 0 when all is well, 1 when something needs attention or the cluster cannot be read.",
  ],
  options: {
    stack: { type: "string" },
    context: { type: "string" },
    alertmanager: { type: "string" },
    json: { type: "boolean" },
  },
});

function run(argv: readonly string[]): Promise<CommandOutcome> {
  return new Promise((resolve) => {
    const child = spawn("kubectl", argv, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.once("error", (error) =>
      resolve({ code: 127, stdout, stderr: `${error.message} (is kubectl on the PATH?)` }),
    );
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

runCommand(command, async ({ values }) => {
  const config = loadStack(stackName(values.stack), process.cwd());
  const scope = [
    ...(values.context !== undefined ? ["--context", values.context] : []),
    "-n",
    config.namespace,
  ];
  const status = await stackStatus(config, (args) => run([...scope, ...args]), {
    nowSeconds: Math.floor(Date.now() / 1000),
    alerts: await readAlerts(values.alertmanager, config.namespace),
  });
  console.log(values.json ? JSON.stringify(status, null, 2) : statusText(status));
  return status.ok ? EXIT_OK : EXIT_FAILED;
});
