/**
 * `pra-app serve | backup | restore | verify | backups`. Exit 0 only on success, 2 on a usage error,
 * 1 when the command failed; one JSON summary line on stdout, human-readable errors on stderr.
 */
import { setPriority } from "node:os";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { createBackup } from "./backup/create";
import { listRestorePoints, nowSeconds } from "./backup/points";
import { restore } from "./backup/restore";
import type { RetentionPolicy } from "./backup/retention";
import { verifyNewest } from "./backup/verify";
import { parseDurationSeconds, parseTimeSeconds } from "./duration";
import { errorMessage, log } from "./log";
import { readSettings, type Settings } from "./settings";
import { refuseEmptyStartAfterLoss } from "./storage/first-start";

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

const BACKUP_NICENESS = 10;

/**
 * The S3 export modules, loaded only when a command needs them: the AWS SDK takes longer to load than
 * a whole SQLite backup job takes to start. (`require`, not `import()`: in a checkout the bin runs the
 * sources through tsx's CommonJS hook, which leaves `import()` to Node's loader, unable to load them.)
 */
function exportModules() {
  return {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy, see above
    ...(require("./export/s3") as typeof import("./export/s3")),
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy, see above
    ...(require("./export/create") as typeof import("./export/create")),
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy, see above
    ...(require("./export/verify") as typeof import("./export/verify")),
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy, see above
    ...(require("./export/cache") as typeof import("./export/cache")),
  };
}

/** Restore points are S3 exports when EXPORT_BUCKET is set (and no --backup-dir says otherwise). */
function exportsConfigured(): boolean {
  return Boolean(process.env.EXPORT_BUCKET);
}

interface LocationFlags {
  db?: string;
  backupDir?: string;
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

function asPositiveInteger(text: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1) {
    throw new InvalidArgumentError(`"${text}" is not a positive whole number`);
  }
  return Number(text);
}

