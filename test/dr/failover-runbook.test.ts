/**
 * The failover and failback plans of prod (warm standby) and staging (pilot light), built from
 * the names the Pulumi program exports under mocks (test/infra/harness.ts): `npm run failover
 * -- --dry-run` reads the same `failover` output a real `pulumi stack output --json` holds, so a
 * plan that prints a placeholder, or a name the stack does not create, fails here.
 */
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadStack, type TargetConfig } from "../../config";
import { DR_PARTS } from "../../config/dr-design";
import { type FailoverTargets, failoverTargetsSchema } from "../../config/failover-targets";
import {
  failoverManifests,
  failoverSeconds,
  failoverSteps,
  missingParts,
  withHost,
} from "../../dr/failover-runbook";
import { evaluateProgram, pulumiConfigOf } from "../infra/harness";
import { REPO_ROOT, tempDir, type TempDir } from "../support/pra-app";

const stacks = ["prod", "staging"] as const;
type Stack = (typeof stacks)[number];
const targets = new Map<Stack, FailoverTargets>();
const configs = new Map<Stack, TargetConfig>();
let dir: TempDir;

function configOf(stack: Stack): TargetConfig {
  const config = loadStack(stack, REPO_ROOT);
  if (config.topology !== "target") throw new Error(`${stack} is not a target stack`);
  return config;
}

beforeAll(async () => {
  dir = tempDir("pra-failover-plan-");
  for (const stack of stacks) {
    const run = await evaluateProgram(stack, pulumiConfigOf(stack));
    const output = run.outputs.failover;
    expect(output?.secret).toBe(false);
    targets.set(stack, failoverTargetsSchema.parse(output?.value));
    configs.set(stack, configOf(stack));
    writeFileSync(
      join(dir.path, `${stack}.json`),
      JSON.stringify(Object.fromEntries(Object.entries(run.outputs).map(([k, v]) => [k, v.value]))),
    );
  }
}, 120_000);

afterAll(() => dir.remove());

const get = <T>(map: Map<Stack, T>, stack: Stack): T => {
  const value = map.get(stack);
  if (value === undefined) throw new Error(`no ${stack}`);
  return value;
};

