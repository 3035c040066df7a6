/**
 * The alert rules of every committed stack (and of the target's failover manifests), run by
 * Prometheus's own rule engine (`promtool test rules`, Debian's prometheus 2.x) on input series
 * shaped like kube-state-metrics' and the app's: each alert fires when the objectives say, not
 * one evaluation before, with the labels Alertmanager routes on; healthy series fire nothing;
 * missing series do what each rule intends; every warning fires before its critical pair.
 */
import { App } from "cdk8s";
import { ALERT_TIMING } from "../../charts/constructs/alert-timing";
import { RULE_GROUPS } from "../../charts/constructs/backup-monitoring";
import { defineFailover, prepareStack } from "../../charts/stacks";
import { listStacks, loadStack, type PraConfig } from "../../config";
import { appDownPaging } from "../../dr/alerting";
import { type DesignFacts, factsOf } from "../../dr/facts";
import { type Manifest, ofKind, specOf, synthCharts } from "../support/manifests";
import { REPO_ROOT } from "../support/pra-app";
import { type PromtoolSuite, runPromtool } from "./promtool";
import { type RuleCases, ruleCases, WARNING_BEFORE_CRITICAL } from "./rule-cases";

interface RuleGroupText {
  readonly name: string;
  readonly interval?: string;
  readonly rules: readonly {
    readonly alert: string;
    readonly expr: string;
    readonly for?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  }[];
}

function ruleGroupsOf(manifests: readonly Manifest[]): RuleGroupText[] {
  return ofKind(manifests, "PrometheusRule")
    .flatMap((m) => specOf(m).groups)
    .map((group) => ({
      ...group,
      // The manifest type leaves the group's interval out; read it where it is.
      ...("interval" in group && typeof group.interval === "string"
        ? { interval: group.interval }
        : {}),
    }));
}

interface Subject {
  readonly name: string;
  readonly config: PraConfig;
  readonly facts: DesignFacts;
  readonly groups: RuleGroupText[];
  readonly cases: RuleCases;
}

function subjectOf(name: string, config: PraConfig, synced: Manifest[], ops: Manifest[]): Subject {
  const groups = ruleGroupsOf(synced);
  const facts = factsOf(config, synced, ops);
  const cases = ruleCases(
    config,
    {
      namespace: config.namespace,
      app: facts.app.name,
      backupCronJob: facts.backup.cronJob,
      restoreTestCronJob: facts.restoreTest.cronJob,
      pods: facts.app.minReplicas,
    },
    groups.flatMap((g) =>
      g.rules.map((r) => ({ alert: r.alert, annotations: r.annotations ?? {} })),
    ),
    {
      scrapeSeconds: ALERT_TIMING.scrapeIntervalSeconds,
      evaluationSeconds: ALERT_TIMING.evaluationIntervalSeconds,
    },
  );
  return { name, config, facts, groups, cases };
}

const subjects: Subject[] = listStacks(REPO_ROOT).flatMap((stack) => {
  const config = loadStack(stack, REPO_ROOT);
  const { synced, ops } = prepareStack(config).objects;
  const primary = subjectOf(stack, config, synced, ops);
  if (config.topology !== "target") return [primary];
  const failover = synthCharts(defineFailover(config, new App()));
  return [primary, subjectOf(`${stack}-failover`, config, failover, [])];
});

const suite = (subject: Subject, groups: RuleGroupText[] = subject.groups): PromtoolSuite => ({
  name: subject.name,
  rules: { groups },
  evaluationIntervalSeconds: ALERT_TIMING.evaluationIntervalSeconds,
  tests: subject.cases.groups,
});

/** The lab's rules with PraRpoBreached's threshold one minute late and PraAppUnavailable held 3m. */
function drifted(subject: Subject): RuleGroupText[] {
  const rpo = subject.config.backup.overdueAfterSeconds;
  return subject.groups.map((group) => ({
    ...group,
    rules: group.rules.map((rule) =>
      rule.alert === "PraRpoBreached"
        ? { ...rule, expr: rule.expr.replace(`> ${rpo}`, `> ${rpo + 60}`) }
        : rule.alert === "PraAppUnavailable"
          ? { ...rule, for: "3m" }
          : rule,
    ),
  }));
}

const lab = subjects.find((s) => s.name === "lab")!;
// One promtool run for every stack, and one for the drifted lab rules, which must fail.
const verdicts = runPromtool([
  ...subjects.map((subject) => suite(subject)),
  { ...suite(lab, drifted(lab)), name: "lab-drifted" },
]);

test("every committed stack and failover variant is covered", () => {
  expect(subjects.map((s) => s.name).sort()).toEqual(
    expect.arrayContaining(["lab", "prod", "prod-failover", "staging", "staging-failover"]),
  );
});

describe.each(subjects.map((s) => [s.name, s] as const))("%s", (_, subject) => {
  test("promtool proves every case: fires on time, not before, with routing labels; quiet when healthy", () => {
    const verdict = verdicts.get(subject.name)!;
    // On failure, shows what promtool said.
    expect(verdict.passed ? "passed" : verdict.output).toBe("passed");
  });

  test("every alert rule has cases, and every rule group runs at the evaluation interval", () => {
    const alerts = subject.groups.flatMap((g) => g.rules.map((r) => r.alert));
    expect(alerts.length).toBeGreaterThanOrEqual(8);
    for (const alert of alerts) expect(subject.cases.alertsCovered).toContain(alert);
    expect(subject.groups.map((g) => [g.name, g.interval])).toEqual([
      [RULE_GROUPS.cluster, `${ALERT_TIMING.evaluationIntervalSeconds}s`],
      [RULE_GROUPS.app, `${ALERT_TIMING.evaluationIntervalSeconds}s`],
    ]);
  });

  test("every rule carries the labels Alertmanager routes on", () => {
    for (const rule of subject.groups.flatMap((g) => g.rules)) {
      expect(["warning", "critical"]).toContain(rule.labels?.severity);
      expect([rule.alert, rule.labels?.pra_stack]).toEqual([rule.alert, subject.config.stack]);
    }
  });

  test("each warning fires strictly before its critical pair when backups stop", () => {
    const { firesAt } = subject.cases.timeline;
    for (const { warning, critical } of WARNING_BEFORE_CRITICAL) {
      expect(firesAt[warning]!).toBeLessThan(firesAt[critical]!);
    }
  });
});

describe.each(subjects.map((s) => [s.name, s] as const))("%s: the DR model", (_, subject) => {
  test("pages the time promtool proves the app-down alerts fire, plus a scrape, an evaluation and group_wait", () => {
    // promtool's case has the change of state land on an evaluation; in the worst case it lands
    // just after a scrape, and the scraped sample just after an evaluation.
    const { appDownFiresAfter } = subject.cases.timeline;
    expect(appDownPaging(subject.facts, subject.config).paged).toEqual({
      seconds:
        appDownFiresAfter +
        ALERT_TIMING.scrapeIntervalSeconds +
        ALERT_TIMING.evaluationIntervalSeconds +
        ALERT_TIMING.groupWaitSeconds,
    });
  });
});

test("a threshold or a hold that drifts from the objectives fails promtool", () => {
  const verdict = verdicts.get("lab-drifted")!;
  expect(verdict.passed).toBe(false);
  expect(verdict.output).toMatch(/alertname: PraRpoBreached/);
  expect(verdict.output).toMatch(/alertname: PraAppUnavailable/);
});
