/**
 * From the raw keys of one stack file to a typed PraConfig, with every default filled in and
 * every derived value (schedules, deadlines, retention) computed. All problems are collected
 * and thrown together as one ConfigError.
 */
import type { z } from "zod";
import { type Duration, durationOf, formatDuration } from "./duration";
import { ConfigError, type ConfigProblem, describeFound } from "./errors";
import { formatQuantity, quantityBytes } from "./quantity";
import { SCENARIO_IDS, type ScenarioId } from "./scenarios";
import {
  cadenceAtMost,
  FASTEST_TIMING,
  longestGapSeconds,
  mostRunsWithin,
  runsOverlap,
  type Timing,
  timingCovering,
  timingFor,
  timingOf,
  timingWithin,
} from "./schedule";
import {
  expectationOf,
  keysOf,
  type LabSettings,
  type StackSettings,
  stackSettings,
  type TargetSettings,
  TOPOLOGIES,
  type Topology,
} from "./settings";
import {
  exportSecondsFor,
  LOGICAL_COPY_BYTES_PER_SECOND,
  provisionedDataBytes,
  RDS_MAX_BACKUP_RETENTION_DAYS,
} from "./target-design";
import type {
  BackupPolicy,
  LabConfig,
  Objectives,
  PraConfig,
  RestoreTestPolicy,
  TargetConfig,
} from "./types";

/** Defaults that differ by topology: the lab is the workshop, the target is production. */
export const TOPOLOGY_DEFAULTS: Record<
  Topology,
  {
    rpo: Duration;
    rto: Duration;
    retention: Duration;
    errorDetectionTime: Duration;
    onCallResponse: Duration;
    restoreTestEvery: Duration;
    monitoring: boolean;
    scenarios: readonly ScenarioId[];
  }
> = {
  // The workshop's promises: survive a crash and the loss of either volume, undo a mistake.
  lab: {
    rpo: durationOf("2m"),
    rto: durationOf("5m"),
    retention: durationOf("1h"),
    errorDetectionTime: durationOf("30m"),
    onCallResponse: durationOf("5m"),
    restoreTestEvery: durationOf("10m"),
    monitoring: false,
    scenarios: ["pod-crash", "data-volume-loss", "backup-volume-loss", "operator-error"],
  },
  // Production: every failure but a compromised account, whose locked copies are only as fresh
  // as AWS Backup's hourly schedule allows: declare it when the RPO allows that.
  target: {
    rpo: durationOf("15m"),
    rto: durationOf("1h"),
    retention: durationOf("14d"),
    errorDetectionTime: durationOf("7d"),
    onCallResponse: durationOf("15m"),
    restoreTestEvery: durationOf("1h"),
    monitoring: true,
    scenarios: SCENARIO_IDS.filter((id) => id !== "backups-deleted"),
  },
};

export interface StackValues {
  /** The stack's name (`lab`). */
  readonly stack: string;
  /** The stack file, as it should appear in messages (`Pulumi.lab.yaml`). */
  readonly file: string;
  /** Every key of the stack's config, namespaced as in the file (`pra:rpo`, `aws:region`). */
  readonly values: Readonly<Record<string, unknown>>;
}

export const NAMESPACE = "pra";

export function parseStackConfig({ stack, file, values }: StackValues): PraConfig {
  const raw: Record<string, unknown> = {};
  const foreign: string[] = [];
  for (const [key, value] of Object.entries(values)) {
    if (key.startsWith(`${NAMESPACE}:`)) raw[key.slice(NAMESPACE.length + 1)] = value;
    else foreign.push(key);
  }
  const topology = typeof raw.topology === "string" ? raw.topology : undefined;
  const misspelt = foreign.flatMap((key) => namespaceProblems(key, topology));
  const origin = { stack, file, region: values["aws:region"] };
  const parsed = stackSettings.safeParse(raw);
  if (parsed.success) {
    const problems: ConfigProblem[] = [...misspelt];
    const config = resolve(parsed.data, origin, problems);
    if (problems.length > 0 || !config) throw new ConfigError(file, problems);
    return config;
  }
  const problems = [
    ...misspelt,
    ...parsed.error.issues.flatMap((issue) => describeIssue(issue, raw)),
  ];
  // Report the checks between settings too, not only the malformed ones: set the bad keys
  // aside, check what is left, and keep what that finds about the other keys.
  const badKeys = new Set(problems.map((problem) => problem.key));
  const rest = Object.fromEntries(
    Object.entries(raw).filter(([key]) => !badKeys.has(`${NAMESPACE}:${key}`)),
  );
  const retry = badKeys.has(`${NAMESPACE}:topology`) ? undefined : stackSettings.safeParse(rest);
  if (retry?.success) {
    const derived: ConfigProblem[] = [];
    resolve(retry.data, origin, derived);
    problems.push(...derived.filter((problem) => !badKeys.has(problem.key)));
  }
  throw new ConfigError(file, problems);
}

