/**
 * What a stack's design provides, read from the objects it deploys: the synthesized manifests
 * (schedules, deadlines, retention flags, probes, replicas, alert rules) and, for the target,
 * the cloud design (config/target-design.ts, the figures the AWS components are built from).
 * The recovery model reads only these facts, so it describes what is deployed, not what was meant.
 */

import { type BackupSelection, backupSelectionOf } from "./backup-selection";
import { type CredentialRotationFacts, credentialRotationOf } from "./credentials";
import {
  isKind,
  type Kind,
  type Manifest,
  type ManifestOf,
  type IContainer,
  type IPodSpec,
  nameOf,
  ofKind,
  podSpecOf,
  specOf,
} from "../charts/manifest";
import {
  describeTargetDesign,
  type LabConfig,
  longestGapSeconds,
  type PraConfig,
  parseDuration,
  quantityBytes,
  type TargetConfig,
  type TargetDesign,
} from "../config";

export interface ScheduleFacts {
  readonly cronJob: string;
  readonly schedule: string;
  /** The longest gap between two scheduled runs. */
  readonly intervalSeconds: number;
  readonly startingDeadlineSeconds: number;
  readonly activeDeadlineSeconds: number;
  /** `--keep-within` of the backup command. */
  readonly keepWithinSeconds?: number;
  /** `--keep-last` of the backup command. */
  readonly keepLast?: number;
}

export interface AppFacts {
  readonly name: string;
  /** Pods serving at the least: the replica count, or the autoscaler's floor. */
  readonly minReplicas: number;
  /** A hung container is restarted after this long (liveness period × failure threshold). */
  readonly livenessSeconds: number;
  /** A failing pod leaves the Service after this long (readiness period × failure threshold). */
  readonly readinessSeconds: number;
  readonly terminationGraceSeconds: number;
  /** Pods must spread over zones (a DoNotSchedule zone constraint). */
  readonly spreadOverZones: boolean;
}

export interface AlertFacts {
  /** How long after the app goes down the PraAppUnavailable alert fires (its `for`), when the rule exists. */
  readonly appDownSeconds?: number;
  readonly alerts: readonly string[];
}

interface CommonFacts {
  readonly stack: string;
  readonly file: string;
  readonly namespace: string;
  readonly app: AppFacts;
  readonly backup: ScheduleFacts;
  readonly restoreTest: ScheduleFacts;
  readonly alerting: AlertFacts;
  /** Every synced object, `Kind/name`, for the topology diagram. */
  readonly objects: readonly Manifest[];
}

export interface LabFacts extends CommonFacts {
  readonly topology: "lab";
  readonly volumes: {
    readonly data: { readonly claim: string; readonly bytes: number };
    readonly backup: { readonly claim: string; readonly bytes: number };
    /** Unset: the cluster's default class, which on k3d, kind and minikube is a node-local disk. */
    readonly storageClass?: string;
  };
  /** The run-once restore Job, from the ops charts. */
  readonly restoreJob: string;
}

export interface TargetFacts extends CommonFacts {
  readonly topology: "target";
  readonly design: TargetDesign;
  /** What AWS Backup snapshots, from the deployed objects (dr/backup-selection.ts). */
  readonly backupSelection: BackupSelection;
  /** How the database credentials rotate and reach the pods (dr/credentials.ts). */
  readonly credentials: CredentialRotationFacts;
  readonly allocatedStorageGb: number;
}

export type DesignFacts = LabFacts | TargetFacts;

export function factsOf(
  config: PraConfig,
  synced: readonly Manifest[],
  ops: readonly Manifest[],
): DesignFacts {
  const common = {
    stack: config.stack,
    file: config.file,
    namespace: config.namespace,
    app: appFacts(synced),
    backup: scheduleFacts(synced, "backup"),
    restoreTest: scheduleFacts(synced, "verify"),
    alerting: alertFacts(synced),
    objects: synced,
  };
  return config.topology === "lab"
    ? labFacts(config, common, synced, ops)
    : targetFacts(config, common, synced);
}