function failover(args: readonly string[]) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ["--require", "tsx/cjs", "scripts/failover.ts", ...args],
      { cwd: REPO_ROOT, timeout: 60_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** `$NAME` tokens: values only the run knows, each captured by an earlier step (or its start). */
const runtimeTokens = (text: string) => [...new Set(text.match(/\$[A-Z_]+/g) ?? [])].sort();

describe.each(stacks)("%s", (stack) => {
  test("the dry run prints a complete failover plan with the stack's real names", async () => {
    const t = get(targets, stack);
    const { code, stdout, stderr } = await failover([
      "--stack",
      stack,
      "--dry-run",
      "--outputs",
      join(dir.path, `${stack}.json`),
    ]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    // Names the stack determines: every one printed as AWS computed it, none as a placeholder.
    expect(stdout).not.toMatch(/<[a-z][^>]*>|\(output\)|undefined/);
    const names = [
      t.drCluster.name,
      t.database.drIdentifier,
      t.secret.drArn,
      t.serviceName.zoneId,
      t.serviceName.record,
      t.exportBucket,
    ];
    for (const name of names) expect(stdout).toContain(name);
    expect(t.secret.drArn).toMatch(new RegExp(`^arn:aws:secretsmanager:${t.drRegion}:`));
    expect(t.exportBucket).toBe(`pra-${stack}-exports-123456789012-${t.drRegion}`);
    // The only values left open are the ones a step captures while it runs.
    expect(runtimeTokens(stdout)).toEqual(
      ["$CHANGE_ID", "$DB_HOST", "$LB_HOST", "$SECRET", "$STARTED"].sort(),
    );
    expect(stdout).toMatch(/the steps add up to \d+m/);
  });

  test("the failback has its own dry run, re-seeding the primary from the DR region", async () => {
    const t = get(targets, stack);
    const { code, stdout } = await failover([
      "--stack",
      stack,
      "--failback",
      "--dry-run",
      "--outputs",
      join(dir.path, `${stack}.json`),
    ]);
    expect(code).toBe(0);
    expect(stdout).not.toMatch(/<[a-z][^>]*>|\(output\)|undefined/);
    expect(stdout).toContain(
      `create-db-instance-read-replica --db-instance-identifier pra-${stack}`,
    );
    expect(stdout).toContain(
      `--source-db-instance-identifier arn:aws:rds:${t.drRegion}:123456789012:db:${t.database.drIdentifier}`,
    );
    for (const name of [
      t.primary.subnetGroupName,
      t.primary.securityGroupId,
      t.primary.parameterGroupName,
      t.primary.kmsKeyArn,
      t.primary.secretArn,
    ])
      expect(stdout).toContain(name);
    expect(stdout).toContain("Afterwards, by hand:");
  });

  test("every part the failover needs is declared by the stack's DR design", () => {
    const steps = failoverSteps(
      get(configs, stack),
      get(targets, stack),
      failoverManifests(get(configs, stack)),
    );
    expect(missingParts(steps, get(targets, stack).parts)).toEqual([]);
    for (const step of steps) expect(step.standsIfFailed).not.toBe("");
  });
});

test("prod promotes its replica; staging restores into the landing zone kept ready, resizing its nodes", () => {
  const prod = failoverSteps(
    get(configs, "prod"),
    get(targets, "prod"),
    failoverManifests(get(configs, "prod")),
  );
  const staging = failoverSteps(
    get(configs, "staging"),
    get(targets, "staging"),
    failoverManifests(get(configs, "staging")),
  );
  const ids = (steps: typeof prod) => steps.map((step) => step.id);
  expect(ids(prod)).toContain("promote-replica");
  expect(ids(prod)).not.toContain("restore-database");
  expect(ids(staging)).toContain("restore-database");
  const s = get(targets, "staging");
  const restore = staging.find((step) => step.id === "restore-database");
  expect(restore?.argv).toEqual(
    expect.arrayContaining([
      s.database.automatedBackupsArn,
      s.database.subnetGroupName,
      s.database.securityGroupId,
      s.database.parameterGroupName,
      s.database.kmsKeyArn,
    ]),
  );
  expect(s.database.subnetGroupName).toBe("pra-staging-dr-subnets");
  expect(s.database.securityGroupId).toMatch(/^sg-/);
  // Staging's DR node groups run 1 node in the first zone only: the second is resized to the primary's.
  const resized = staging.filter((step) => step.id.startsWith("scale-nodes-"));
  const groupOf = (argv: readonly string[]) => argv[argv.indexOf("--nodegroup-name") + 1];
  expect(resized.map((step) => groupOf(step.argv))).toEqual([s.drCluster.nodeGroups[1]?.name]);
  // prod's figure: the promotion, the switch and the rest; staging's: the restore dominates.
  expect(failoverSeconds(prod)).toBeLessThan(failoverSeconds(staging));
});

test("the secret is rewritten with the new host only, and its other fields unchanged", () => {
  const secret = JSON.stringify({
    username: "pra_admin",
    password: "s3cr3t",
    host: "old",
    port: 5432,
  });
  expect(JSON.parse(withHost(secret, "new.example"))).toEqual({
    username: "pra_admin",
    password: "s3cr3t",
    host: "new.example",
    port: 5432,
  });
  expect(() => withHost(secret, "")).toThrow("no database host was captured");
});

test("outputs without the failover names are refused, naming what is missing", async () => {
  const file = join(dir.path, "old.json");
  writeFileSync(file, JSON.stringify({ clusterName: "pra-prod" }));
  const { code, stderr } = await failover(["--stack", "prod", "--dry-run", "--outputs", file]);
  expect(code).toBe(2);
  expect(stderr).toMatch(/no usable failover output/);
});

test("a DR region that lacks a part the failover needs is refused, naming the part", async () => {
  const t = get(targets, "prod");
  const file = join(dir.path, "lacking.json");
  writeFileSync(
    file,
    JSON.stringify({ failover: { ...t, parts: t.parts.filter((p) => p !== "secret-replica") } }),
  );
  const { code, stderr } = await failover(["--stack", "prod", "--dry-run", "--outputs", file]);
  expect(code).toBe(2);
  expect(stderr).toContain("lacks what the failover needs: secret-replica");
  expect(DR_PARTS).toContain("secret-replica");
});

test("without the Pulumi CLI and without --outputs, the command says how to give the outputs", async () => {
  const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ["--require", "tsx/cjs", "scripts/failover.ts", "--stack", "prod", "--dry-run"],
      { cwd: REPO_ROOT, env: { ...process.env, PATH: "/nonexistent" } },
      (error, _stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stderr }),
    );
  });
  expect(code).toBe(2);
  expect(stderr).toContain("pass the stack's outputs with --outputs <file>");
});