function describeIssue(issue: z.core.$ZodIssue, raw: Record<string, unknown>): ConfigProblem[] {
  const topology = typeof raw.topology === "string" ? raw.topology : undefined;
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => ({
      key: `${NAMESPACE}:${key}`,
      message: unknownKeyMessage(key, topology),
    }));
  }
  const key = String(issue.path[0] ?? "topology");
  const expected =
    key === "topology"
      ? TOPOLOGIES.join(" or ")
      : (expectationOf(topology, key) ?? "a valid value");
  return [
    {
      key: `${NAMESPACE}:${key}`,
      message: `expected ${expected}; found ${describeFound(raw[key])}`,
    },
  ];
}

function unknownKeyMessage(key: string, topology: string | undefined): string {
  const own = TOPOLOGIES.find((t) => t === topology);
  const other = TOPOLOGIES.find((t) => t !== own && keysOf(t).includes(key));
  if (own && other) return `not a setting of topology ${own} (it applies to topology ${other})`;
  const nearest = nearestSetting(key, own);
  return `unknown setting${nearest ? `; did you mean ${NAMESPACE}:${nearest}?` : ""}`;
}

/**
 * The setting `key` most likely meant, if one is close: compared without case and without a
 * leading `pra` plus separator (`pra.rto` in a stack file reaches the program as `pra:pra.rto`,
 * Pulumi giving keys without a namespace the project's).
 */
function nearestSetting(key: string, topology: Topology | undefined): string | undefined {
  const candidates = topology ? keysOf(topology) : [...new Set(TOPOLOGIES.flatMap(keysOf))];
  const spelt = key.toLowerCase().replace(new RegExp(`^${NAMESPACE}[^a-z0-9]+`), "");
  const nearest = candidates
    .map((candidate) => ({ candidate, distance: editDistance(spelt, candidate.toLowerCase()) }))
    .sort((a, b) => a.distance - b.distance)[0];
  return nearest && nearest.distance <= 3 ? nearest.candidate : undefined;
}

/**
 * A key outside the `pra:` namespace that was meant to be in it: `Pra:rpo` (namespaces are
 * case-sensitive, so Pulumi hands it over under `Pra`, and the program would apply the
 * default), `pra.rto:x` or `pr:rto`. Other namespaces (`aws:region`, `kubernetes:context`)
 * belong to their providers and pass.
 */
function namespaceProblems(key: string, topology: string | undefined): ConfigProblem[] {
  const colon = key.indexOf(":");
  const namespace = colon < 0 ? "" : key.slice(0, colon);
  const name = colon < 0 ? key : key.slice(colon + 1);
  const near = editDistance(namespace.toLowerCase().replace(/[^a-z0-9]+$/, ""), NAMESPACE) <= 1;
  if (colon >= 0 && !near) return [];
  const own = TOPOLOGIES.find((t) => t === topology);
  const nearest = nearestSetting(name, own);
  return [
    {
      key,
      message:
        `expected a key in the ${NAMESPACE}: namespace, which is case-sensitive` +
        `${nearest ? `; did you mean ${NAMESPACE}:${nearest}?` : ""} (as written, it is not a ` +
        `${NAMESPACE} setting and the default would apply)`,
    },
  ];
}

interface Origin {
  readonly stack: string;
  readonly file: string;
  readonly region: unknown;
}

