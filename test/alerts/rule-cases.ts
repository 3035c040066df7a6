/**
 * `promtool test rules` cases for one stack's PrometheusRule, generated from the stack's
 * objectives (its RPO, its backup schedule, the holds in backup-monitoring.ts) and not from the
 * rules' own text: a threshold or a `for` that drifts from what the objectives say fails here.
 *
 * Input series take the shape kube-state-metrics and the app export them, sampled at the
 * scrape interval; rules run at the group's evaluation interval (ALERT_TIMING, the same figures
 * the DR model adds to each alert's hold). Every case places the change of state on an
 * evaluation, so the firing time is exact: `firesAt` below. The real world adds up to one scrape
 * and one evaluation interval before the first evaluation that sees a change; dr/figures.ts
 * counts them.
 */
import { ALERT_HOLD_SECONDS, backupLateSeconds } from "../../charts/constructs/backup-monitoring";
import type { PraConfig } from "../../config";

/** The objects' names the rules select on. */
export interface RuleSubjects {
  readonly namespace: string;
  readonly app: string;
  readonly backupCronJob: string;
  readonly restoreTestCronJob: string;
  /** Pods the app runs: each exports its own series. */
  readonly pods: number;
}

export interface Intervals {
  readonly scrapeSeconds: number;
  readonly evaluationSeconds: number;
}

/** One rule as the PrometheusRule holds it, with its annotations for the expected alerts. */
export interface RuleText {
  readonly alert: string;
  readonly annotations: Readonly<Record<string, string>>;
}

type Labels = Readonly<Record<string, string>>;
type Sample = number | "_" | "stale";

interface SeriesInput {
  readonly series: string;
  readonly values: string;
}

interface ExpectedAlert {
  readonly exp_labels: Labels;
  readonly exp_annotations: Labels;
}

interface AlertRuleTest {
  readonly eval_time: string;
  readonly alertname: string;
  readonly exp_alerts: readonly ExpectedAlert[];
}

export interface PromtoolTestGroup {
  readonly name: string;
  readonly interval: string;
  readonly input_series: readonly SeriesInput[];
  readonly alert_rule_test: readonly AlertRuleTest[];
}

/** When each alert is expected to fire in the "backups stop" case, for the ordering checks. */
export interface Timeline {
  readonly backupsStopAt: number;
  readonly firesAt: Readonly<Record<string, number>>;
  /** From the evaluation that first sees the app down to its alerts firing (case 4). */
  readonly appDownFiresAfter: number;
}

export interface RuleCases {
  readonly groups: readonly PromtoolTestGroup[];
  readonly timeline: Timeline;
  /** Every `alertname` some case asserts on. */
  readonly alertsCovered: ReadonlySet<string>;
}

const KSM = "kube-state-metrics";
/** A restore point timestamp of 0: the app's "no restore point" (apps/pra-app/src/metrics.ts). */
const EPOCH_AGE = 1_700_000_000;

/** The warnings each critical must follow when backups stop succeeding. */
export const WARNING_BEFORE_CRITICAL: readonly { warning: string; critical: string }[] = [
  { warning: "PraBackupLate", critical: "PraRpoBreached" },
  { warning: "PraBackupLate", critical: "PraRestorePointTooOld" },
  { warning: "PraBackupJobFailed", critical: "PraRpoBreached" },
  { warning: "PraBackupJobFailed", critical: "PraRestorePointTooOld" },
];

