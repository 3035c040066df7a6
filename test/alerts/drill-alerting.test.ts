/**
 * The drill's alerting (scripts/drill-alerting.ts) with the real Prometheus and Alertmanager:
 * the lab's own `pra.app` rules and Alertmanager configuration, time-scaled 24-fold as the drill
 * does (1.25 s intervals, a 5 s hold instead of 30 s and 2 m), so that the test takes seconds. The
 * app goes away; the alert must fire no sooner than its hold and no later than the DR model's
 * bound (hold + a scrape + an evaluation), and the page must follow within group_wait. The
 * deployed intervals are measured by `npm run drill` itself.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadStack } from "../../config";
import { labAlertingSetup, scaledSetup, startAlerting } from "../../scripts/drill-alerting";
import { REPO_ROOT } from "../support/pra-app";

// The drill's --time-scale: 30 s intervals become 1.25 s, the 2 m hold 5 s.
const SCALE = 24;
const HOLD = 120 / SCALE;
const TICK = 30 / SCALE;
const GROUP_WAIT = 30 / SCALE;
const GROUP_INTERVAL = 60 / SCALE;

test("the lab's app-down alert fires after its hold, within the model's bound, and pages the webhook", async () => {
  const lab = loadStack("lab", REPO_ROOT);
  if (lab.topology !== "lab") throw new Error("lab is a lab stack");
  const setup = scaledSetup(labAlertingSetup(lab), SCALE);
  const app: Server = createServer((_, response) => {
    response.writeHead(200, { "content-type": "text/plain" }).end("pra_events 1\n");
  });
  await new Promise<void>((listening) => app.listen(0, "127.0.0.1", listening));
  const closeApp = () => {
    app.closeAllConnections();
    return new Promise((closed) => app.close(closed));
  };
  const address = app.address();
  const target = `127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  const dir = mkdtempSync(join(tmpdir(), "pra-alerting-test-"));
  try {
    const alerting = await startAlerting(setup, target, dir);
    try {
      await alerting.scraped(Date.now() + 20_000);
      // The disaster: the app stops answering.
      await closeApp();
      const downAtMs = Date.now();
      const first = await alerting.firstAlert(downAtMs, Date.now() + 30_000);
      expect(first.alert).toBe("PraAppNotScraped");
      const fired = (first.firingAtMs - downAtMs) / 1000;
      const paged = (first.pagedAtMs - downAtMs) / 1000;
      // Prometheus's own firing time; a scrape may take up to its timeout. Alertmanager sends a new
      // group after group_wait; a group left by an alert that fired before Prometheus's first
      // scrape (a 5 s hold allows it) is sent again after group_interval.
      expect(fired).toBeGreaterThanOrEqual(HOLD);
      expect(fired).toBeLessThanOrEqual(HOLD + TICK + TICK + 0.5);
      expect(paged).toBeGreaterThanOrEqual(fired);
      expect(paged).toBeLessThanOrEqual(
        HOLD + TICK + TICK + Math.max(GROUP_WAIT, GROUP_INTERVAL) + 1,
      );
    } finally {
      await alerting.stop();
    }
  } finally {
    if (app.listening) await closeApp();
    rmSync(dir, { recursive: true, force: true });
  }
  expect(existsSync(dir)).toBe(false);
}, 60_000);