function resolve(
  settings: StackSettings,
  origin: Origin,
  problems: ConfigProblem[],
): PraConfig | undefined {
  const defaults = TOPOLOGY_DEFAULTS[settings.topology];
  const objectives: Objectives = {
    rpoSeconds: (settings.rpo ?? defaults.rpo).seconds,
    rtoSeconds: (settings.rto ?? defaults.rto).seconds,
    retentionSeconds: (settings.retention ?? defaults.retention).seconds,
    errorDetectionSeconds: (settings.errorDetectionTime ?? defaults.errorDetectionTime).seconds,
    onCallResponseSeconds: (settings.onCallResponse ?? defaults.onCallResponse).seconds,
    scenarios: settings.drScenarios ?? defaults.scenarios,
  };
  const backup = backupPolicy(settings, objectives, problems);
  const restoreTest =
    backup &&
    restoreTestPolicy(settings.restoreTestEvery ?? defaults.restoreTestEvery, backup, problems);
  if (!backup || !restoreTest) return undefined;
  const common = {
    stack: origin.stack,
    file: origin.file,
    namespace: settings.namespace,
    image: settings.image,
    objectives,
    backup,
    restoreTest,
    monitoring: settings.monitoring ?? defaults.monitoring,
    deployWorkloads: settings.deployWorkloads,
  };
  return settings.topology === "lab"
    ? labConfig(settings, common, problems)
    : targetConfig(settings, common, origin.region, problems);
}

function backupPolicy(
  settings: StackSettings,
  objectives: Objectives,
  problems: ConfigProblem[],
): BackupPolicy | undefined {
  const rpo = formatDuration(objectives.rpoSeconds);
  let timing: Timing | undefined;
  if (settings.topology === "target") {
    timing = exportTiming(settings, problems);
    if (!timing) return undefined;
  } else if (settings.backupSchedule !== undefined) {
    const gap = scheduleGap(settings, problems);
    if (gap === undefined) return undefined;
    timing = timingFor(settings.backupSchedule, gap);
    if (timing.worstCaseAgeSeconds > objectives.rpoSeconds) {
      const fits = timingWithin(objectives.rpoSeconds);
      problems.push({
        key: "pra:backupSchedule",
        message:
          `expected a schedule that keeps restore points within pra:rpo (${rpo})` +
          `${fits ? `, such as '${fits.schedule}'` : ""}; found ${describeFound(settings.backupSchedule)}, ` +
          `which runs up to ${formatDuration(gap)} apart: with its deadlines a restore point can be ` +
          `${formatDuration(timing.worstCaseAgeSeconds)} old`,
      });
      return undefined;
    }
  } else {
    timing = timingWithin(objectives.rpoSeconds);
    if (!timing) {
      problems.push({
        key: "pra:rpo",
        message:
          `expected at least ${formatDuration(FASTEST_TIMING.worstCaseAgeSeconds)}: a CronJob runs at most once a ` +
          `minute, a run may start ${FASTEST_TIMING.startingDeadlineSeconds}s late and take ` +
          `${FASTEST_TIMING.activeDeadlineSeconds}s, so a restore point can be ` +
          `${formatDuration(FASTEST_TIMING.worstCaseAgeSeconds)} old; found ${describeFound(settings.rpo?.text)}`,
      });
      return undefined;
    }
  }
  if (objectives.retentionSeconds < timing.intervalSeconds) {
    problems.push({
      key: "pra:retention",
      message:
        `expected at least the backup interval (${formatDuration(timing.intervalSeconds)}); ` +
        `found ${describeFound(settings.retention?.text)}`,
    });
    return undefined;
  }
  const holdsRpo = settings.topology === "lab";
  return {
    timing,
    scheduleIsExplicit: settings.backupSchedule !== undefined,
    keepWithinSeconds: objectives.retentionSeconds,
    keepLast: settings.backupKeepLast,
    holdsRpo,
    overdueAfterSeconds: holdsRpo ? objectives.rpoSeconds : timing.worstCaseAgeSeconds,
  };
}

/** The longest gap of pra:backupSchedule, or a problem saying why it is not a schedule. */
function scheduleGap(settings: StackSettings, problems: ConfigProblem[]): number | undefined {
  if (settings.backupSchedule === undefined) return undefined;
  try {
    return longestGapSeconds(settings.backupSchedule);
  } catch (error) {
    problems.push({
      key: "pra:backupSchedule",
      message:
        `expected ${expectationOf(settings.topology, "backupSchedule")}; ` +
        `found ${describeFound(settings.backupSchedule)} ` +
        `(${error instanceof Error ? error.message : String(error)})`,
    });
    return undefined;
  }
}

