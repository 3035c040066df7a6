/**
 * The drill's alerting: a real Prometheus and a real Alertmanager (Debian's packages), on
 * loopback ports with their data in the drill's temp dir, stopped with it. Prometheus scrapes
 * the app's /metrics as kube-prometheus-stack would (its job named after the app's Service, its
 * namespace label) and runs the stack's `pra.app` rule group (the rules that read only what the
 * app exports and its own scrape); Alertmanager runs the stack's generated configuration with
 * its receiver pointed at a webhook the drill serves. So the drill measures, from the
 * disaster, when the first alert fires and when a person would be paged, beside the figures
 * the DR model uses (dr/alerting.ts).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { stringify } from "yaml";
import { alertmanagerConfig } from "../charts/alertmanager-config";
import { ALERT_TIMING } from "../charts/constructs/alert-timing";
import { RULE_GROUPS } from "../charts/constructs/backup-monitoring";
import { ofKind, specOf } from "../charts/manifest";
import { prepareStack } from "../charts/stacks";
import { type LabConfig, parseDuration } from "../config";
import { appDownPaging, firesAfterSeconds } from "../dr/alerting";
import { factsOf } from "../dr/facts";
import { debianTool } from "./debian-tools";

/** The Prometheus and Alertmanager intervals the drill runs at. */
export interface DrillIntervals {
  readonly scrapeSeconds: number;
  readonly evaluationSeconds: number;
}

export interface AlertingSetup {
  /** Prometheus's rule file: `{ groups: [...] }`. */
  readonly rules: { readonly groups: readonly unknown[] };
  /** Alertmanager's configuration, given the drill's webhook URL (written out as YAML). */
  readonly alertmanager: (webhookUrl: string) => Readonly<Record<string, unknown>>;
  /** The scrape job's name (the Service's, in the cluster) and the namespace label. */
  readonly job: string;
  readonly namespace: string;
  readonly intervals: DrillIntervals;
}

export interface FirstAlert {
  readonly alert: string;
  /** Wall-clock ms at which Prometheus fired it (the evaluation's time, as Alertmanager got it). */
  readonly firingAtMs: number;
  /** Wall-clock ms at which Alertmanager's notification reached the webhook. */
  readonly pagedAtMs: number;
}

export interface Alerting {
  /**
   * Resolves once Prometheus has scraped the app, found it up, and no alert is pending or
   * firing (its first evaluations ran before its first scrape).
   */
  scraped(deadlineMs: number): Promise<void>;
  /** The first alert to fire, and be paged, since `sinceMs`; an error past `deadlineMs`. */
  firstAlert(sinceMs: number, deadlineMs: number): Promise<FirstAlert>;
  stop(): Promise<void>;
}

/** The lab stack's own rules, intervals and Alertmanager configuration, as deployed. */
export function labAlertingSetup(config: LabConfig): AlertingSetup {
  const { synced, ops } = prepareStack(config).objects;
  const group = ofKind(synced, "PrometheusRule")
    .flatMap((m) => specOf(m).groups)
    .find((g) => g.name === RULE_GROUPS.app);
  if (!group) throw new Error(`${config.file}: no ${RULE_GROUPS.app} rule group (pra:monitoring?)`);
  return {
    rules: { groups: [group] },
    alertmanager: (url) => alertmanagerConfig(config, { kind: "webhook", url }),
    job: factsOf(config, synced, ops).app.name,
    namespace: config.namespace,
    intervals: {
      scrapeSeconds: ALERT_TIMING.scrapeIntervalSeconds,
      evaluationSeconds: ALERT_TIMING.evaluationIntervalSeconds,
    },
  };
}

/** What the DR model says about the lab's app-down alerts: when they fire, when a person is paged. */
export function modelFigures(config: LabConfig): {
  firesWithinSeconds: number;
  pagedWithinSeconds: number;
} {
  const { synced, ops } = prepareStack(config).objects;
  const facts = factsOf(config, synced, ops);
  const paging = appDownPaging(facts, config);
  const hold = facts.alerting.appDownSeconds;
  if (!("seconds" in paging.paged) || hold === undefined) throw new Error(paging.basis);
  return {
    firesWithinSeconds:
      firesAfterSeconds(hold, ALERT_TIMING.evaluationIntervalSeconds) +
      ALERT_TIMING.scrapeIntervalSeconds +
      ALERT_TIMING.evaluationIntervalSeconds,
    pagedWithinSeconds: paging.paged.seconds,
  };
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === "object" && address ? address.port : 0));
    });
  });
}

