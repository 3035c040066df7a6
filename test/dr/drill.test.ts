/** `npm run drill`: its schedule is the stack's own unless time-scaled, and it refuses what it does not model. */
import { spawnSync } from "node:child_process";
import { loadStack } from "../../config";
import {
  DrillRefused,
  planDrill,
  refuseUnmodelled,
  scaleRpoBack,
} from "../../scripts/drill-analysis";
import { REPO_ROOT } from "../support/pra-app";

const stack = loadStack("lab", REPO_ROOT);
refuseUnmodelled(stack);
const lab = stack;

describe("the drill's plan", () => {
  test("by default it backs up on the stack's own schedule, long enough for two backups", () => {
    const plan = planDrill(lab);
    expect(lab.backup.timing.intervalSeconds).toBe(60);
    expect(plan).toMatchObject({ backupIntervalSeconds: 60, timeScale: 1, durationSeconds: 150 });
    expect(plan.description).toBe("the stack's own schedule: a backup every 60 s");
  });

  test("a time scale shrinks every interval by one factor, and says so", () => {
    const scaled = planDrill(lab, { timeScale: 20, durationSeconds: 4 });
    expect(scaled).toMatchObject({ backupIntervalSeconds: 3, timeScale: 20, durationSeconds: 4 });
    expect(scaled.description).toMatch(
      /^TIME-SCALED x20: a backup every 3 s instead of the stack's 60 s/,
    );
    // --interval is the same thing, said as the interval it wants.
    expect(planDrill(lab, { intervalSeconds: 1 })).toMatchObject({ timeScale: 60 });
    expect(() => planDrill(lab, { timeScale: 0.5 })).toThrow("must be at least 1");
  });

  test("the target is refused: its recovery is RDS's, which the drill does not model", () => {
    expect(() => refuseUnmodelled(loadStack("prod", REPO_ROOT))).toThrow(DrillRefused);
  });

  test("a time-scaled RPO scales the wait for the next backup, not the backup's own run", () => {
    expect(scaleRpoBack(1.5, 60, [400, 500])).toBeCloseTo(1 * 60 + 0.5);
    expect(scaleRpoBack(0, 60, [500])).toBe(0);
    expect(scaleRpoBack(2, 1, [500])).toBe(2);
  });
});

test("npm run drill -- --stack prod: refused before anything runs (it printed pass, measuring SQLite)", () => {
  const run = spawnSync(
    process.execPath,
    ["--require", "tsx/cjs", "scripts/drill.ts", "--stack", "prod"],
    { cwd: REPO_ROOT, encoding: "utf8", timeout: 60_000 },
  );
  expect(run.status).toBe(2);
  expect(run.stdout).not.toContain("pass");
  expect(run.stderr).toContain(
    "drill refused: stack prod has the target topology: its data is in RDS PostgreSQL",
  );
});
