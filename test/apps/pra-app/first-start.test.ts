/** After a data volume is lost, the service must not start on an empty database and back it up. */
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { refuseEmptyStartAfterLoss } from "../../../apps/pra-app/src/storage/first-start";
import { makeAppDatabase, spawnPraApp, tempDir } from "../../support/pra-app";

describe("refuseEmptyStartAfterLoss", () => {
  const dir = tempDir();
  afterAll(() => dir.remove());
  const db = dir.join("data", "app.db");
  const backups = dir.join("backup");

  test("a first start (no database, no restore point) may create the database", () => {
    expect(() => refuseEmptyStartAfterLoss(db, backups, false)).not.toThrow();
  });

  test("a missing database beside restore points is a lost volume: refused, with what to do", () => {
    mkdirSync(backups, { recursive: true });
    writeFileSync(dir.join("backup", "app-1700000000.db"), "");
    writeFileSync(dir.join("backup", "app-1700000060.db"), "");
    expect(() => refuseEmptyStartAfterLoss(db, backups, false)).toThrow(
      `refusing to create an empty database at ${db}: ${backups} holds 2 restore point(s), ` +
        "the newest app-1700000060.db, so the data was lost rather than never written. " +
        "Restore first (pra-app restore; in the lab, npm run restore), " +
        "or set PRA_ALLOW_EMPTY_DATABASE=true to start empty on purpose.",
    );
  });

  test("an existing database starts, and an empty start can be asked for", () => {
    expect(() => refuseEmptyStartAfterLoss(db, backups, true)).not.toThrow();
    makeAppDatabase(db, 1);
    expect(() => refuseEmptyStartAfterLoss(db, backups, false)).not.toThrow();
  });

  test("a 0-byte database beside restore points is refused too (issue: it was served as empty)", () => {
    writeFileSync(db, "");
    expect(() => refuseEmptyStartAfterLoss(db, backups, false)).toThrow(
      `refusing to start on the empty database ${db} (0 bytes): ${backups} holds 2 restore point(s)`,
    );
    expect(() => refuseEmptyStartAfterLoss(db, backups, true)).not.toThrow();
  });
});

test("pra-app serve refuses, exits 1 and creates nothing when the data volume was lost", () => {
  const dir = tempDir();
  try {
    const source = dir.join("source.db");
    makeAppDatabase(source, 10);
    mkdirSync(dir.join("backup"));
    copyFileSync(source, dir.join("backup", "app-1700000000.db"));
    const db = dir.join("data", "app.db");
    const run = spawnPraApp(["serve"], { DB_PATH: db, BACKUP_DIR: dir.join("backup"), PORT: "0" });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("refusing to create an empty database at");
    expect(existsSync(db)).toBe(false);
    const strict = spawnPraApp(["serve"], {
      DB_PATH: db,
      BACKUP_DIR: dir.join("backup"),
      PRA_ALLOW_EMPTY_DATABASE: "yes",
    });
    expect(strict.status).toBe(2);
    expect(strict.stderr).toContain('PRA_ALLOW_EMPTY_DATABASE must be true or false; found "yes"');
  } finally {
    dir.remove();
  }
});
