/** What AWS Backup selects is read from what the stack deploys (dr/backup-selection.ts). */
import { ApiObject, Testing } from "cdk8s";
import { PLATFORM } from "../../charts/constructs/names";
import type { TargetConfig } from "../../config";
import { assess } from "../../dr/assess";
import { backupSelectionOf, describeSelection } from "../../dr/backup-selection";
import { renderReport } from "../../dr/report";
import { configOf, synthCharts, synthStackInMemory } from "../support/manifests";

function targetOf(values: Record<string, unknown>): TargetConfig {
  const config = configOf(values, "prod");
  if (config.topology !== "target") throw new Error("expected a target");
  return config;
}

const prod = targetOf({ topology: "target", "aws:region": "eu-west-3", drRegion: "eu-central-1" });

test("the target's own objects: the database only, no volume (it claims none)", () => {
  const selection = backupSelectionOf(prod, synthStackInMemory(prod).synced);
  expect(selection).toEqual({ database: "pra-prod", volumeClaims: [] });
  expect(describeSelection(selection)).toBe(
    "the RDS instance `pra-prod` and no EBS volume (the target deploys no PersistentVolumeClaim)",
  );
});

test("a claim that holds data is selected; scratch claims are not", () => {
  const chart = Testing.chart();
  const claim = (name: string, storageClassName?: string) =>
    new ApiObject(chart, name, {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name },
      spec: {
        accessModes: ["ReadWriteOnce"],
        resources: { requests: { storage: "10Gi" } },
        ...(storageClassName ? { storageClassName } : {}),
      },
    });
  claim("prometheus-data");
  claim("scratch", PLATFORM.scratchStorageClass);
  expect(backupSelectionOf(prod, synthCharts([chart])).volumeClaims).toEqual(["prometheus-data"]);
});

test("the DR report says what is backed up, from the same selection", () => {
  const report = renderReport(assess(prod));
  expect(report).toContain(
    "AWS Backup snapshots the RDS instance `pra-prod` and no EBS volume (the target deploys no " +
      "PersistentVolumeClaim) every 1h, keeps them 14d and copies them to the eu-central-1 vault",
  );
});
