/** The committed generated documents are current, and say what users rely on. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { generatedDocuments } from "../../dr/documents";

const ROOT = join(__dirname, "..", "..");
const documents = generatedDocuments(ROOT);

test("there is a report for every committed stack, and the settings reference", () => {
  expect([...documents.keys()].sort()).toEqual([
    "docs/configuration.md",
    "docs/dr/lab.md",
    "docs/dr/prod.md",
    "docs/dr/staging.md",
  ]);
});

test.each([...documents.keys()])(
  "%s is what the code generates (run npm run docs after a change)",
  (path) => {
    expect(readFileSync(join(ROOT, path), "utf8")).toBe(documents.get(path));
  },
);

describe("the prod report", () => {
  const report = documents.get("docs/dr/prod.md")!;

  test("states the objectives and that they hold", () => {
    expect(report).toContain("| recovery point (RPO) | 15m | `pra:rpo` |");
    expect(report).toContain("**Every declared objective is met** (`npm run check` passes).");
  });

  test("has a scenario row with figures, mode and people's time", () => {
    expect(report).toMatch(
      /\| The primary region \(eu-west-3\) is lost \(`region-loss`\) \| 7m30s \| \d+m(\d+s)? \| yes \| manual \| \d+ person-min \| fail over to warm-standby in eu-central-1 \|/,
    );
  });

  test("draws the topology from the deployed objects and the cloud design", () => {
    expect(report).toContain("```mermaid\nflowchart TB");
    expect(report).toContain('subgraph dr["eu-central-1 (DR: warm-standby)"]');
    expect(report).toContain(
      'ExternalSecret_pra_database -. "DATABASE_URL" .-> Deployment_pra_app',
    );
    expect(report).toContain('bucket -. "replication: RTC 15m" .-> drBucket');
  });

  test("gives the exact commands, with the stack's names, for each manual recovery", () => {
    expect(report).toContain("### region-loss: The primary region (eu-west-3) is lost");
    // The failover is npm run failover: its steps, and the dry run that prints their commands with
    // the names from the stack's outputs (test/dr/failover-runbook.test.ts checks those).
    expect(report).toContain("npm run failover -- --stack prod --dry-run");
    expect(report).toContain("Promote pra-prod-dr to a standalone, writable instance");
    expect(report).toContain("Add the DR cluster to the kubeconfig as context pra-prod-dr");
  });
});

test("the lab report's restore runbook is the executable one", () => {
  const report = documents.get("docs/dr/lab.md")!;
  expect(report).toContain("# all steps at once: npm run restore -- --stack lab");
  expect(report).toContain("kubectl -n pra scale deployment/pra-app --replicas=0");
  expect(report).toContain(
    "| Both volumes are lost (they share one node's disk) (`both-volumes-loss`) | none (no recovery point survives)",
  );
});

test("the settings reference lists every key with what it expects", () => {
  const reference = documents.get("docs/configuration.md")!;
  expect(reference).toContain(
    "| `pra:rpo` | lab, target | a duration such as 90s, 5m, 1h30m or 7d " +
      "(the recovery point objective) | per topology |",
  );
  expect(reference).toContain(
    '| `pra:dataVolumeSize` | lab | a Kubernetes storage quantity of at least 1Mi, such as 200Mi or 5Gi | `"200Mi"` |',
  );
  expect(reference).toContain(
    '| `pra:drStrategy` | target | pilot-light or warm-standby | `"pilot-light"` |',
  );
});
