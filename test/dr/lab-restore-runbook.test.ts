/** dr/lab-restore-runbook.ts: the restore steps as data, built from the charts, before anything runs them. */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { restoreJobYaml, synthStack, writeRestoreJob } from "../../charts/stacks";
import { type LabConfig, loadStack } from "../../config";
import {
  checkRestoreLog,
  labRestoreSteps,
  rerunCommand,
  shellLine,
} from "../../dr/lab-restore-runbook";

const ROOT = join(__dirname, "..", "..");
const stack = loadStack("lab", ROOT);
if (stack.topology !== "lab") throw new Error("Pulumi.lab.yaml is not a lab stack");
const lab: LabConfig = stack;
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "pra-runbook-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("the applied Job is exactly what synth and restore-job write", () => {
  synthStack(lab, join(dir, "lab"));
  expect(restoreJobYaml(lab)).toBe(
    readFileSync(join(dir, "lab", "ops", "lab-restore.k8s.yaml"), "utf8"),
  );
  const file = writeRestoreJob(lab, "app-1700000000.db", join(dir, "ops"));
  expect(restoreJobYaml(lab, "app-1700000000.db")).toBe(readFileSync(file, "utf8"));
});

test("names, namespace and timeouts come from the stack", () => {
  const config: LabConfig = {
    ...lab,
    namespace: "drill",
    objectives: { ...lab.objectives, rtoSeconds: 120 },
  };
  const steps = labRestoreSteps(config, { context: "kind-drill" });
  for (const step of steps) {
    expect(step.argv.slice(0, 5)).toEqual(["kubectl", "--context", "kind-drill", "-n", "drill"]);
    expect(step.appIfFailed).not.toBe("");
  }
  const waits = steps.filter((step) => step.argv.some((arg) => arg.startsWith("--timeout=")));
  expect(waits.map((step) => step.id)).toEqual([
    "wait-app-gone",
    "wait-claim-released",
    "delete-previous-restore",
    "wait-restore",
    "wait-app-ready",
  ]);
  for (const step of waits) expect(step.argv).toContain("--timeout=120s");
  expect(steps.find((step) => step.id === "apply-restore")?.stdin).toContain("namespace: drill");
});

test("a point that is not a restore point's file name is refused", () => {
  expect(() => labRestoreSteps(lab, { point: "../x.db" })).toThrow(
    'restore point "../x.db" refused',
  );
});

describe("checkRestoreLog", () => {
  const summary = (fields: object) =>
    `skipped app-2.db: bad\n${JSON.stringify({ command: "restore", ok: true, timestamp: 1700000000, ...fields })}\n`;

  test("names the point restored, and any skipped", () => {
    expect(
      checkRestoreLog(summary({ restored: "app-1.db", skipped: [{ file: "app-2.db" }] })),
    ).toEqual({
      ok: true,
      message:
        'restored app-1.db (taken 2023-11-14T22:13:20.000Z); skipped as invalid: [{"file":"app-2.db"}]',
    });
  });

  test("refuses a log without a summary, or with another point than the chosen one", () => {
    expect(checkRestoreLog("Error: no restore point\n").ok).toBe(false);
    expect(checkRestoreLog(summary({ restored: "app-1.db" }), "app-3.db")).toEqual({
      ok: false,
      message: "app-1.db was restored, not the chosen app-3.db",
    });
  });
});

test("commands print as shell lines that read back unchanged", () => {
  expect(shellLine(["kubectl", "-p", `{"a":1}`, "it's"])).toBe(`kubectl -p '{"a":1}' 'it'\\''s'`);
  expect(rerunCommand(lab, { point: "app-1.db", context: "kind lab" })).toBe(
    "npm run restore -- --stack lab --point app-1.db --context 'kind lab'",
  );
});

describe("one runbook per lab scenario", () => {
  const ids = (options: Parameters<typeof labRestoreSteps>[1]) =>
    labRestoreSteps(lab, options).map((step) => step.id);

  test("a lost claim is waited for and recreated; an operator error restores onto the intact one", () => {
    expect(ids({})).toEqual(
      expect.arrayContaining(["check-claim", "wait-claim-released", "recreate-claim"]),
    );
    expect(ids({ point: "app-1700000000.db" })).not.toContain("recreate-claim");
    expect(ids({ scenario: "backup-volume-loss" })).toEqual([
      "check-claim",
      "scale-app-down",
      "wait-app-gone",
      "wait-claim-released",
      "recreate-claim",
      "scale-app-up",
      "wait-app-ready",
      "delete-previous-backup",
      "run-backup",
      "wait-backup",
      "verify-backup",
    ]);
  });

  test("the recreated claim is the synthesized one, and only it", () => {
    synthStack(lab, join(dir, "claims"));
    const synced = readFileSync(join(dir, "claims", "0001-lab.k8s.yaml"), "utf8");
    const recreate = labRestoreSteps(lab).find((step) => step.id === "recreate-claim");
    expect(recreate?.stdin).toContain("kind: PersistentVolumeClaim\nmetadata:");
    expect(recreate?.stdin).not.toContain("Deployment");
    expect(synced).toContain(recreate?.stdin?.replace(/\n$/, "").split("\n").slice(1).join("\n"));
  });

  test("--before restores the newest point at or before a time, and its log is checked", () => {
    const before = 1700000100;
    const apply = labRestoreSteps(lab, { before }).find((step) => step.id === "apply-restore");
    expect(apply?.stdin).toBe(restoreJobYaml(lab, undefined, before));
    expect(apply?.stdin).toContain('- --before\n            - "1700000100"');
    const log = (timestamp: number) =>
      JSON.stringify({ command: "restore", ok: true, restored: `app-${timestamp}.db`, timestamp });
    expect(checkRestoreLog(log(1700000000), undefined, before).ok).toBe(true);
    expect(checkRestoreLog(log(1700000200), undefined, before)).toEqual({
      ok: false,
      message: "app-1700000200.db was restored, which is not from before 2023-11-14T22:15:00.000Z",
    });
  });

  test("choices that do not fit the scenario are refused", () => {
    expect(() => labRestoreSteps(lab, { scenario: "operator-error" })).toThrow(
      "operator-error needs --point or --before",
    );
    expect(() => labRestoreSteps(lab, { point: "app-1.db", before: 1 })).toThrow(
      "--point and --before are alternatives",
    );
    expect(() => labRestoreSteps(lab, { scenario: "backup-volume-loss", before: 1 })).toThrow(
      "backup-volume-loss restores nothing",
    );
  });
});
