/**
 * `pra-app serve | backup | restore | verify | backups`. Exit 0 only on success, 2 on a usage error,
 * 1 when the command failed, 143 when SIGTERM or SIGINT stopped it; one JSON summary line on stdout,
 * human-readable errors on stderr.
 */
import { readFileSync } from "node:fs";
import { setPriority } from "node:os";
import { basename, join } from "node:path";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { describePoints, directoryStore } from "./backup/directory-store";
import { timestampOfPointFile } from "./backup/points";
import { DEFAULT_KEEP_ASIDE } from "./backup/restore";
import { parseDurationSeconds, parseTimeSeconds } from "./duration";
import { handleInterrupts, releaseInterrupts } from "./interrupt";
import { errorMessage, log } from "./log";
import type {
  LatestRestoreTest,
  ListRestorePoints,
  Outcome,
  RestorePointStore,
} from "./restore-points";
import {
  type DatabaseSettings,
  type ExportSettings,
  readSettings,
  type Settings,
} from "./settings";
import { refuseEmptyStartAfterLoss } from "./storage/first-start";

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
export { EXIT_INTERRUPTED } from "./interrupt";

const BACKUP_NICENESS = 10;
const MIB = 1024 * 1024;
/**
 * The SQLite copy's default pace, in MiB/s (0: unpaced), chosen from the trade-off the benchmark
 * prints (bench/app.bench.ts; docs/app.md, "Drill and benchmark"): on 2 shared cores an unpaced copy
 * took the service's insert p99 to 3.3-3.6x its value without a backup, 100 MiB/s kept it at
 * 0.8-1.1x. The price is the backup's duration (about 1 s more per 100 MB), which costs nothing
 * against the RPO: a point is dated when its copy begins.
 */
const DEFAULT_MAX_COPY_RATE_MIB = 100;

interface LocationFlags {
  db?: string;
  backupDir?: string;
}

/** Where a command's restore points are: decided in one place, `restorePointBackend`. */
type RestorePointBackend =
  | { readonly kind: "directory"; readonly backupDir: string; readonly dbPath: string | undefined }
  | {
      readonly kind: "exports";
      readonly database: Extract<DatabaseSettings, { kind: "postgres" }>;
      readonly exports: ExportSettings;
    }
  | { readonly kind: "unconfigured"; readonly reason: string };

/**
 * --db or --backup-dir: SQLite files in a directory. Otherwise the service's database decides:
 * SQLite (DB_PATH) keeps its points in BACKUP_DIR; PostgreSQL (DATABASE_URL) is exported to S3
 * (EXPORT_BUCKET).
 */
function restorePointBackend(settings: Settings, flags: LocationFlags): RestorePointBackend {
  const { database } = settings;
  if (flags.db !== undefined || flags.backupDir !== undefined || database.kind === "sqlite") {
    return {
      kind: "directory",
      backupDir: flags.backupDir ?? settings.backupDir,
      dbPath: flags.db ?? (database.kind === "sqlite" ? database.dbPath : undefined),
    };
  }
  if (!settings.exports) {
    return {
      kind: "unconfigured",
      reason:
        "DATABASE_URL is set, so restore points are PostgreSQL exports in S3, and that needs " +
        "EXPORT_BUCKET (or pass --db <path> for a SQLite file)",
    };
  }
  return { kind: "exports", database, exports: settings.exports };
}

function openStore(backend: RestorePointBackend, command: string): RestorePointStore {
  switch (backend.kind) {
    case "directory":
      return directoryStore(
        backend.backupDir,
        backend.dbPath,
        (name) =>
          `${name} works on SQLite restore points; DATABASE_URL is set, so pass --db <path> to name the SQLite file`,
      );
    case "exports":
      return loadExportStore().exportStore(backend.database, backend.exports);
    case "unconfigured":
      throw new Error(`${command}: ${backend.reason}`);
  }
}

