/**
 * Where restore points live, chosen once (cli.ts, `chooseRestorePoints`): a directory of SQLite
 * files (BACKUP_DIR) or PostgreSQL exports in S3. Each command is wiring over this interface.
 */
import type { RetentionPolicy } from "./backup/retention";

export interface PointSummary {
  readonly file: string;
  readonly timestamp: number;
  readonly sizeBytes: number;
}

/** Restore points (or exports), newest first. */
export type ListRestorePoints = () => Promise<PointSummary[]>;

/** What the newest passing restore test proved (exports: export/restore-test-report.ts). */
export interface RestoreTestSummary {
  /** Unix seconds the restore was checked. */
  readonly verifiedAt: number;
  /** verifiedAt minus the newest restored event's time; null when nothing was restored. */
  readonly achievedRpoSeconds: number | null;
}

/** The newest restore test's summary, or undefined when none has passed. */
export type LatestRestoreTest = () => Promise<RestoreTestSummary | undefined>;

/** What a command reports: its JSON summary fields, and lines for a person on stderr. */
export interface Outcome {
  readonly summary: Readonly<Record<string, unknown>>;
  readonly notes: readonly string[];
}

export interface BackupPace {
  /** At most this many bytes per second for the copy; undefined: as fast as it goes. */
  readonly maxCopyBytesPerSecond: number | undefined;
}

export interface RestoreRequest {
  /** A point's file name, or a path to it inside the backup directory. */
  readonly point: string | undefined;
  /** The newest valid point taken at or before this unix time. */
  readonly beforeSeconds: number | undefined;
  /** Restore even while another process uses the database. */
  readonly force: boolean;
  /** How many moved-aside databases to keep, the one this restore makes included. */
  readonly keepAside: number;
}

export interface RestorePointStore {
  /** Newest first, read from the source now. */
  list(): Promise<PointSummary[]>;
  /** The listing the service reports from (cached where a listing costs a request). */
  serviceListing(): ListRestorePoints;
  /** Where the service reads the newest restore test's result, where the test records one. */
  serviceRestoreTest?(): LatestRestoreTest;
  backup(retention: RetentionPolicy, pace: BackupPace): Promise<Outcome>;
  verify(maxAgeSeconds: number): Promise<Outcome>;
  restore(request: RestoreRequest): Promise<Outcome>;
}
