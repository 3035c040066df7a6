/** `npm run drill`: a short real drill passes within the lab's objectives, and the verdict catches loss. */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { z } from "zod";
import { loadStack } from "../../../config";
import { analyzeDrill } from "../../../scripts/drill-analysis";
import { modelFigures } from "../../../scripts/drill-alerting";
import { REPO_ROOT } from "../../support/pra-app";

test("a short drill restores, measures RPO and RTO within the lab's objectives, and exits 0", () => {
  const drillDirsBefore = readdirSync(tmpdir()).filter((name) =>
    name.startsWith("pra-drill-"),
  ).length;
  const run = spawnSync(
    process.execPath,
    ["--import", "tsx", "scripts/drill.ts", "--duration", "3", "--interval", "1"],
    {
      cwd: REPO_ROOT,
      encoding: "utf8",
      timeout: 150_000,
    },
  );
  // On failure, show everything the drill said.
  expect({ status: run.status, stderr: run.stderr, stdout: run.stdout }).toMatchObject({
    status: 0,
    stderr: "",
  });
  const { rpoSeconds, rtoSeconds } = loadStack("lab").objectives;
  expect(run.stdout).toMatch(
    new RegExp(
      `RPO measured: [\\d.]+ s, \\d+ acknowledged rows lost \\(objective ${rpoSeconds} s\\) ok`,
    ),
  );
  expect(run.stdout).toMatch(
    new RegExp(`RTO measured: [\\d.]+ s .* \\(objective ${rtoSeconds} s\\) ok`),
  );
  // A real Prometheus and Alertmanager ran the lab's rules and routes: the first alert and page.
  const lab = loadStack("lab");
  if (lab.topology !== "lab") throw new Error("lab is a lab stack");
  const model = modelFigures(lab);
  expect(run.stdout).toMatch(
    new RegExp(
      "time to alert measured: PraAppNotScraped fired [\\d.]+ s after the disaster, paged the " +
        `webhook at [\\d.]+ s \\(model: fires within ${model.firesWithinSeconds} s, pages within ` +
        `${model.pagedWithinSeconds} s\\)`,
    ),
  );
  const result = z
    .object({ backups: z.number(), acknowledged: z.number() })
    .passthrough()
    .parse(JSON.parse(run.stdout.trim().split("\n").at(-1) ?? ""));
  expect(result).toMatchObject({ drill: "pass", stack: "lab", lost_before_last_backup: 0 });
  expect(result.backups).toBeGreaterThanOrEqual(1);
  expect(result.acknowledged).toBeGreaterThan(0);
  // Its temp dir is gone.
  expect(
    readdirSync(tmpdir()).filter((name) => name.startsWith("pra-drill-")).length,
  ).toBeLessThanOrEqual(drillDirsBefore);
}, 150_000);

describe("the drill's verdict", () => {
  const acked = [1, 2, 3, 4, 5].map((id) => ({ id, ackedAtMs: id * 1000 }));

  test("writes newer than the last backup may be lost; RPO runs from the newest survivor to the disaster", () => {
    const verdict = analyzeDrill({
      acked,
      backupStartsMs: [3500],
      disasterAtMs: 6000,
      firstReadAtMs: 7500,
      restoredIds: new Set([1, 2, 3]),
    });
    expect(verdict).toMatchObject({
      rowsLost: 2,
      rpoSeconds: 3,
      rtoSeconds: 1.5,
      lostBeforeLastBackup: 0,
    });
  });

  test("a write acknowledged before the last successful backup and missing after the restore is flagged", () => {
    const verdict = analyzeDrill({
      acked,
      backupStartsMs: [4500],
      disasterAtMs: 6000,
      firstReadAtMs: 7000,
      restoredIds: new Set([1, 2, 3]),
    });
    expect(verdict.lostBeforeLastBackup).toBe(1);
  });

  test("nothing lost means an RPO of 0", () => {
    const verdict = analyzeDrill({
      acked,
      backupStartsMs: [5500],
      disasterAtMs: 6000,
      firstReadAtMs: 6100,
      restoredIds: new Set([1, 2, 3, 4, 5]),
    });
    expect(verdict).toMatchObject({ rowsLost: 0, rpoSeconds: 0, lostBeforeLastBackup: 0 });
  });
});
