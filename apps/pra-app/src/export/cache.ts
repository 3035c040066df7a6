/** The exports as the service reports them: listed at most once a minute, since each listing costs an S3 call. */
import type { S3Client } from "@aws-sdk/client-s3";
import { errorMessage, log } from "../log";
import type { PointSummary } from "../restore-points";
import { type ExportSettings, listExports } from "./s3";

export const EXPORT_LISTING_TTL_MS = 60_000;

export function cachedExportListing(
  client: S3Client,
  settings: ExportSettings,
  ttlMs = EXPORT_LISTING_TTL_MS,
): () => Promise<PointSummary[]> {
  let value: PointSummary[] = [];
  let fetchedAt = Number.NEGATIVE_INFINITY;
  let inFlight: Promise<PointSummary[]> | undefined;
  return () => {
    if (Date.now() - fetchedAt < ttlMs) return Promise.resolve(value);
    inFlight ??= listExports(client, settings)
      .then(
        (exports) => {
          value = exports;
          return value;
        },
        (error) => {
          // Keep the last listing: an outage of S3 then shows as a growing export age, which alerts.
          log.warn("listing exports failed", {
            bucket: settings.bucket,
            error: errorMessage(error),
          });
          return value;
        },
      )
      .finally(() => {
        fetchedAt = Date.now();
        inFlight = undefined;
      });
    return inFlight;
  };
}
