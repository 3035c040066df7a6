/**
 * The Alertmanager configuration each stack generates, checked by Alertmanager's own tool
 * (`amtool`, Debian's prometheus-alertmanager): it loads, every alert of the stack's rules
 * reaches the stack's receiver (the target's SNS alarm topic, the lab's webhook), other alerts
 * do not, and critical alerts repeat well within the RTO. A lab with no receiver says so in
 * `npm run check`.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import {
  ACCOUNT_ID_PLACEHOLDER,
  type AlertReceiver,
  alarmTopicArn,
  alertmanagerConfig,
  alertReceiverOf,
  receiverName,
  repeatIntervals,
  writeAlertmanagerConfig,
} from "../../charts/alertmanager-config";
import { prepareStack } from "../../charts/stacks";
import { cloudNames, listStacks, loadStack, type PraConfig } from "../../config";
import { assess } from "../../dr/assess";
import { debianTool } from "../../scripts/debian-tools";
import { configOf, ofKind, specOf } from "../support/manifests";
import { REPO_ROOT } from "../support/pra-app";

const amtool = debianTool("amtool");
const dir = mkdtempSync(join(tmpdir(), "pra-amtool-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeConfig(name: string, config: PraConfig, receiver: AlertReceiver): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, stringify(alertmanagerConfig(config, receiver)));
  return file;
}

function amtoolRun(args: string[]) {
  const run = spawnSync(amtool, args, { encoding: "utf8" });
  return {
    status: run.status,
    stdout: run.stdout.trim(),
    output: `${run.stdout}${run.stderr}`.trim(),
  };
}

/** The receivers `labels` reach, as `amtool config routes test` finds them. */
function routeOf(file: string, labels: Record<string, string>): string {
  const run = amtoolRun([
    "config",
    "routes",
    "test",
    `--config.file=${file}`,
    ...Object.entries(labels).map(([k, v]) => `${k}=${v}`),
  ]);
  if (run.status !== 0) throw new Error(`amtool config routes test failed: ${run.output}`);
  // The receivers' names, on stdout (stderr warns that --config.file overrides --alertmanager.url).
  return run.stdout;
}

/** Every alert the stack's rules raise, with the labels routing sees. */
function alertsOf(config: PraConfig): Record<string, string>[] {
  return ofKind(prepareStack(config).objects.synced, "PrometheusRule")
    .flatMap((m) => specOf(m).groups.flatMap((g) => g.rules))
    .map((rule) => ({ alertname: rule.alert, namespace: config.namespace, ...rule.labels }));
}

const stacks = listStacks(REPO_ROOT).map((stack) => loadStack(stack, REPO_ROOT));

describe.each(stacks.map((config) => [config.stack, config] as const))("%s", (_, config) => {
  const receiver =
    config.topology === "target"
      ? alertReceiverOf(config, alarmTopicArn(config, "123456789012", "primary"))
      : alertReceiverOf(config);
  const file = writeConfig(config.stack, config, receiver);

  test("amtool check-config accepts the generated configuration", () => {
    const run = amtoolRun(["check-config", file]);
    expect(run.output).toContain("SUCCESS");
    expect(run.status).toBe(0);
  });

  test("every alert of the stack's rules reaches the stack's receiver; other alerts do not", () => {
    const alerts = alertsOf(config);
    expect(alerts.length).toBeGreaterThanOrEqual(8);
    for (const labels of alerts) {
      expect([labels.alertname, routeOf(file, labels)]).toEqual([
        labels.alertname,
        receiverName(config),
      ]);
    }
    expect(routeOf(file, { alertname: "Watchdog", severity: "none" })).toBe("null");
    expect(
      routeOf(file, {
        alertname: "KubePodCrashLooping",
        namespace: "kube-system",
        severity: "warning",
      }),
    ).toBe("null");
    // Another stack's alert, in a cluster both stacks' alerts could reach, is not this stack's page.
    expect(
      routeOf(file, { alertname: "PraRpoBreached", pra_stack: "other", severity: "critical" }),
    ).toBe("null");
  });

  test("a critical alert repeats within on-call's response time and four times within the RTO", () => {
    const { criticalSeconds, warningSeconds } = repeatIntervals(config);
    expect(criticalSeconds).toBeLessThanOrEqual(config.objectives.onCallResponseSeconds);
    expect(4 * criticalSeconds).toBeLessThanOrEqual(config.objectives.rtoSeconds);
    expect(warningSeconds).toBeGreaterThanOrEqual(criticalSeconds);
  });
});

describe("the target's receiver", () => {
  const prod = loadStack("prod", REPO_ROOT);
  if (prod.topology !== "target") throw new Error("prod is a target stack");

  test("is the SNS topic of the CloudWatch alarms, signed in its region with the pod's own credentials", () => {
    const arn = alarmTopicArn(prod, "123456789012", "primary");
    expect(arn).toBe(`arn:aws:sns:eu-west-3:123456789012:${cloudNames("prod").alarmTopic}`);
    const config = alertmanagerConfig(prod, alertReceiverOf(prod, arn));
    expect(config.receivers).toContainEqual({
      name: "pra-prod",
      sns_configs: [
        expect.objectContaining({
          topic_arn: arn,
          sigv4: { region: "eu-west-3" },
          send_resolved: true,
        }),
      ],
    });
  });

  test("synth writes the primary and failover configurations, with the account left for the user", () => {
    const out = mkdtempSync(join(dir, "synth-"));
    expect(writeAlertmanagerConfig(prod, out)).toEqual([
      "alertmanager/alertmanager.yaml",
      "alertmanager/failover.yaml",
    ]);
    const failover = parse(readFileSync(join(out, "alertmanager", "failover.yaml"), "utf8")) as {
      receivers: { sns_configs?: { topic_arn: string; sigv4: { region: string } }[] }[];
    };
    expect(failover.receivers[1]?.sns_configs?.[0]).toMatchObject({
      topic_arn: `arn:aws:sns:eu-central-1:${ACCOUNT_ID_PLACEHOLDER}:${cloudNames("prod").drAlarmTopic}`,
      sigv4: { region: "eu-central-1" },
    });
    const check = amtoolRun(["check-config", join(out, "alertmanager", "failover.yaml")]);
    expect(check.status).toBe(0);
  });
});

describe("a lab with no pra:alertWebhookUrl", () => {
  // The committed lab's objectives, without its receiver.
  const lab = configOf({ topology: "lab", monitoring: true, rpo: "2m", rto: "10m" }, "lab");

  test("routes its alerts to nobody, and its configuration still loads", () => {
    const file = writeConfig("lab-unpaged", lab, alertReceiverOf(lab));
    expect(amtoolRun(["check-config", file]).status).toBe(0);
    expect(
      routeOf(file, { alertname: "PraAppUnavailable", pra_stack: "lab", severity: "critical" }),
    ).toBe("null");
  });

  test("npm run check says the manual recovery has no bounded RTO because nobody is paged", () => {
    const violation = assess(lab).violations.find((v) => v.scenario === "data-volume-loss");
    expect(violation?.message).toContain(
      "RTO declared 10m (pra:rto), none: nobody is paged: Pulumi.lab.yaml sets no pra:alertWebhookUrl",
    );
  });

  test("refuses a webhook URL with credentials in it, or not http(s)", () => {
    for (const url of [
      "https://user:secret@hooks.example.com/x",
      "ftp://hooks.example.com/x",
      "hooks",
    ]) {
      expect(() => configOf({ topology: "lab", alertWebhookUrl: url }, "lab")).toThrow(
        /pra:alertWebhookUrl: expected an http\(s\) URL/,
      );
    }
  });
});
