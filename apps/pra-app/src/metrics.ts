/**
 * Prometheus metrics. The names are a contract: alert rules elsewhere in the repository use them.
 * Gauges are computed when scraped, so they are never older than the scrape. A source that fails
 * (the database, the restore points) costs only its own series: the rest is served, and
 * `pra_metrics_source_up{source}` says which one failed, so an outage stays explained.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { ageSeconds, splitByDate } from "./backup/points";
import { errorMessage, log } from "./log";
import type {
  LatestRestoreTest,
  ListRestorePoints,
  PointSummary,
  RestoreTestSummary,
} from "./restore-points";
import type { Storage } from "./storage";

export interface Metrics {
  readonly contentType: string;
  /** The exposition text: every series that could be computed. */
  render(): Promise<string>;
  observeRequest(route: string, status: number, seconds: number): void;
  /** A write the database did not store (its commit failed). */
  writeFailed(): void;
  /** Whether the database accepts writes, as /ready last found it. */
  setWritable(writable: boolean): void;
}

export function createMetrics(
  storage: Storage,
  listRestorePoints: ListRestorePoints,
  latestRestoreTest?: LatestRestoreTest,
): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: "pra_http_requests_total",
    help: "HTTP requests answered, by route and status code.",
    labelNames: ["route", "status"],
    registers: [registry],
  });
  const duration = new Histogram({
    name: "pra_http_request_duration_seconds",
    help: "Time to answer an HTTP request, by route and status code.",
    labelNames: ["route", "status"],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const writeFailures = new Counter({
    name: "pra_write_failures_total",
    help: "Writes answered 503 because the database did not store them (a failed commit).",
    registers: [registry],
  });
  const writable = new Gauge({
    name: "pra_database_writable",
    help: "1 while the database accepts writes, 0 after a failed write until a probe write succeeds.",
    registers: [registry],
  });
  writable.set(1);
  const sourceUp = new Gauge({
    name: "pra_metrics_source_up",
    help:
      "1 when this scrape could read the source (database, restore_points, restore_test), " +
      "0 when it failed.",
    labelNames: ["source"],
    registers: [registry],
  });
  const events = new Gauge({
    name: "pra_events",
    help: "Events stored in the database (NaN when the database does not answer).",
    registers: [registry],
  });
  // With no restore point the timestamp is 0 and the age counts from the epoch, so age alerts fire.
  const newestTimestamp = new Gauge({
    name: "pra_restore_point_newest_timestamp_seconds",
    help: "Unix time of the newest restore point not dated in the future (0 when there is none).",
    registers: [registry],
  });
  const newestAge = new Gauge({
    name: "pra_restore_point_newest_age_seconds",
    help: "Age in seconds of the newest restore point not dated in the future.",
    registers: [registry],
  });
  const futureDated = new Gauge({
    name: "pra_restore_points_future_dated",
    help: "Restore points dated beyond the clock-skew allowance in the future: suspect, never used.",
    registers: [registry],
  });

  // Written by the restore test (exports: a throwaway PostgreSQL restore of the newest export).
  const restoreTestVerified = new Gauge({
    name: "pra_restore_test_verified_timestamp_seconds",
    help: "Unix time the newest passing restore test checked its restored data (0 when none has).",
    registers: [registry],
  });
  const restoreTestRpo = new Gauge({
    name: "pra_restore_test_achieved_rpo_seconds",
    help:
      "The RPO the newest passing restore test achieved: when it checked, minus the newest " +
      "restored event's time (NaN when it restored none).",
    registers: [registry],
  });
  let lastRestoreTest: RestoreTestSummary | undefined;

  // When the listing fails, the last one that worked stands: the age keeps growing, so age alerts
  // still fire, and pra_metrics_source_up says why.
  let lastListing: PointSummary[] = [];
  const render = async () => {
    const [count, listing] = await Promise.allSettled([storage.countEvents(), listRestorePoints()]);
    sourceUp.set({ source: "database" }, count.status === "fulfilled" ? 1 : 0);
    events.set(count.status === "fulfilled" ? count.value : Number.NaN);
    if (count.status === "rejected") warn("database", count.reason);
    sourceUp.set({ source: "restore_points" }, listing.status === "fulfilled" ? 1 : 0);
    if (listing.status === "fulfilled") lastListing = listing.value;
    else warn("restore_points", listing.reason);
    const { current, future } = splitByDate(lastListing);
    const timestamp = current[0]?.timestamp ?? 0;
    newestTimestamp.set(timestamp);
    newestAge.set(ageSeconds(timestamp, Date.now() / 1000));
    futureDated.set(future.length);
    if (latestRestoreTest) {
      try {
        lastRestoreTest = await latestRestoreTest();
        sourceUp.set({ source: "restore_test" }, 1);
      } catch (error) {
        sourceUp.set({ source: "restore_test" }, 0);
        warn("restore_test", error);
      }
      restoreTestVerified.set(lastRestoreTest?.verifiedAt ?? 0);
      restoreTestRpo.set(lastRestoreTest?.achievedRpoSeconds ?? Number.NaN);
    }
    return registry.metrics();
  };

  return {
    contentType: registry.contentType,
    render,
    observeRequest(route, status, seconds) {
      const labels = { route, status: String(status) };
      requests.inc(labels);
      duration.observe(labels, seconds);
    },
    writeFailed: () => writeFailures.inc(),
    setWritable: (value) => writable.set(value ? 1 : 0),
  };
}

function warn(source: string, reason: unknown): void {
  log.warn("a metrics source failed", { source, error: errorMessage(reason) });
}