export function ruleCases(
  config: PraConfig,
  subjects: RuleSubjects,
  rules: readonly RuleText[],
  intervals: Intervals,
): RuleCases {
  const { namespace: ns, app } = subjects;
  const E = intervals.evaluationSeconds;
  const S = intervals.scrapeSeconds;
  const stack = config.stack;
  // The age the critical backup alerts fire past: the RPO where the backups hold it (the lab), the
  // exports' own worst case on time where RDS does (the target).
  const rpo = config.backup.overdueAfterSeconds;
  const late = backupLateSeconds(config.backup.timing);
  const every = config.backup.timing.intervalSeconds;
  const window = 3600;
  const hold = ALERT_HOLD_SECONDS;

  const annotationsOf = new Map(rules.map((r) => [r.alert, r.annotations]));
  const severities: Record<string, "warning" | "critical"> = {
    PraBackupLate: "warning",
    PraBackupJobFailed: "warning",
    PraRpoBreached: "critical",
    PraBackupNeverSucceeded: "critical",
    PraRestoreTestFailed: "critical",
    PraAppUnavailable: "critical",
    PraRestorePointTooOld: "critical",
    PraAppNotScraped: "critical",
  };
  const covered = new Set<string>();

  // Times: an evaluation strictly after `t` (a `>` threshold crossed at t), the first at or after t.
  const evalAfter = (t: number) => (Math.floor(t / E) + 1) * E;
  const evalFrom = (t: number) => Math.ceil(t / E) * E;
  const held = (active: number, forSeconds: number) => active + evalFrom(forSeconds);
  const d = (seconds: number) => `${seconds}s`;

  const alertOf = (alertname: string, labels: Labels): ExpectedAlert => {
    const annotations = annotationsOf.get(alertname);
    if (!annotations) throw new Error(`the PrometheusRule has no alert ${alertname}`);
    const all: Labels = { ...labels, severity: severities[alertname]!, pra_stack: stack };
    const expand = (text: string) =>
      text.replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, name: string) => all[name] ?? "");
    return {
      exp_labels: all,
      exp_annotations: Object.fromEntries(
        Object.entries(annotations).map(([key, text]) => [key, expand(text)]),
      ),
    };
  };
  const check = (at: number, alertname: string, firing: readonly Labels[] = []): AlertRuleTest => {
    covered.add(alertname);
    return {
      eval_time: d(at),
      alertname,
      exp_alerts: firing.map((labels) => alertOf(alertname, labels)),
    };
  };
  /** Fires at `at` and not at the evaluation before. */
  const firesAt = (at: number, alertname: string, labels: Labels): AlertRuleTest[] => [
    check(at - E, alertname),
    check(at, alertname, [labels]),
  ];
  const quiet = (at: number, ...alertnames: string[]) => alertnames.map((a) => check(at, a));

  const series = (name: string, labels: Labels, end: number, value: (t: number) => Sample) => {
    const samples: Sample[] = [];
    for (let t = 0; t <= end; t += S) samples.push(value(t));
    const selector = Object.entries(labels)
      .map(([k, v]) => `${k}="${v}"`)
      .join(", ");
    return { series: `${name}{${selector}}`, values: samples.join(" ") };
  };

  const cronLabels = { namespace: ns, cronjob: subjects.backupCronJob, job: KSM };
  const deploymentLabels = { namespace: ns, deployment: app, job: KSM };
  const pods = Array.from({ length: subjects.pods }, (_, i) => `${app}-${i}`);
  // Backups complete at 0, every, 2 every ... (a run shorter than a scrape), until `stop`.
  const lastBackup = (t: number, stop = Number.POSITIVE_INFINITY) =>
    Math.min(Math.floor(t / every) * every, stop);
  const upSeries = (end: number, value: (t: number) => Sample) =>
    pods.map((pod) =>
      series("up", { namespace: ns, job: app, instance: `${pod}:8080`, pod }, end, value),
    );
  const ageSeries = (end: number, value: (t: number) => Sample) =>
    pods.map((pod) =>
      series(
        "pra_restore_point_newest_age_seconds",
        { namespace: ns, job: app, instance: `${pod}:8080`, pod },
        end,
        value,
      ),
    );
  const healthyApp = (end: number) => [
    series("kube_deployment_status_replicas_available", deploymentLabels, end, () => pods.length),
    ...upSeries(end, () => 1),
  ];
  const failedJobSeries = (jobName: string, created: number, failed: number, end: number) => [
    series("kube_job_created", { namespace: ns, job_name: jobName, job: KSM }, end, (t) =>
      t >= created ? created : "_",
    ),
    ...(["true", "false"] as const).map((condition) =>
      series(
        "kube_job_failed",
        { namespace: ns, job_name: jobName, condition, job: KSM },
        end,
        (t) => (t < created ? "_" : t >= failed === (condition === "true") ? 1 : 0),
      ),
    ),
  ];

  const groups: PromtoolTestGroup[] = [];

  // 1. Healthy: backups every interval, the app up and seeing fresh restore points. Nothing fires.
  {
    const end = evalFrom(2 * (rpo + hold.appDown + every));
    groups.push({
      name: `${stack}: healthy series fire nothing`,
      interval: d(S),
      input_series: [
        series("kube_cronjob_status_last_successful_time", cronLabels, end, (t) => lastBackup(t)),
        ...healthyApp(end),
        ...ageSeries(end, (t) => t - lastBackup(t)),
      ],
      alert_rule_test: [end / 2, end].flatMap((at) => quiet(at, ...Object.keys(severities))),
    });
  }

  // 2. Backups stop succeeding at T0: every later run fails. Warnings, then criticals.
  const T0 = evalFrom(2 * every);
  const fires = {
    PraBackupLate: evalAfter(T0 + late),
    PraRpoBreached: evalAfter(T0 + rpo),
    PraRestorePointTooOld: held(evalAfter(T0 + rpo), hold.restorePointTooOld),
    // The first run after T0 starts on schedule and fails one scrape later.
    PraBackupJobFailed: T0 + every + S,
  };
  {
    const end = Math.max(...Object.values(fires)) + 2 * E;
    const runs: { name: string; created: number; failed: number }[] = [];
    for (let k = 1; T0 + k * every + S <= end; k++) {
      runs.push({
        name: `${subjects.backupCronJob}-${29_000_000 + k}`,
        created: T0 + k * every,
        failed: T0 + k * every + S,
      });
    }
    const failedAt = (t: number) =>
      runs
        .filter((run) => run.failed <= t && t - run.created < window)
        .map((run) => ({ namespace: ns, job_name: run.name, condition: "true", job: KSM }));
    const cronFiring = { namespace: ns, cronjob: subjects.backupCronJob, job: KSM };
    const criticalFirst = Math.min(fires.PraRpoBreached, fires.PraRestorePointTooOld);
    groups.push({
      name: `${stack}: backups stop succeeding at ${d(T0)}: warnings fire, then criticals`,
      interval: d(S),
      input_series: [
        series("kube_cronjob_status_last_successful_time", cronLabels, end, (t) =>
          lastBackup(t, T0),
        ),
        ...runs.flatMap((run) => failedJobSeries(run.name, run.created, run.failed, end)),
        ...healthyApp(end),
        ...ageSeries(end, (t) => t - lastBackup(t, T0)),
      ],
      alert_rule_test: [
        ...firesAt(fires.PraBackupLate, "PraBackupLate", cronFiring),
        ...firesAt(fires.PraRpoBreached, "PraRpoBreached", cronFiring),
        ...firesAt(fires.PraRestorePointTooOld, "PraRestorePointTooOld", { namespace: ns }),
        check(
          fires.PraBackupJobFailed - E,
          "PraBackupJobFailed",
          failedAt(fires.PraBackupJobFailed - E),
        ),
        check(fires.PraBackupJobFailed, "PraBackupJobFailed", failedAt(fires.PraBackupJobFailed)),
        // Strictly before: at the last evaluation before any critical, both warnings already fire.
        check(criticalFirst - E, "PraBackupLate", [cronFiring]),
        check(criticalFirst - E, "PraBackupJobFailed", failedAt(criticalFirst - E)),
        ...quiet(end, "PraBackupNeverSucceeded", "PraRestoreTestFailed", "PraAppUnavailable"),
        ...quiet(end, "PraAppNotScraped"),
      ],
    });
  }

  // 3. A restore test fails: its alert fires, the backup's does not, and it ages out after the window.
  {
    const created = T0;
    const failed = T0 + S;
    const end = created + window + E;
    const jobName = `${subjects.restoreTestCronJob}-${29_000_000}`;
    const labels = { namespace: ns, job_name: jobName, condition: "true", job: KSM };
    groups.push({
      name: `${stack}: a restore test fails at ${d(failed)}`,
      interval: d(S),
      input_series: [
        series("kube_cronjob_status_last_successful_time", cronLabels, end, (t) => lastBackup(t)),
        ...failedJobSeries(jobName, created, failed, end),
        ...healthyApp(end),
        ...ageSeries(end, (t) => t - lastBackup(t)),
      ],
      alert_rule_test: [
        ...firesAt(failed, "PraRestoreTestFailed", labels),
        check(created + window - E, "PraRestoreTestFailed", [labels]),
        check(created + window, "PraRestoreTestFailed"),
        ...quiet(failed, "PraBackupJobFailed"),
      ],
    });
  }

  // 4. The app goes away at T2: its pods are gone (their targets go stale) and none is available.
  const T2 = T0;
  {
    const end = T2 + evalFrom(hold.appDown) + 2 * E;
    groups.push({
      name: `${stack}: the app's pods are gone at ${d(T2)}`,
      interval: d(S),
      input_series: [
        series("kube_cronjob_status_last_successful_time", cronLabels, end, (t) => lastBackup(t)),
        series("kube_deployment_status_replicas_available", deploymentLabels, end, (t) =>
          t < T2 ? pods.length : 0,
        ),
        ...upSeries(end, (t) => (t < T2 ? 1 : t === T2 ? "stale" : "_")),
        ...ageSeries(end, (t) => (t < T2 ? t - lastBackup(t) : t === T2 ? "stale" : "_")),
      ],
      alert_rule_test: [
        ...firesAt(held(T2, hold.appDown), "PraAppUnavailable", deploymentLabels),
        ...firesAt(held(T2, hold.appDown), "PraAppNotScraped", { namespace: ns }),
        // An app that exports nothing is the app-down alerts' business, not an RPO breach.
        ...quiet(end, "PraRestorePointTooOld"),
      ],
    });
  }

  // 5. The app hangs at T2: its targets answer no scrape, the Deployment still counts its pods.
  {
    const end = T2 + evalFrom(hold.appDown) + 2 * E;
    groups.push({
      name: `${stack}: the app stops answering at ${d(T2)}`,
      interval: d(S),
      input_series: [
        series("kube_cronjob_status_last_successful_time", cronLabels, end, (t) => lastBackup(t)),
        series(
          "kube_deployment_status_replicas_available",
          deploymentLabels,
          end,
          () => pods.length,
        ),
        ...upSeries(end, (t) => (t < T2 ? 1 : 0)),
      ],
      alert_rule_test: [
        ...firesAt(held(T2, hold.appDown), "PraAppNotScraped", { namespace: ns }),
        ...quiet(end, "PraAppUnavailable"),
      ],
    });
  }

  // 6. Missing series: a fresh install (no backup yet), a renamed CronJob (the old name's series
  // remains), a Deployment kube-state-metrics does not report.
  {
    const neverFires = held(0, rpo);
    const end = neverFires + 2 * E;
    const renamed = { ...cronLabels, cronjob: `${subjects.backupCronJob}-old` };
    groups.push({
      name: `${stack}: missing series`,
      interval: d(S),
      input_series: [
        series("kube_cronjob_status_last_successful_time", renamed, end, (t) => lastBackup(t)),
        ...upSeries(end, () => 1),
        ...ageSeries(end, (t) => t - lastBackup(t)),
      ],
      alert_rule_test: [
        ...firesAt(neverFires, "PraBackupNeverSucceeded", {
          namespace: ns,
          cronjob: subjects.backupCronJob,
        }),
        ...firesAt(held(0, hold.appDown), "PraAppUnavailable", { namespace: ns, deployment: app }),
        ...quiet(end, "PraBackupLate", "PraRpoBreached", "PraAppNotScraped"),
      ],
    });
  }

  // 7. The app sees no restore point at all (its age counts from the epoch): critical after the hold.
  {
    const end = held(0, hold.restorePointTooOld) + 2 * E;
    groups.push({
      name: `${stack}: the app reports no restore point`,
      interval: d(S),
      input_series: [
        series("kube_cronjob_status_last_successful_time", cronLabels, end, (t) => lastBackup(t)),
        ...healthyApp(end),
        ...ageSeries(end, (t) => EPOCH_AGE + t),
      ],
      alert_rule_test: firesAt(held(0, hold.restorePointTooOld), "PraRestorePointTooOld", {
        namespace: ns,
      }),
    });
  }

  return {
    groups,
    timeline: { backupsStopAt: T0, firesAt: fires, appDownFiresAfter: held(T2, hold.appDown) - T2 },
    alertsCovered: covered,
  };
}