/**
 * The target's exports, timed by the database's size and not by the RPO, which RDS point-in-time
 * recovery and AWS Backup hold: each run may take what a dump of the provisioned storage and its
 * check take (exportSecondsFor, the figure the restore test's deadline and scratch space are sized
 * from too), and the next is not due before that and the starting deadline have passed.
 */
function exportTiming(settings: TargetSettings, problems: ConfigProblem[]): Timing | undefined {
  const runSeconds = exportSecondsFor(provisionedDataBytes(settings.dbAllocatedStorage));
  const fits = timingCovering(runSeconds);
  const why =
    `an export of pra:dbAllocatedStorage (${settings.dbAllocatedStorage} GiB) may take ` +
    `${formatDuration(runSeconds)} (dumped and checked at ` +
    `${LOGICAL_COPY_BYTES_PER_SECOND / 1024 ** 2} MiB/s, config/target-design.ts)`;
  if (settings.backupSchedule === undefined) {
    if (!fits) {
      problems.push({
        key: "pra:dbAllocatedStorage",
        message:
          `expected a database whose export finishes within a day: ${why}, ` +
          `more than a daily schedule leaves it; found ${settings.dbAllocatedStorage}`,
      });
    }
    return fits;
  }
  const gap = scheduleGap(settings, problems);
  if (gap === undefined) return undefined;
  const timing = timingOf(settings.backupSchedule, gap, runSeconds);
  if (runsOverlap(timing)) {
    problems.push({
      key: "pra:backupSchedule",
      message:
        `expected runs at least ${formatDuration(runSeconds + timing.startingDeadlineSeconds)} apart` +
        `${fits ? `, such as '${fits.schedule}'` : ""}: ${why}, and may start ` +
        `${formatDuration(timing.startingDeadlineSeconds)} late; found ` +
        `${describeFound(settings.backupSchedule)}, which runs ${formatDuration(gap)} apart`,
    });
    return undefined;
  }
  return timing;
}

function restoreTestPolicy(
  every: Duration,
  backup: BackupPolicy,
  problems: ConfigProblem[],
): RestoreTestPolicy | undefined {
  const cadence = cadenceAtMost(every.seconds);
  if (!cadence) {
    problems.push({
      key: "pra:restoreTestEvery",
      message: `expected at least 1m (a CronJob runs at most once a minute); found ${describeFound(every.text)}`,
    });
    return undefined;
  }
  return {
    schedule: cadence.cron,
    intervalSeconds: cadence.seconds,
    maxAgeSeconds: backup.timing.worstCaseAgeSeconds,
  };
}

type Common = Omit<LabConfig, "topology" | "databaseSize" | "volumes" | "alerts">;

function labConfig(
  settings: LabSettings,
  common: Common,
  problems: ConfigProblem[],
): LabConfig | undefined {
  const volumeProblems = labVolumeProblems(settings, common.backup);
  problems.push(...volumeProblems);
  if (volumeProblems.length > 0) return undefined;
  const storageClass = settings.storageClass;
  return {
    ...common,
    topology: "lab",
    databaseSize: settings.databaseSize,
    volumes: {
      data: { size: settings.dataVolumeSize, ...(storageClass ? { storageClass } : {}) },
      backup: { size: settings.backupVolumeSize, ...(storageClass ? { storageClass } : {}) },
    },
    alerts: settings.alertWebhookUrl ? { webhookUrl: settings.alertWebhookUrl } : {},
  };
}

/**
 * The lab's volumes against the database they hold. Every restore point is a full copy of the
 * database (apps/pra-app/src/backup/create.ts), so the backup volume holds as many copies as
 * retention keeps at its fullest, plus the one a run writes before it deletes the expired ones;
 * the data volume holds the database and the checked copy a restore puts beside it.
 */