function summary(fields: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(fields)}\n`);
}

/** The SQLite file and backup directory a command works on: flags first, then the environment. */
function sqliteLocations(settings: Settings, flags: LocationFlags, command: string) {
  if (!flags.db && settings.databaseUrl) {
    throw new Error(
      `${command} works on SQLite restore points; DATABASE_URL is set, so pass --db <path> to name the SQLite file`,
    );
  }
  return {
    dbPath: flags.db ?? settings.dbPath!,
    backupDir: flags.backupDir ?? settings.backupDir,
  };
}

const dbOption = () =>
  new Option("--db <path>", "SQLite database file (default: $DB_PATH or /data/app.db)");
const backupDirOption = () =>
  new Option("--backup-dir <dir>", "restore point directory (default: $BACKUP_DIR or /backup)");

export function buildProgram(settings: Settings): Command {
  const program = new Command("pra-app")
    .description(
      "The PRA service and its restore points.\n" +
        "Environment: PORT (8080), DB_PATH (/data/app.db, SQLite), DATABASE_URL (PostgreSQL, wins over DB_PATH),\n" +
        "DATABASE_CA_FILE (CA for the PostgreSQL server), BACKUP_DIR (/backup), LOG_LEVEL (info).\n" +
        "PostgreSQL exports: EXPORT_BUCKET, EXPORT_PREFIX (exports/), EXPORT_KMS_KEY_ID, AWS_REGION,\n" +
        "AWS_ENDPOINT_URL_S3, PG_BIN_DIR (where pg_dump/pg_restore are; default: PATH).\n" +
        "Exit codes: 0 success, 1 the command failed, 2 bad usage.",
    )
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();

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
    .addHelpText(
      "after",
      "\nA point is kept when it is among the newest N OR younger than --keep-within; the point just made is never\n" +
        "deleted. Without either flag nothing is deleted.",
    )
    .action(async (flags: LocationFlags & { keepLast?: number; keepWithin?: number }) => {
      if (!flags.db && settings.databaseUrl) {
        await exportBackup(settings, {
          keepLast: flags.keepLast,
          keepWithinSeconds: flags.keepWithin,
        });
        return;
      }
      const { dbPath, backupDir } = sqliteLocations(settings, flags, "backup");
      // A backup is background work: when it shares CPUs with the service, the service's requests win.
      setPriority(BACKUP_NICENESS);
      const started = process.hrtime.bigint();
      const result = await createBackup({
        dbPath,
        backupDir,
        retention: { keepLast: flags.keepLast, keepWithinSeconds: flags.keepWithin },
      });
      summary({
        command: "backup",
        ok: true,
        file: result.file,
        path: result.path,
        timestamp: result.timestamp,
        size_bytes: result.sizeBytes,
        last_event_id: result.lastEventId,
        deleted: result.deleted,
        duration_seconds: Number(process.hrtime.bigint() - started) / 1e9,
      });
    });

  program
    .command("restore")
    .description("replace the database with a checked restore point (run with the service stopped)")
    .addOption(dbOption())
    .addOption(backupDirOption())
    .addOption(
      new Option(
        "--point <file>",
        "restore this point (app-<unix-seconds>.db in the backup directory)",
      ),
    )
    .addOption(
      new Option(
        "--before <time>",
        "restore the newest valid point taken at or before this time (ISO 8601 or unix seconds)",
      )
        .argParser(asTime)
        .conflicts("point"),
    )
    .addHelpText(
      "after",
      "\nWithout --point or --before the newest valid point is restored and invalid newer ones are\n" +
        "reported as skipped. The chosen copy is integrity-checked before anything is touched; the current\n" +
        "database and its -wal/-shm files are moved aside as <db>.pre-restore-<unix-seconds>[-wal|-shm],\n" +
        "never deleted.",
    )
    .action(async (flags: LocationFlags & { point?: string; before?: number }) => {
      const { dbPath, backupDir } = sqliteLocations(settings, flags, "restore");
      const result = await restore({
        dbPath,
        backupDir,
        point: flags.point,
        beforeSeconds: flags.before,
      });
      for (const entry of result.skipped)
        process.stderr.write(`skipped ${entry.file}: ${entry.reason}\n`);
      summary({
        command: "restore",
        ok: true,
        restored: result.file,
        timestamp: result.timestamp,
        last_event_id: result.lastEventId,
        db: result.dbPath,
        skipped: result.skipped,
        moved_aside: result.movedAside,
      });
    });

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
      if (!flags.backupDir && exportsConfigured()) {
        const { createS3Client, readExportSettings, verifyNewestExport } = exportModules();
        const result = await verifyNewestExport(
          createS3Client(),
          readExportSettings()!,
          flags.maxAge,
        );
        summary({
          command: "verify",
          ok: true,
          file: result.file,
          key: result.key,
          timestamp: result.timestamp,
          age_seconds: result.ageSeconds,
          max_age_seconds: flags.maxAge,
          tables: result.tables,
        });
        return;
      }
      const result = verifyNewest(flags.backupDir ?? settings.backupDir, flags.maxAge);
      summary({
        command: "verify",
        ok: true,
        file: result.file,
        timestamp: result.timestamp,
        age_seconds: result.ageSeconds,
        max_age_seconds: flags.maxAge,
        last_event_id: result.lastEventId,
      });
    });

  program
    .command("backups")
    .description("list restore points, newest first")
    .addOption(backupDirOption())
    .action(async (flags: { backupDir?: string }) => {
      const now = nowSeconds();
      let points: { file: string; timestamp: number; sizeBytes: number }[];
      if (!flags.backupDir && exportsConfigured()) {
        const { createS3Client, listExports, readExportSettings } = exportModules();
        points = await listExports(createS3Client(), readExportSettings()!);
      } else {
        points = listRestorePoints(flags.backupDir ?? settings.backupDir);
      }
      summary({
        command: "backups",
        ok: true,
        backups: points.map((point) => ({
          file: point.file,
          timestamp: point.timestamp,
          size_bytes: point.sizeBytes,
          age_seconds: now - point.timestamp,
        })),
      });
    });

  return program;
}

async function exportBackup(settings: Settings, retention: RetentionPolicy): Promise<void> {
  const { createExport, createS3Client, readExportSettings } = exportModules();
  const exports = readExportSettings();
  if (!exports) {
    throw new Error(
      "DATABASE_URL is set, so backup exports the database to S3 and needs EXPORT_BUCKET " +
        "(or pass --db <path> for a SQLite file)",
    );
  }
  const started = process.hrtime.bigint();
  const result = await createExport(createS3Client(), {
    databaseUrl: settings.databaseUrl!,
    caFile: settings.databaseCaFile,
    settings: exports,
    retention,
  });
  summary({
    command: "backup",
    ok: true,
    backend: "postgres",
    file: result.file,
    key: result.key,
    bucket: result.bucket,
    timestamp: result.timestamp,
    size_bytes: result.sizeBytes,
    tables: result.tables,
    deleted: result.deleted,
    duration_seconds: Number(process.hrtime.bigint() - started) / 1e9,
  });
}

async function serve(settings: Settings): Promise<void> {
  // Loaded here so that backup jobs start without the HTTP, metrics and PostgreSQL modules (`require`
  // for the reason exportModules gives).
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy, see above
  const { createApp } = require("./server") as typeof import("./server");
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy, see above
  const { openStorage } = require("./storage") as typeof import("./storage");
  if (settings.dbPath)
    refuseEmptyStartAfterLoss(settings.dbPath, settings.backupDir, settings.allowEmptyDatabase);
  const storage = await openStorage(settings);
  const exports = exportsConfigured() ? exportModules() : undefined;
  const restorePoints = exports
    ? exports.cachedExportListing(exports.createS3Client(), exports.readExportSettings()!)
    : () => Promise.resolve(listRestorePoints(settings.backupDir));
  const app = createApp(storage, restorePoints);
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
  }
}