/**
 * The S3 export store, loaded only when chosen: the AWS SDK takes longer to load than a whole SQLite
 * backup job takes to start. (`require`, not `import()`: in a checkout the bin runs the sources
 * through tsx's CommonJS hook, which leaves `import()` to Node's own loader, unable to load them.)
 */
function loadExportStore(): typeof import("./export/export-store") {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy, see above
  return require("./export/export-store") as typeof import("./export/export-store");
}

function asDuration(text: string): number {
  try {
    return parseDurationSeconds(text);
  } catch (error) {
    throw new InvalidArgumentError(errorMessage(error));
  }
}

function asTime(text: string): number {
  try {
    return parseTimeSeconds(text);
  } catch (error) {
    throw new InvalidArgumentError(errorMessage(error));
  }
}

/**
 * A --point that cannot name a restore point is a usage error (exit 2), as in `npm run restore-job`
 * and `npm run restore`; a well-formed name that is missing or outside the directory is a failure
 * (exit 1), decided by the restore itself.
 */
function asPointName(text: string): string {
  if (timestampOfPointFile(basename(text)) === undefined) {
    throw new InvalidArgumentError(
      `"${text}" is not a restore point name (app-<unix-seconds>.db); nothing was changed`,
    );
  }
  return text;
}

function asPositiveInteger(text: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1) {
    throw new InvalidArgumentError(`"${text}" is not a positive whole number`);
  }
  return Number(text);
}

function asRate(text: string): number {
  if (!/^\d+(?:\.\d+)?$/.test(text.trim()))
    throw new InvalidArgumentError(`"${text}" is not a rate in MiB/s (a number; 0 for unpaced)`);
  return Number(text);
}