async function waitReady(url: string, what: string, child: ChildProcess, log: () => string) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited: ${log()}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${what} was not ready within 30 s: ${log()}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

/** Alert names in a Prometheus /api/v1/alerts answer, in the state asked for. */
function alertsIn(body: unknown, state: string): string[] {
  const data = isRecord(body) ? body.data : undefined;
  const alerts = isRecord(data) && Array.isArray(data.alerts) ? (data.alerts as unknown[]) : [];
  return alerts
    .filter(isRecord)
    .filter((a) => a.state === state && isRecord(a.labels))
    .map((a) => String((a.labels as Record<string, unknown>).alertname));
}

/**
 * Starts Alertmanager, a webhook receiver and Prometheus scraping `target` (`host:port`), in
 * `dir`. Every process is stopped by `stop()`, and killed by `track`'s owner if the drill dies.
 */
export async function startAlerting(
  setup: AlertingSetup,
  target: string,
  dir: string,
  track: (child: ChildProcess) => ChildProcess = (child) => child,
): Promise<Alerting> {
  const prometheusBin = debianTool("prometheus");
  const alertmanagerBin = debianTool("prometheus-alertmanager");
  mkdirSync(dir, { recursive: true });
  const [promPort, amPort] = [await freePort(), await freePort()];

  // The webhook: records each firing alert's notification, with when the alert started firing.
  const pages: { alert: string; startsAtMs: number; receivedAtMs: number }[] = [];
  const webhook: Server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => {
      body += chunk.toString("utf8");
    });
    request.on("end", () => {
      try {
        const payload: unknown = JSON.parse(body);
        const alerts =
          isRecord(payload) && Array.isArray(payload.alerts) ? (payload.alerts as unknown[]) : [];
        for (const alert of alerts.filter(isRecord)) {
          if (alert.status !== "firing" || !isRecord(alert.labels)) continue;
          pages.push({
            alert: String(alert.labels.alertname),
            startsAtMs: Date.parse(String(alert.startsAt)),
            receivedAtMs: Date.now(),
          });
        }
      } catch {
        // not Alertmanager's JSON: ignored
      }
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((listening) => webhook.listen(0, "127.0.0.1", listening));
  const address = webhook.address();
  const webhookUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/`;

  const s = msDuration;
  writeFileSync(join(dir, "alertmanager.yml"), stringify(setup.alertmanager(webhookUrl)));
  writeFileSync(join(dir, "rules.yml"), stringify(setup.rules));
  writeFileSync(
    join(dir, "prometheus.yml"),
    stringify({
      global: {
        scrape_interval: s(setup.intervals.scrapeSeconds),
        evaluation_interval: s(setup.intervals.evaluationSeconds),
      },
      rule_files: ["rules.yml"],
      alerting: { alertmanagers: [{ static_configs: [{ targets: [`127.0.0.1:${amPort}`] }] }] },
      scrape_configs: [
        {
          // kube-prometheus-stack names a ServiceMonitor's job after the Service and labels
          // every target with its namespace: the rules select on both.
          job_name: setup.job,
          static_configs: [{ targets: [target], labels: { namespace: setup.namespace } }],
        },
      ],
    }),
  );

  const logs = { prometheus: "", alertmanager: "" };
  const start = (name: keyof typeof logs, command: string, args: string[]) => {
    const child = track(spawn(command, args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] }));
    child.stderr?.on("data", (chunk: Buffer) => {
      logs[name] = (logs[name] + chunk.toString("utf8")).slice(-4000);
    });
    return child;
  };
  const alertmanager = start("alertmanager", alertmanagerBin, [
    `--config.file=${join(dir, "alertmanager.yml")}`,
    `--storage.path=${join(dir, "alertmanager-data")}`,
    `--web.listen-address=127.0.0.1:${amPort}`,
    // One instance: no gossip port, no cluster to wait for.
    "--cluster.listen-address=",
  ]);
  const prometheus = start("prometheus", prometheusBin, [
    `--config.file=${join(dir, "prometheus.yml")}`,
    `--storage.tsdb.path=${join(dir, "prometheus-data")}`,
    `--web.listen-address=127.0.0.1:${promPort}`,
  ]);
  const stop = async () => {
    for (const child of [prometheus, alertmanager]) {
      if (child.exitCode === null && child.signalCode === null) {
        // Five seconds to shut down cleanly, then killed; the timer never outlives the child.
        const exited = new Promise<void>((done) => {
          const timer = setTimeout(done, 5000);
          child.once("exit", () => {
            clearTimeout(timer);
            done();
          });
        });
        child.kill("SIGTERM");
        await exited;
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      }
    }
    webhook.closeAllConnections();
    await new Promise((closed) => webhook.close(closed));
  };
  try {
    await waitReady(
      `http://127.0.0.1:${amPort}/-/ready`,
      "Alertmanager",
      alertmanager,
      () => logs.alertmanager,
    );
    await waitReady(
      `http://127.0.0.1:${promPort}/-/ready`,
      "Prometheus",
      prometheus,
      () => logs.prometheus,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  const api = async (path: string): Promise<unknown> =>
    (await fetch(`http://127.0.0.1:${promPort}${path}`)).json();

  return {
    async scraped(deadlineMs) {
      const query = encodeURIComponent(`up{job="${setup.job}", namespace="${setup.namespace}"}`);
      while (Date.now() < deadlineMs) {
        const body = await api(`/api/v1/query?query=${query}`);
        const data = isRecord(body) ? body.data : undefined;
        const result =
          isRecord(data) && Array.isArray(data.result) ? (data.result as unknown[]) : [];
        const first = result[0];
        const up = isRecord(first) && Array.isArray(first.value) && first.value[1] === "1";
        const alerts = await api("/api/v1/alerts");
        const quiet = [...alertsIn(alerts, "pending"), ...alertsIn(alerts, "firing")].length === 0;
        if (up && quiet) return;
        await sleep(200);
      }
      throw new Error(`Prometheus did not scrape ${target} in time: ${logs.prometheus}`);
    },
    async firstAlert(sinceMs, deadlineMs) {
      while (Date.now() < deadlineMs) {
        // Prometheus sends an alert with the time it fired (its evaluation's, not the drill's
        // polling): a page for an alert that fired before `sinceMs` is an older one.
        const page = pages.find((p) => p.startsAtMs >= sinceMs - 1000);
        if (page) {
          return { alert: page.alert, firingAtMs: page.startsAtMs, pagedAtMs: page.receivedAtMs };
        }
        await sleep(100);
      }
      const firing = alertsIn(await api("/api/v1/alerts"), "firing");
      throw new Error(
        firing.length > 0
          ? `${firing.join(", ")} fired but Alertmanager paged nobody in time: ${logs.alertmanager}`
          : `no alert fired in time: ${logs.prometheus}`,
      );
    },
    stop,
  };
}

/** `seconds` as a Prometheus or Alertmanager duration, to the millisecond. */
function msDuration(seconds: number): string {
  return `${Math.max(1, Math.round(seconds * 1000))}ms`;
}

/**
 * The lab's setup with every interval and hold divided by `timeScale` (the drill's
 * `--time-scale`): the rules and routes stay the lab's, only their clock runs faster.
 */
export function scaledSetup(setup: AlertingSetup, timeScale: number): AlertingSetup {
  if (timeScale === 1) return setup;
  const scale = (text: unknown) => {
    const seconds = typeof text === "string" ? parseDuration(text) : undefined;
    if (seconds === undefined) throw new Error(`not a duration: ${String(text)}`);
    return msDuration(seconds / timeScale);
  };
  const scaleKeys = (object: Record<string, unknown>, keys: readonly string[]) =>
    Object.fromEntries(
      Object.entries(object).map(([key, value]) => [
        key,
        keys.includes(key) ? scale(value) : value,
      ]),
    );
  return {
    ...setup,
    rules: {
      groups: setup.rules.groups.map((group) => {
        if (!isRecord(group) || !Array.isArray(group.rules)) throw new Error("not a rule group");
        return {
          ...scaleKeys(group, ["interval"]),
          rules: (group.rules as unknown[])
            .filter(isRecord)
            .map((rule) => scaleKeys(rule, ["for"])),
        };
      }),
    },
    alertmanager: (url) => {
      const config = setup.alertmanager(url);
      const timers = ["group_wait", "group_interval", "repeat_interval"];
      const route = config.route;
      if (!isRecord(route) || !Array.isArray(route.routes)) throw new Error("no route tree");
      return {
        ...config,
        route: {
          ...scaleKeys(route, timers),
          routes: (route.routes as unknown[]).filter(isRecord).map((r) => scaleKeys(r, timers)),
        },
      };
    },
    intervals: {
      scrapeSeconds: setup.intervals.scrapeSeconds / timeScale,
      evaluationSeconds: setup.intervals.evaluationSeconds / timeScale,
    },
  };
}

/** What `npm run drill` reports about alerting, at the stack's own clock. */
export interface AlertMeasurement {
  readonly alert: string;
  /** From the disaster to the alert firing, and to the webhook's page (scaled back). */
  readonly firedSeconds: number;
  readonly pagedSeconds: number;
  readonly model: { readonly firesWithinSeconds: number; readonly pagedWithinSeconds: number };
  /** The line the drill prints. */
  readonly line: string;
}

export interface DrillAlerting {
  /** Resolves once Prometheus sees the app up and quiet: the disaster may start. */
  ready(): Promise<void>;
  /** Starts waiting for the first page after the disaster; resolves with the measurement. */
  measure(disasterAtMs: number): Promise<AlertMeasurement>;
  stop(): Promise<void>;
}

/**
 * The drill's alerting for the lab stack `config`: its rules and Alertmanager configuration, at
 * the drill's time scale, scraping the service at `serviceUrl`.
 */
export async function startDrillAlerting(
  config: LabConfig,
  serviceUrl: string,
  dir: string,
  track: (child: ChildProcess) => ChildProcess,
  timeScale: number,
): Promise<DrillAlerting> {
  const model = modelFigures(config);
  const alerting = await startAlerting(
    scaledSetup(labAlertingSetup(config), timeScale),
    new URL(serviceUrl).host,
    dir,
    track,
  );
  // Generous: the model's bound at the drill's clock, twice, plus process start-up.
  const patienceMs = ((2 * model.pagedWithinSeconds) / timeScale) * 1000 + 30_000;
  const round = (seconds: number) => Math.round(seconds * 100) / 100;
  return {
    ready: () => alerting.scraped(Date.now() + patienceMs),
    async measure(disasterAtMs) {
      const first = await alerting.firstAlert(disasterAtMs, Date.now() + patienceMs);
      const drillFired = (first.firingAtMs - disasterAtMs) / 1000;
      const drillPaged = (first.pagedAtMs - disasterAtMs) / 1000;
      const firedSeconds = round(drillFired * timeScale);
      const pagedSeconds = round(drillPaged * timeScale);
      const within =
        firedSeconds <= model.firesWithinSeconds && pagedSeconds <= model.pagedWithinSeconds;
      const scaled =
        timeScale === 1
          ? ""
          : `; time-scaled x${round(timeScale)}: ${round(drillFired)} s and ${round(drillPaged)} s ` +
            "in the drill";
      return {
        alert: first.alert,
        firedSeconds,
        pagedSeconds,
        model,
        line:
          `time to alert measured: ${first.alert} fired ${firedSeconds} s after the disaster, ` +
          `paged the webhook at ${pagedSeconds} s (model: fires within ${model.firesWithinSeconds} s, ` +
          `pages within ${model.pagedWithinSeconds} s) ${within ? "ok" : "LATER THAN THE MODEL"}${scaled}`,
      };
    },
    stop: () => alerting.stop(),
  };
}