function labVolumeProblems(settings: LabSettings, backup: BackupPolicy): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const database = quantityBytes(settings.databaseSize) ?? 0;
  const dataNeeded = 2 * database;
  if ((quantityBytes(settings.dataVolumeSize) ?? 0) < dataNeeded) {
    problems.push({
      key: "pra:dataVolumeSize",
      message:
        `expected at least ${formatQuantity(dataNeeded)}: twice pra:databaseSize ` +
        `(${settings.databaseSize}), the database and the copy a restore checks beside it; ` +
        `found ${describeFound(settings.dataVolumeSize)}`,
    });
  }
  const withinRetention = mostRunsWithin(backup.timing.schedule, backup.keepWithinSeconds);
  const copies = Math.max(backup.keepLast, withinRetention) + 1;
  const backupNeeded = copies * database;
  if ((quantityBytes(settings.backupVolumeSize) ?? 0) < backupNeeded) {
    const kept =
      withinRetention >= backup.keepLast
        ? `${withinRetention} kept by pra:retention (the most runs of ` +
          `'${backup.timing.schedule}' within ${formatDuration(backup.keepWithinSeconds)})`
        : `${backup.keepLast} kept by pra:backupKeepLast`;
    problems.push({
      key: "pra:backupVolumeSize",
      message:
        `expected at least ${formatQuantity(backupNeeded)}: ${copies} copies of pra:databaseSize ` +
        `(${settings.databaseSize}), ${kept} and the one a backup writes before deleting ` +
        `expired points; found ${describeFound(settings.backupVolumeSize)}`,
    });
  }
  return problems;
}

function targetConfig(
  settings: TargetSettings,
  common: Common,
  region: unknown,
  problems: ConfigProblem[],
): TargetConfig | undefined {
  const before = problems.length;
  const primary =
    typeof region === "string" && /^[a-z]{2}(-gov)?-[a-z]+-\d$/.test(region) ? region : undefined;
  if (primary === undefined) {
    problems.push({
      key: "aws:region",
      message: `expected the primary AWS region, such as eu-west-3; found ${describeFound(region)}`,
    });
  } else if (settings.drRegion === primary) {
    problems.push({
      key: "pra:drRegion",
      message:
        `expected a region other than aws:region (${primary}): a disaster that takes the primary ` +
        `region takes its copies with it; found ${describeFound(settings.drRegion)}`,
    });
  }
  if (settings.maxNodesPerZone < settings.nodesPerZone) {
    problems.push({
      key: "pra:maxNodesPerZone",
      message: `expected at least pra:nodesPerZone (${settings.nodesPerZone}); found ${settings.maxNodesPerZone}`,
    });
  }
  if (settings.dbMaxAllocatedStorage < settings.dbAllocatedStorage) {
    problems.push({
      key: "pra:dbMaxAllocatedStorage",
      message:
        `expected at least pra:dbAllocatedStorage (${settings.dbAllocatedStorage}); ` +
        `found ${settings.dbMaxAllocatedStorage}`,
    });
  }
  const backupRetentionDays = Math.ceil(common.objectives.retentionSeconds / 86400);
  if (backupRetentionDays > RDS_MAX_BACKUP_RETENTION_DAYS) {
    problems.push({
      key: "pra:retention",
      message:
        `expected at most ${RDS_MAX_BACKUP_RETENTION_DAYS}d, the longest RDS keeps point-in-time ` +
        `recovery; found ${describeFound(settings.retention?.text)}`,
    });
  }
  if (problems.length > before || primary === undefined) return undefined;
  return {
    ...common,
    topology: "target",
    region: primary,
    dr: { region: settings.drRegion, strategy: settings.drStrategy },
    network: { availabilityZones: settings.availabilityZones, natGateways: settings.natGateways },
    cluster: {
      kubernetesVersion: settings.kubernetesVersion,
      nodeInstanceType: settings.nodeInstanceType,
      nodesPerZone: settings.nodesPerZone,
      maxNodesPerZone: settings.maxNodesPerZone,
      apiAccessCidrs: settings.apiAccessCidrs ?? [],
    },
    database: {
      instanceClass: settings.dbInstanceClass,
      engineVersion: settings.dbEngineVersion,
      allocatedStorageGb: settings.dbAllocatedStorage,
      maxAllocatedStorageGb: settings.dbMaxAllocatedStorage,
      backupRetentionDays,
      ...(settings.rdsSnapshotQuota !== undefined
        ? { snapshotQuota: settings.rdsSnapshotQuota }
        : {}),
    },
    app: { replicas: settings.replicas },
    ...(settings.serviceDomain !== undefined ? { serviceDomain: settings.serviceDomain } : {}),
    alerts: settings.alertEmail ? { email: settings.alertEmail } : {},
  };
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length]!;
}
