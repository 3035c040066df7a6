/** Account quotas against the plan (dr/quotas.ts): what `npm run check` refuses, and why. */
import type { TargetConfig } from "../../config";
import { RDS_MANUAL_SNAPSHOT_QUOTA } from "../../dr/figures";
import { quotaProblems, rdsSnapshotsKept } from "../../dr/quotas";
import { configOf } from "../support/manifests";

const TARGET = {
  "aws:region": "eu-west-3",
  topology: "target",
  drRegion: "eu-central-1",
};

function target(values: Record<string, unknown>): TargetConfig {
  const config = configOf({ ...TARGET, ...values });
  if (config.topology !== "target") throw new Error("expected a target");
  return config;
}

test("AWS's default quota is 100 manual DB instance snapshots per Region", () => {
  expect(RDS_MANUAL_SNAPSHOT_QUOTA.count).toBe(100);
});

test("hourly snapshots kept 14 days are 337 per Region, refused under the default quota", () => {
  const prod = target({ rpo: "15m", retention: "14d" });
  expect(rdsSnapshotsKept(prod)).toBe(14 * 24 + 1);
  expect(quotaProblems(prod)).toEqual([
    expect.stringContaining(
      "AWS Backup keeps up to 337 RDS snapshots in eu-west-3 and as many copies in eu-central-1 " +
        "(one every 1h for 14d, plus the one being taken), more than the quota 'Manual DB " +
        "instance snapshots' allows: AWS's default (100,",
    ),
  ]);
});

test("a declared raise that covers the plan passes; one that does not is named", () => {
  expect(quotaProblems(target({ rpo: "15m", retention: "14d", rdsSnapshotQuota: 337 }))).toEqual(
    [],
  );
  expect(quotaProblems(target({ rpo: "15m", retention: "14d", rdsSnapshotQuota: 336 }))).toEqual([
    expect.stringContaining("allows: 336 (pra:rdsSnapshotQuota). Fix: raise it to at least 337"),
  ]);
});

test("a plan within the default passes: 3 days of hourly snapshots, or 14 days of 4-hourly ones", () => {
  expect(rdsSnapshotsKept(target({ rpo: "1h", retention: "3d" }))).toBe(73);
  expect(quotaProblems(target({ rpo: "1h", retention: "3d" }))).toEqual([]);
  expect(rdsSnapshotsKept(target({ rpo: "4h", retention: "14d" }))).toBe(85);
  expect(quotaProblems(target({ rpo: "4h", retention: "14d" }))).toEqual([]);
});

test("the lab takes no RDS snapshot", () => {
  expect(quotaProblems(configOf({ topology: "lab" }))).toEqual([]);
});