function labFacts(
  config: LabConfig,
  common: CommonFacts,
  synced: readonly Manifest[],
  ops: readonly Manifest[],
): LabFacts {
  const claims = ofKind(synced, "PersistentVolumeClaim");
  const pod = podSpecOf(only(synced, "Deployment"));
  const claimAt = (path: string) => {
    const mount = firstContainer(pod).volumeMounts?.find((m) => m.mountPath === path);
    const volume = pod.volumes?.find((v) => v.name === mount?.name);
    const claim = claims.find((c) => c.metadata.name === volume?.persistentVolumeClaim?.claimName);
    if (!claim) throw new Error(`${config.file}: the app mounts no claim at ${path}`);
    const storage = specOf(claim).resources?.requests?.storage;
    return {
      claim: claim.metadata.name,
      bytes: (typeof storage === "string" ? quantityBytes(storage) : storage) ?? 0,
    };
  };
  const job = ops.find((m) => isKind(m, "Job"));
  if (!job) throw new Error(`${config.file}: no restore Job among the ops objects`);
  return {
    ...common,
    topology: "lab",
    volumes: {
      data: claimAt("/data"),
      backup: claimAt("/backup"),
      ...(config.volumes.data.storageClass
        ? { storageClass: config.volumes.data.storageClass }
        : {}),
    },
    restoreJob: job.metadata.name,
  };
}

function targetFacts(
  config: TargetConfig,
  common: CommonFacts,
  synced: readonly Manifest[],
): TargetFacts {
  return {
    ...common,
    topology: "target",
    design: describeTargetDesign(config),
    backupSelection: backupSelectionOf(config, synced),
    credentials: credentialRotationOf(config, synced),
    allocatedStorageGb: config.database.allocatedStorageGb,
  };
}

function appFacts(synced: readonly Manifest[]): AppFacts {
  const deployment = only(synced, "Deployment");
  const pod = podSpecOf(deployment);
  const container = firstContainer(pod);
  const probeSeconds = (probe: { periodSeconds?: number; failureThreshold?: number } | undefined) =>
    (probe?.periodSeconds ?? 10) * (probe?.failureThreshold ?? 3);
  const autoscaler = ofKind(synced, "HorizontalPodAutoscaler").find(
    (m) => m.spec?.scaleTargetRef.name === deployment.metadata.name,
  );
  return {
    name: deployment.metadata.name,
    minReplicas: autoscaler?.spec?.minReplicas ?? deployment.spec?.replicas ?? 1,
    livenessSeconds: probeSeconds(container.livenessProbe),
    readinessSeconds: probeSeconds(container.readinessProbe),
    terminationGraceSeconds: pod.terminationGracePeriodSeconds ?? 30,
    spreadOverZones: (pod.topologySpreadConstraints ?? []).some(
      (c) =>
        c.topologyKey === "topology.kubernetes.io/zone" && c.whenUnsatisfiable === "DoNotSchedule",
    ),
  };
}

/** The CronJob whose container runs `pra-app <command>`. */
function scheduleFacts(synced: readonly Manifest[], command: "backup" | "verify"): ScheduleFacts {
  const cronJob = ofKind(synced, "CronJob").find(
    (m) => firstContainer(podSpecOf(m)).args?.[0] === command,
  );
  if (!cronJob) throw new Error(`no CronJob runs pra-app ${command}`);
  const spec = specOf(cronJob);
  const args = firstContainer(podSpecOf(cronJob)).args ?? [];
  const flag = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const keepWithin = flag("--keep-within");
  const keepLast = flag("--keep-last");
  const keepWithinSeconds = keepWithin === undefined ? undefined : parseDuration(keepWithin);
  if (keepWithin !== undefined && keepWithinSeconds === undefined) {
    throw new Error(`${nameOf(cronJob)}: --keep-within ${keepWithin} is not a duration`);
  }
  return {
    cronJob: cronJob.metadata.name,
    schedule: spec.schedule,
    intervalSeconds: longestGapSeconds(spec.schedule),
    startingDeadlineSeconds: spec.startingDeadlineSeconds ?? 0,
    activeDeadlineSeconds: spec.jobTemplate.spec?.activeDeadlineSeconds ?? 0,
    ...(keepWithinSeconds !== undefined ? { keepWithinSeconds } : {}),
    ...(keepLast !== undefined ? { keepLast: Number(keepLast) } : {}),
  };
}

function alertFacts(synced: readonly Manifest[]): AlertFacts {
  const rules = ofKind(synced, "PrometheusRule").flatMap((m) =>
    specOf(m).groups.flatMap((g) => g.rules),
  );
  const appDown = rules.find((r) => r.alert === "PraAppUnavailable");
  return {
    alerts: rules.map((r) => r.alert),
    ...(appDown ? { appDownSeconds: parseDuration(appDown.for ?? "0s") ?? 0 } : {}),
  };
}

function only<K extends Kind>(manifests: readonly Manifest[], kind: K): ManifestOf<K> {
  const found = ofKind(manifests, kind);
  const [one] = found;
  if (!one || found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`);
  return one;
}

function firstContainer(pod: IPodSpec): IContainer {
  const [container] = pod.containers;
  if (!container) throw new Error("a pod without containers");
  return container;
}
