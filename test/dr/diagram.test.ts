/**
 * The generated diagrams (dr/diagram.ts) carry the design's flows on labelled arrows (backup,
 * restore, replication, alerts) and draw the lab's one-node risk. Rendering is checked by hand
 * with Mermaid's CLI (too heavy for the suite: a browser); here, the arrows and what Mermaid's
 * flowchart grammar needs from generated text (every node an arrow names is declared, quotes
 * balanced) are checked.
 */
import { loadStack } from "../../config";
import { assess } from "../../dr/assess";
import { mermaidDiagram } from "../../dr/diagram";
import { REPO_ROOT } from "../support/pra-app";

const diagramOf = (stack: string, alertsTo = "the pager") =>
  mermaidDiagram(assess(loadStack(stack, REPO_ROOT)).facts, { alertsTo });

/** Arrows as `from --label--> to`, whatever their style. */
function arrows(diagram: string): { from: string; label: string; to: string }[] {
  return [...diagram.matchAll(/^\s*(\w+) (?:--|-\.) "([^"]*)" (?:-->|\.->) (\w+)$/gm)].map(
    ([, from = "", label = "", to = ""]) => ({ from, label, to }),
  );
}

describe("the lab", () => {
  const diagram = diagramOf("lab", "webhook hooks.example.com");
  const labelled = arrows(diagram);

  test("backup and restore flows between the claims, labelled", () => {
    expect(labelled).toEqual(
      expect.arrayContaining([
        {
          from: "CronJob_sqlite_backup",
          label: "backup: reads",
          to: "PersistentVolumeClaim_pra_data",
        },
        {
          from: "CronJob_sqlite_backup",
          label: "backup: writes a restore point",
          to: "PersistentVolumeClaim_pra_backup",
        },
        {
          from: "PersistentVolumeClaim_pra_backup",
          label: "restore: reads a point",
          to: "Job_sqlite_restore",
        },
        {
          from: "Job_sqlite_restore",
          label: "restore: writes the database",
          to: "PersistentVolumeClaim_pra_data",
        },
      ]),
    );
  });

  test("the alert flow ends at the stack's receiver", () => {
    expect(labelled).toEqual(
      expect.arrayContaining([
        { from: "alerts", label: "alert: fires", to: "alertmanager" },
        { from: "alertmanager", label: "alert: pages", to: "pager" },
      ]),
    );
    expect(diagram).toContain('pager(["webhook hooks.example.com"])');
  });

  test("both claims on one node's disk: the single-node risk, tied to each claim", () => {
    expect(diagram).toMatch(/risk\{\{"RISK: pra-data and pra-backup on one node .*"\}\}/);
    expect(diagram).toContain("risk -.- PersistentVolumeClaim_pra_data");
    expect(diagram).toContain("risk -.- PersistentVolumeClaim_pra_backup");
  });
});

test.each(["prod", "staging"])("%s: replication and restore flows to the DR region", (stack) => {
  const labels = arrows(diagramOf(stack)).map((a) => `${a.from} ${a.label} ${a.to}`);
  expect(labels).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/^rds replication: .* drDb$/),
      expect.stringMatching(/^bucket replication: RTC \d+m drBucket$/),
      "vault replication: copy drVault",
      "vault restore: snapshot or point in time rds",
      "drDb restore: failover (promote or restore) drEks",
      "alerts alert: fires alertmanager",
    ]),
  );
});

test.each(["lab", "prod", "staging"])(
  "%s: every node an edge names is declared, and every label's quotes are balanced",
  (stack) => {
    const diagram = diagramOf(stack);
    const declared = new Set(
      [...diagram.matchAll(/^\s*(?:subgraph )?(\w+)[[({]/gm)].map((m) => m[1]),
    );
    const named = [...diagram.matchAll(/^\s*(\w+) (?:--|-\.|-\.-)/gm)].map((m) => m[1]);
    const targets = [...diagram.matchAll(/(?:-->|\.->|-\.-) (\w+)$/gm)].map((m) => m[1]);
    for (const id of [...named, ...targets]) expect([id, declared.has(id)]).toEqual([id, true]);
    for (const line of diagram.split("\n"))
      expect([line, (line.match(/"/g) ?? []).length % 2]).toEqual([line, 0]);
  },
);
