/** Restore points as PostgreSQL exports in S3: the target's store. Loaded only when chosen. */
import type { Outcome, RestorePointStore } from "../restore-points";
import type { DatabaseSettings, ExportSettings } from "../settings";
import { cachedExportListing } from "./cache";
import { cachedRestoreTestReport } from "./restore-test-report";
import { createExport } from "./create";
import { createS3Client, listExports } from "./s3";
import { verifyNewestExport } from "./verify";

export function exportStore(
  database: Extract<DatabaseSettings, { kind: "postgres" }>,
  settings: ExportSettings,
): RestorePointStore {
  const client = createS3Client();
  return {
    list: () => listExports(client, settings),
    serviceListing: () => cachedExportListing(client, settings),
    serviceRestoreTest: () => cachedRestoreTestReport(client, settings),

    async backup(retention): Promise<Outcome> {
      const result = await createExport(client, {
        databaseUrl: database.databaseUrl,
        caFile: database.caFile,
        settings,
        retention,
      });
      return {
        summary: {
          backend: "postgres",
          file: result.file,
          key: result.key,
          bucket: result.bucket,
          timestamp: result.timestamp,
          size_bytes: result.sizeBytes,
          tables: result.tables,
          deleted: result.deleted,
        },
        notes: [],
      };
    },

    async verify(maxAgeSeconds): Promise<Outcome> {
      const result = await verifyNewestExport(client, settings, maxAgeSeconds);
      return {
        summary: {
          file: result.file,
          key: result.key,
          timestamp: result.timestamp,
          age_seconds: result.ageSeconds,
          max_age_seconds: maxAgeSeconds,
          tables: result.tables,
          rows: result.rows,
          newest_event_time: result.newestEventSeconds ?? null,
          // The RPO this export achieves, for the Job's log line (docs/app.md).
          achieved_rpo_seconds: result.achievedRpoSeconds ?? null,
          future_points: result.futureExports,
        },
        notes: result.futureExports.map(
          (file) => `${file} is dated in the future: not counted (a clock ran ahead?)`,
        ),
      };
    },

    restore(): Promise<Outcome> {
      return Promise.reject(
        new Error(
          "restore works on SQLite restore points; DATABASE_URL is set, so pass --db <path> to name " +
            "the SQLite file (a PostgreSQL export is restored with pg_restore: docs/app.md)",
        ),
      );
    },
  };
}
