/** `npm run check`, run as a user runs it. */
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { copyProject, type ProjectCopy } from "../support/project-copy";

const ROOT = join(__dirname, "..", "..");
let project: ProjectCopy;

beforeAll(() => {
  project = copyProject();
  for (const stack of ["lab", "prod"])
    copyFileSync(join(ROOT, `Pulumi.${stack}.yaml`), join(project.dir, `Pulumi.${stack}.yaml`));
  project.writeStack("thin", {
    "aws:region": "eu-west-3",
    "pra:topology": "target",
    "pra:drRegion": "eu-central-1",
    "pra:drStrategy": "pilot-light",
  });
});
afterAll(() => project.remove());

test("passes for a stack whose objectives hold", () => {
  const result = project.run("npm", ["run", "--silent", "check", "--", "--stack", "prod"]);
  expect(result.status).toBe(0);
  expect(result.stdout).toContain(
    "Pulumi.prod.yaml: every declared objective holds (RPO 15m, RTO 1h;",
  );
});

test("fails for a plan that keeps more RDS snapshots than the account's quota allows", () => {
  project.writeStack("hourly", {
    "aws:region": "eu-west-3",
    "pra:topology": "target",
    "pra:drRegion": "eu-central-1",
    "pra:drStrategy": "warm-standby",
    "pra:retention": "14d",
  });
  const result = project.run("npm", ["run", "--silent", "check", "--", "--stack", "hourly"]);
  expect(result.status).toBe(1);
  expect(result.stderr).toContain("Pulumi.hourly.yaml: the plan exceeds an account quota:");
  expect(result.stderr).toContain("Fix: raise it to at least 337 in both Regions");
});

test("fails, naming the scenario, both figures and the fix, for one whose objectives cannot hold", () => {
  const result = project.run("npm", [
    "run",
    "--silent",
    "check",
    "--",
    "--stack",
    "thin",
    "--stack",
    "lab",
  ]);
  expect(result.status).toBe(1);
  expect(result.stdout).toContain("Pulumi.lab.yaml: every declared objective holds");
  expect(result.stderr).toContain("Pulumi.thin.yaml: the declared objectives cannot be met:");
  expect(result.stderr).toContain(
    "Pulumi.thin.yaml: region-loss: RPO declared 15m (pra:rpo), achievable 20m. " +
      "How: fail over to pilot-light in eu-central-1;",
  );
  expect(result.stderr).toContain(
    "Fix: pra:drStrategy: warm-standby, or a longer pra:rpo or pra:rto, or remove region-loss from pra:drScenarios.",
  );
});

test("--json: one document with each stack's verdict, the same as the text's", () => {
  project.writeStack("typo", { "pra:topology": "lab", "pra:rpoo": "5m" });
  const result = project.run("npm", [
    "run",
    "--silent",
    "check",
    "--",
    "--json",
    "--stack",
    "thin",
    "--stack",
    "lab",
    "--stack",
    "typo",
  ]);
  expect(result.status).toBe(1);
  expect(result.stderr).toBe("");
  const report: unknown = JSON.parse(result.stdout);
  const scenario: unknown = expect.stringContaining("Pulumi.thin.yaml: region-loss: RPO declared");
  const key: unknown = expect.any(String);
  const violations: unknown = expect.arrayContaining([
    { scenario: "region-loss", message: scenario },
  ]);
  expect(report).toMatchObject({
    ok: false,
    stacks: [
      {
        stack: "thin",
        ok: false,
        objectives: { rpo: "15m" },
        violations,
      },
      { stack: "lab", file: "Pulumi.lab.yaml", ok: true, violations: [], quotaProblems: [] },
      { stack: "typo", ok: false, settingsProblems: [{ key: "pra:rpoo", message: key }] },
    ],
  });
});