function summary(fields: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(fields)}\n`);
}

function report(command: string, outcome: Outcome, extra: Record<string, unknown> = {}): void {
  for (const note of outcome.notes) process.stderr.write(`${note}\n`);
  summary({ command, ok: true, ...outcome.summary, ...extra });
}

const dbOption = () =>
  new Option("--db <path>", "SQLite database file (default: $DB_PATH or /data/app.db)");
const backupDirOption = () =>
  new Option("--backup-dir <dir>", "restore point directory (default: $BACKUP_DIR or /backup)");

/** The version in the app's package.json (beside src/ and dist/, and in the image). */
function appVersion(): string {
  const manifest: unknown = JSON.parse(readFileSync(join(__dirname, "..", "package.json"), "utf8"));
  return typeof manifest === "object" && manifest !== null && "version" in manifest
    ? String(manifest.version)
    : "unknown";
}

export function buildProgram(settings: Settings): Command {
  const program = new Command("pra-app")
    .description(
      "The PRA service and its restore points.\n" +
        "Environment: PORT (8080), DB_PATH (/data/app.db, SQLite), DATABASE_URL (PostgreSQL, wins over DB_PATH),\n" +
        "DATABASE_CA_FILE (CA for the PostgreSQL server), BACKUP_DIR (/backup), LOG_LEVEL (info).\n" +
        "PostgreSQL exports: EXPORT_BUCKET, EXPORT_PREFIX (exports/), EXPORT_KMS_KEY_ID, AWS_REGION,\n" +
        "AWS_ENDPOINT_URL_S3, PG_BIN_DIR (where pg_dump/pg_restore are; default: PATH).\n" +
        "Exit codes: 0 success, 1 the command failed, 2 bad usage, 143 stopped by SIGTERM/SIGINT.",
    )
    .version(appVersion(), "--version", "print the version and exit")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    .hook("preAction", (_program, action) => {
      // serve shuts down gracefully on its own; every other command stops, cleans up and says so.
      const command = action.name();
      if (command === "serve") return;
      handleInterrupts((signal) => {
        const error = `stopped by ${signal}; its partial files were removed and nothing was published`;
        process.stderr.write(`pra-app ${command}: error: ${error}\n`);
        summary({ command, ok: false, error });
      });
    });

  program
    .command("serve")
    .description(
      "run the HTTP service (SIGTERM: stop accepting, finish in-flight requests, close the database)",
    )
    .action(async () => {
      await serve(settings);
    });

  program
    .command("backup")
    .description(
      "take a consistent, integrity-checked restore point BACKUP_DIR/app-<unix-seconds>.db, then apply retention;\n" +
        "with DATABASE_URL (and no --db): a pg_dump export to s3://EXPORT_BUCKET/EXPORT_PREFIX/app-<unix-seconds>.dump",
    )
    .addOption(dbOption())
    .addOption(backupDirOption())
    .addOption(
      new Option("--keep-last <n>", "keep the newest N restore points").argParser(
        asPositiveInteger,
      ),
    )
    .addOption(
      new Option(
        "--keep-within <duration>",
        "keep restore points younger than this (90s, 5m, 1h30m, 7d)",
      ).argParser(asDuration),
    )
    .addOption(
      new Option(
        "--max-copy-rate <MiB/s>",
        "pace a SQLite copy to at most this rate, leaving CPU and disk to the service (0: unpaced)",
      )
        .argParser(asRate)
        .default(DEFAULT_MAX_COPY_RATE_MIB, String(DEFAULT_MAX_COPY_RATE_MIB)),
    )
    .addHelpText(
      "after",
      "\nA point is kept when it is among the newest N OR younger than --keep-within; the point just made\n" +
        "and the newest valid one are never deleted, nor a point dated in the future. Without either flag\n" +
        "nothing is deleted. When the volume cannot hold the copy, the points the policy lets go are\n" +
        "deleted first (oldest first, and said so); if that is not enough, the backup fails before writing.",
    )
    .action(
      async (
        flags: LocationFlags & { keepLast?: number; keepWithin?: number; maxCopyRate: number },
      ) => {
        const store = openStore(restorePointBackend(settings, flags), "backup");
        // A backup is background work: when it shares CPUs with the service, the service's requests win.
        setPriority(BACKUP_NICENESS);
        const started = process.hrtime.bigint();
        const outcome = await store.backup(
          { keepLast: flags.keepLast, keepWithinSeconds: flags.keepWithin },
          { maxCopyBytesPerSecond: flags.maxCopyRate > 0 ? flags.maxCopyRate * MIB : undefined },
        );
        report("backup", outcome, {
          duration_seconds: Number(process.hrtime.bigint() - started) / 1e9,
        });
      },
    );

  program
    .command("restore")
    .description("replace the database with a checked restore point (run with the service stopped)")
    .addOption(dbOption())
    .addOption(backupDirOption())
    .addOption(
      new Option(
        "--point <file>",
        "restore this point (app-<unix-seconds>.db in the backup directory)",
      ).argParser(asPointName),
    )
    .addOption(
      new Option(
        "--before <time>",
        "restore the newest valid point taken at or before this time (ISO 8601 with a zone, or unix seconds)",
      )
        .argParser(asTime)
        .conflicts("point"),
    )
    .addOption(
      new Option(
        "--force",
        "restore even while another process has the database open (its later writes are lost)",
      ),
    )
    .addOption(
      new Option(
        "--keep-aside <n>",
        `moved-aside databases to keep, this one included (default ${DEFAULT_KEEP_ASIDE})`,
      ).argParser(asPositiveInteger),
    )
    .addHelpText(
      "after",
      "\nWithout --point or --before the newest valid point is restored; invalid newer ones and points dated\n" +
        "in the future are reported as skipped. The chosen copy is integrity-checked before anything is\n" +
        "touched, after checking there is room for it. A database another process has open is refused\n" +
        "(unless --force). The current database is kept whole as <db>.pre-restore-<unix-seconds>; the\n" +
        "oldest of those beyond --keep-aside are removed.",
    )
    .action(
      async (
        flags: LocationFlags & {
          point?: string;
          before?: number;
          force?: boolean;
          keepAside?: number;
        },
      ) => {
        const store = openStore(restorePointBackend(settings, flags), "restore");
        const outcome = await store.restore({
          point: flags.point,
          beforeSeconds: flags.before,
          force: flags.force ?? false,
          keepAside: flags.keepAside ?? DEFAULT_KEEP_ASIDE,
        });
        report("restore", outcome);
      },
    );

  program
    .command("verify")
    .description(
      "restore test: the newest restore point exists, is younger than --max-age, passes its checks",
    )
    .addOption(backupDirOption())
    .addOption(
      new Option("--max-age <duration>", "oldest acceptable newest point (90s, 5m, 1h30m, 7d)")
        .argParser(asDuration)
        .makeOptionMandatory(),
    )
    .action(async (flags: { backupDir?: string; maxAge: number }) => {
      const store = openStore(restorePointBackend(settings, flags), "verify");
      report("verify", await store.verify(flags.maxAge));
    });

  program
    .command("backups")
    .description("list restore points, newest first")
    .addOption(backupDirOption())
    .action(async (flags: { backupDir?: string }) => {
      const store = openStore(restorePointBackend(settings, flags), "backups");
      summary({ command: "backups", ok: true, backups: describePoints(await store.list()) });
    });

  return program;
}

async function serve(settings: Settings): Promise<void> {
  // Loaded here so that backup jobs start without the HTTP, metrics and PostgreSQL modules (`require`
  // for the reason loadExportStore gives).
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy, see above
  const { createApp } = require("./server") as typeof import("./server");
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy, see above
  const { openStorage } = require("./storage") as typeof import("./storage");
  if (settings.database.kind === "sqlite") {
    refuseEmptyStartAfterLoss(
      settings.database.dbPath,
      settings.backupDir,
      settings.allowEmptyDatabase,
    );
  }
  const storage = await openStorage(settings.database);
  const backend = restorePointBackend(settings, {});
  let restorePoints: ListRestorePoints;
  let latestRestoreTest: LatestRestoreTest | undefined;
  if (backend.kind === "unconfigured") {
    // The service still runs; with nothing to list, the restore point age counts from the epoch and
    // the age alerts say that no backup is being made.
    log.warn("no restore points to report", { reason: backend.reason });
    restorePoints = () => Promise.resolve([]);
  } else {
    const store = openStore(backend, "serve");
    restorePoints = store.serviceListing();
    // Exports: the restore test's result too (its achieved RPO), which it records beside them.
    latestRestoreTest = store.serviceRestoreTest?.();
  }
  const app = createApp(storage, restorePoints, latestRestoreTest);
  await new Promise<void>((resolveListen, reject) => {
    app.server.once("error", reject);
    app.server.listen(settings.port, () => resolveListen());
  });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : settings.port;
  log.info("listening", { port, backend: storage.kind });
  await new Promise<void>((resolveStop) => {
    const stop = (signal: string) => {
      log.info("shutting down", { signal });
      app.shutdown().then(resolveStop, (error) => {
        log.error("shutdown failed", { error: errorMessage(error) });
        resolveStop();
      });
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
  log.info("stopped");
}

/** Runs the CLI; resolves to the process exit code. */
export async function runCli(argv: readonly string[]): Promise<number> {
  let settings: Settings;
  try {
    settings = readSettings();
  } catch (error) {
    process.stderr.write(`pra-app: ${errorMessage(error)}\n`);
    return EXIT_USAGE;
  }
  const program = buildProgram(settings);
  try {
    await program.parseAsync([...argv]);
    return EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version end here too, with exit code 0; commander has already printed the message.
      return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    const command = program.args[0] ?? "pra-app";
    process.stderr.write(`pra-app ${command}: error: ${errorMessage(error)}\n`);
    summary({ command, ok: false, error: errorMessage(error) });
    return EXIT_FAILED;
  } finally {
    releaseInterrupts();
  }
}
