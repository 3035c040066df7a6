/** The exports as the service reports them: listed at most once a minute, since each listing costs an S3 call. */
import type { S3Client } from "@aws-sdk/client-s3";
import { errorMessage, log } from "../log";
import type { PointSummary } from "../restore-points";
import { type ExportSettings, listExports } from "./s3";

export const EXPORT_LISTING_TTL_MS = 60_000;

/**
 * The listing, refreshed at most once per `ttlMs`. A refresh that fails is logged and its error is
 * what callers get until the next refresh: /metrics then keeps the last listing that worked (so the
 * export age keeps growing and alerts) and reports the failure (pra_metrics_source_up), instead of
 * silently serving a stale listing as if it were fresh.
 */
export function cachedExportListing(
  client: S3Client,
  settings: ExportSettings,
  ttlMs = EXPORT_LISTING_TTL_MS,
): () => Promise<PointSummary[]> {
  let latest: Promise<PointSummary[]> = Promise.resolve([]);
  let fetchedAt = Number.NEGATIVE_INFINITY;
  let inFlight: Promise<PointSummary[]> | undefined;
  return () => {
    if (Date.now() - fetchedAt < ttlMs) return latest;
    inFlight ??= listExports(client, settings)
      .catch((error: unknown) => {
        log.warn("listing exports failed", { bucket: settings.bucket, error: errorMessage(error) });
        throw error;
      })
      .finally(() => {
        fetchedAt = Date.now();
        inFlight = undefined;
      });
    latest = inFlight;
    // The cached promise may be read by no one before it settles; its failure is reported above.
    latest.catch(() => undefined);
    return latest;
  };
}
