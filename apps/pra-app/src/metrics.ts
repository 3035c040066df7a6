/**
 * Prometheus metrics. The names are a contract: alert rules elsewhere in the repository use them.
 * Gauges are computed when scraped, so they are never older than the scrape.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { Storage } from "./storage";

/** The newest restore point (or export) as the metrics see it; undefined when there is none. */
export type NewestRestorePoint = () => Promise<{ timestamp: number } | undefined>;

export interface Metrics {
  readonly registry: Registry;
  observeRequest(route: string, status: number, seconds: number): void;
}

export function createMetrics(storage: Storage, newestRestorePoint: NewestRestorePoint): Metrics {
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
  new Gauge({
    name: "pra_events",
    help: "Events stored in the database.",
    registers: [registry],
    async collect() {
      this.set(await storage.countEvents());
    },
  });
  // With no restore point the timestamp is 0 and the age counts from the epoch, so age alerts fire.
  new Gauge({
    name: "pra_restore_point_newest_timestamp_seconds",
    help: "Unix time of the newest restore point (0 when there is none).",
    registers: [registry],
    async collect() {
      this.set((await newestRestorePoint())?.timestamp ?? 0);
    },
  });
  new Gauge({
    name: "pra_restore_point_newest_age_seconds",
    help: "Age in seconds of the newest restore point.",
    registers: [registry],
    async collect() {
      this.set(Date.now() / 1000 - ((await newestRestorePoint())?.timestamp ?? 0));
    },
  });
  return {
    registry,
    observeRequest(route, status, seconds) {
      const labels = { route, status: String(status) };
      requests.inc(labels);
      duration.observe(labels, seconds);
    },
  };
}
