import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { restorePointTime } from "../../charts/constructs/restore-point";
import { writeRestoreJob } from "../../charts/stacks";
import { configOf } from "../support/manifests";

describe("restore point names", () => {
  test("app-<unix-seconds>.db gives its time", () => {
    expect(restorePointTime("app-1700000000.db")).toBe(1700000000);
  });

  test.each([
    [
      "../app-1700000000.db",
      "it is a path, and a restore point is a file name inside the backup directory",
    ],
    [
      "/backup/app-1700000000.db",
      "it is a path, and a restore point is a file name inside the backup directory",
    ],
    ["..", "it is a path, and a restore point is a file name inside the backup directory"],
    ["app-latest.db", "it is not of the form app-<unix-seconds>.db"],
    ["app-1700000000.db.bak", "it is not of the form app-<unix-seconds>.db"],
    ["app-1700000000.db-wal", "it is not of the form app-<unix-seconds>.db"],
    ["app-.db", "it is not of the form app-<unix-seconds>.db"],
    ["", "it is not of the form app-<unix-seconds>.db"],
  ])("%j is refused: %s", (name, reason) => {
    expect(() => restorePointTime(name)).toThrow(
      `restore point ${JSON.stringify(name)} refused: ${reason}`,
    );
  });

  test("a refused point writes no Job", () => {
    const dir = mkdtempSync(join(tmpdir(), "pra-ops-"));
    try {
      expect(() =>
        writeRestoreJob(configOf({ topology: "lab" }), "../../x.db", join(dir, "ops")),
      ).toThrow(/refused/);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
