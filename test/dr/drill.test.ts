/** `npm run drill`: its schedule is the stack's own unless time-scaled, and it refuses what it does not model. */
import { spawnSync } from "node:child_process";
import { loadStack } from "../../config";
import {
  DrillRefused,
  judgeDrill,
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

  test("a time-scaled RPO scales the wait for the next backup, not a backup's start-up", () => {
    // A 1 s interval at x60: 0.8 s of waiting is 48 s at the stack's schedule.
    expect(scaleRpoBack(0.8, 60, 1)).toBeCloseTo(48);
    // Past the interval, the next backup was starting: that part is not scaled.
    expect(scaleRpoBack(1.5, 60, 1)).toBeCloseTo(60.5);
    expect(scaleRpoBack(0, 60, 1)).toBe(0);
    expect(scaleRpoBack(2, 1, 60)).toBe(2);
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

describe("the drill's judgement", () => {
  const verdict = {
    rowsLost: 3,
    rpoSeconds: 1.5,
    rtoSeconds: 2,
    lostBeforeLastBackup: 0,
    lastBackupStartMs: 0,
  };
  const objectives = { rpoSeconds: 120, rtoSeconds: 600 };

  test("the RTO counts from the failure: the modelled page and response are added", () => {
    const judged = judgeDrill({
      verdict,
      plan: planDrill(lab, { timeScale: 60 }),
      acting: { seconds: 510, basis: "paged after 3m30s, on-call acts within 5m" },
      objectives,
    });
    expect(judged).toMatchObject({ rpoSeconds: 60.5, rpoOk: true, rtoTotal: 512, rtoOk: true });
    expect(judged.lines).toEqual([
      "RPO measured: 60.50 s, 3 acknowledged rows lost (objective 120 s) ok; " +
        "time-scaled: 1.50 s in the drill, its wait for the next backup x60",
      "RTO measured: 2.00 s from disaster to the first read of restored data, + 510 s modelled " +
        "until someone acts (paged after 3m30s, on-call acts within 5m) = 512.00 s " +
        "(objective 600 s) ok",
    ]);
  });

  test("nobody paged: the RTO is unbounded and says why, however fast the restore", () => {
    const judged = judgeDrill({
      verdict,
      plan: planDrill(lab),
      acting: { basis: "nobody is alerted" },
      objectives,
    });
    expect(judged).toMatchObject({ rpoSeconds: 1.5, rtoTotal: undefined, rtoOk: false });
    expect(judged.lines[1]).toBe(
      "RTO measured: 2.00 s from disaster to the first read of restored data, and nothing bounds " +
        "the time until someone acts (nobody is alerted) (objective 600 s) MISSED",
    );
  });
});
