/**
 * A TEST STAND-IN for a one-node Kubernetes cluster, to replay the runbooks (test/dr/replay.test.ts).
 * It is not a cluster and not a general simulator: it models only what decides whether the
 * project's runbooks work, and runs the real app where a container would.
 *
 * No maintained fake fits: client-go's and controller-runtime's fake clients and mockernetes
 * (Python) store objects without controllers or volumes; kwok and fakeapiserver need a real
 * kube-apiserver and etcd, which this machine cannot install. None runs a container's command.
 *
 * What it models (each one a reason a runbook can hang or lose data):
 * - objects applied from dist/<stack>/ (apply -f/-k), into namespaces that must exist; a Job's pod
 *   template cannot change in place;
 * - Deployments (replicas, Recreate), CronJobs (schedule, suspend, startingDeadlineSeconds,
 *   concurrencyPolicy Forbid), Jobs (backoffLimit, activeDeadlineSeconds, ttlSecondsAfterFinished);
 * - claim protection: a deleted claim stays Terminating while a scheduled, unfinished pod mounts it,
 *   then goes with its volume (reclaim policy Delete, as local-path and hostpath provisioners do);
 * - scheduling: a pod waits (Pending) while a claim it mounts is missing or Terminating, or while
 *   its required pod affinity has no match; ReadWriteOnce claims bind to the one node;
 * - deletion: a pod gets SIGTERM and is gone when its process exits, or at the end of its grace
 *   period; `delete` and `wait` honour --timeout, and time out instead of hanging;
 * - for the target's failover (test/dr/failover-replay.test.ts): containers read their environment
 *   from Secrets and ConfigMaps (`valueFrom`, `envFrom`); an Ingress gets a load balancer's name
 *   in its status, as the AWS Load Balancer Controller gives it; External Secrets is played by
 *   `externalSecrets`: an ExternalSecret annotated (force-sync) renders its template (only
 *   `{{ .key }}` and `{{ .key | urlquery }}`) from what the test's secrets source holds into its
 *   target Secret, and is Ready once that Secret exists.
 *
 * Volumes are real directories. A Job's container runs the real `pra-app` CLI in this process
 * (test/support/pra-app.ts's runPraApp) with its mounts mapped to those directories; a Deployment's
 * container runs `pra-app serve` as a process, ready once /ready answers. So a replay checks data.
 *
 * Time: the cluster's clock is the real clock plus an offset. When nothing real is in progress (no
 * process starting or stopping) and every pending wait is idle, the clock jumps to the next thing
 * due (a CronJob run, the end of a grace period, a Job's deadline), or after a quiet spell to the
 * first wait's timeout, so a wait of minutes takes milliseconds to seconds. The CLI runs in this
 * process see the cluster's clock (restore points are named by it); `pra-app serve` sees the real
 * clock. Only one node is modelled (the lab's): node, zone and region losses are not replayed,
 * since the lab does not survive them.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { CronExpressionParser } from "cron-parser";
import { parse as parseYaml } from "yaml";
import {
  type IPodSpec,
  isKind,
  isManifest,
  type Manifest,
  type ManifestOf,
  manifestsFromYaml,
} from "../../charts/manifest";
import { freePort } from "../support/postgres";
import { cleanEnv, PRA_APP_BIN, runPraApp } from "../support/pra-app";

export const NODE = "node-1";
const DEFAULT_GRACE_SECONDS = 30;

type Phase = "Pending" | "Running" | "Succeeded" | "Failed";

interface Serve {
  readonly child: ChildProcess;
  readonly url: string;
  exited: boolean;
  logs: string;
}

export interface Pod {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly owner: { readonly kind: "Deployment" | "Job"; readonly name: string };
  readonly spec: IPodSpec;
  phase: Phase;
  node?: string;
  /** Why it is Pending, or how it ended. */
  reason: string;
  ready: boolean;
  deletingSince?: number;
  logs: string;
  serve?: Serve;
  restarts: number;
  restartAt?: number;
  /** Directories of its emptyDir volumes. */
  readonly scratch: string;
}

interface Claim {
  manifest: ManifestOf<"PersistentVolumeClaim">;
  readonly dir: string;
  node?: string;
  deletingSince?: number;
}

interface Wait {
  readonly deadline: number;
  /** Real time (performance.now) since when it has found nothing under way. */
  idleSince?: number;
}

/** How long every wait must have been idle before the clock jumps to a deadline. */
const QUIET_MS = 1500;

interface JobState {
  manifest: ManifestOf<"Job">;
  readonly createdAt: number;
  readonly pods: string[];
  condition?: "Complete" | "Failed";
  reason?: string;
  finishedAt?: number;
}

export interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const key = (namespace: string, name: string) => `${namespace}/${name}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A Deployment's desired replicas: the API server defaults a missing `spec.replicas` to 1 (the
 * target's Deployment leaves it to its autoscaler), so every reader of the stand-in gets the same.
 */
export function replicasOf(deployment: ManifestOf<"Deployment">): number {
  return deployment.spec?.replicas ?? 1;
}

/** In-process CLI runs share process.env and stdout: one at a time, across every cluster. */
let containerQueue: Promise<unknown> = Promise.resolve();

export class Cluster {
  /** What happened, in order, for failure messages. */
  readonly events: string[] = [];
  /** Waits and deletes that ran out of time: a runbook step that would hang. */
  readonly timeouts: string[] = [];
  private offsetMs = 0;
  private readonly namespaces = new Set<string>();
  /** Objects the stand-in stores but does not act on (Services, NetworkPolicies ...). */
  private readonly inert = new Map<string, Manifest>();
  readonly deployments = new Map<string, ManifestOf<"Deployment">>();
  readonly cronJobs = new Map<string, ManifestOf<"CronJob">>();
  private readonly lastScheduled = new Map<string, number>();
  readonly jobs = new Map<string, JobState>();
  readonly pods = new Map<string, Pod>();
  readonly claims = new Map<string, Claim>();
  private sequence = 0;
  private lock: Promise<unknown> = Promise.resolve();
  /** The waits under way, for moving the clock only when all of them are idle. */
  private readonly waits = new Set<Wait>();

  /**
   * External Secrets, as the test plays it: the entry a key names (a secret's JSON fields), and a
   * rewrite of each rendered value (a test's PostgreSQL has no TLS). Unset: nothing is synced.
   */
  externalSecrets?: {
    readonly source: (key: string) => Record<string, string> | undefined;
    readonly rewrite?: (value: string) => string;
  };

  /** Tells clusters apart where they name things (their load balancers). */
  name = "standin";

  /** `root` holds the volumes' directories. */
  constructor(private readonly root: string) {}

  /** A stored object the stand-in does not run (a ConfigMap, a Secret, an Ingress ...). */
  inertObject(kind: string, namespace: string, name: string): Manifest | undefined {
    const id = key(namespace, name).toLowerCase();
    for (const [k, manifest] of this.inert)
      if (k.toLowerCase() === `${kind.toLowerCase()}/${id}`) return manifest;
    return undefined;
  }

  /**
   * External Secrets' sync of `externalsecret/name` (on a force-sync annotation): its target
   * Secret, with the template rendered from the source's entry. False when nothing was synced.
   */
  syncExternalSecret(namespace: string, name: string): boolean {
    const external = this.inertObject("ExternalSecret", namespace, name);
    if (!external || !isKind(external, "ExternalSecret") || !external.spec)
      throw notFound("externalsecrets.external-secrets.io", name);
    const { spec } = external;
    const entry = spec.dataFrom
      ?.map((from) => from.extract?.key)
      .filter((k): k is string => k !== undefined)
      .map((k) => this.externalSecrets?.source(k))
      .find((found) => found !== undefined);
    if (!entry) {
      this.note(`externalsecret ${namespace}/${name}: no entry in the secrets source`);
      return false;
    }
    const render = (template: string) =>
      template.replace(/\{\{ \.(\w+)( \| urlquery)? \}\}/g, (_, field: string, query?: string) => {
        const value = entry[field] ?? "";
        return query ? encodeURIComponent(value) : value;
      });
    const rewrite = this.externalSecrets?.rewrite ?? ((value: string) => value);
    const data = Object.fromEntries(
      Object.entries(spec.target.template?.data ?? entry).map(([k, v]) => [k, rewrite(render(v))]),
    );
    const secret: Manifest = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: spec.target.name, namespace },
      stringData: data,
    };
    this.store(this.inert, `Secret/${key(namespace, spec.target.name)}`, secret, "");
    this.note(`externalsecret ${namespace}/${name} synced into secret ${spec.target.name}`);
    return true;
  }

  /** A value from a Secret or ConfigMap, as a container's environment reads it. */
  private referenced(kind: "Secret" | "ConfigMap", namespace: string, name: string) {
    const object = this.inertObject(kind, namespace, name);
    if (!object) return undefined;
    const values: Record<string, string> = {};
    const record = (value: unknown, decode: boolean) => {
      if (typeof value !== "object" || value === null) return;
      for (const [k, v] of Object.entries(value))
        if (typeof v === "string") values[k] = decode ? Buffer.from(v, "base64").toString() : v;
    };
    if ("data" in object) record(object.data, kind === "Secret");
    if ("stringData" in object) record(object.stringData, false);
    return values;
  }

  now(): number {
    // Not Date.now(): in-process CLI runs see Date.now() mocked to a cluster's clock.
    return Math.round(performance.timeOrigin + performance.now()) + this.offsetMs;
  }

  /** Runs `work` alone: controllers and commands never interleave. */
  serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = this.lock.then(work, work);
    this.lock = run.catch(() => undefined);
    return run;
  }

  private note(message: string): void {
    this.events.push(`${new Date(this.now()).toISOString()} ${message}`);
  }

  // ---- objects -------------------------------------------------------------------------------

  /** `kubectl apply` of `manifests`, in order; returns kubectl's lines. */
  apply(manifests: readonly Manifest[], defaultNamespace: string): string[] {
    return manifests.map((manifest) => {
      const name = manifest.metadata.name;
      const label = `${manifest.kind.toLowerCase()}/${name}`;
      if (isKind(manifest, "Namespace")) {
        const created = !this.namespaces.has(name);
        this.namespaces.add(name);
        return `${label} ${created ? "created" : "unchanged"}`;
      }
      const namespace = manifest.metadata.namespace ?? defaultNamespace;
      if (!this.namespaces.has(namespace))
        throw new KubectlError(`Error from server (NotFound): namespaces "${namespace}" not found`);
      const id = key(namespace, name);
      const placed: Manifest = { ...manifest, metadata: { ...manifest.metadata, namespace } };
      if (isKind(placed, "PersistentVolumeClaim")) {
        const existing = this.claims.get(id);
        if (existing) return `${label} unchanged`;
        this.sequence++;
        const dir = join(this.root, "volumes", `${namespace}-${name}-${this.sequence}`);
        mkdirSync(dir, { recursive: true });
        this.claims.set(id, { manifest: placed, dir });
        this.note(`claim ${id} created (volume ${dir})`);
        return `${label} created`;
      }
      if (isKind(placed, "Deployment")) return this.store(this.deployments, id, placed, label);
      if (isKind(placed, "CronJob")) {
        if (!this.lastScheduled.has(id)) this.lastScheduled.set(id, this.now());
        return this.store(this.cronJobs, id, placed, label);
      }
      if (isKind(placed, "Job")) {
        const existing = this.jobs.get(id);
        if (existing) {
          const same =
            JSON.stringify(existing.manifest.spec?.template) ===
            JSON.stringify(placed.spec?.template);
          if (!same)
            throw new KubectlError(
              `The Job "${name}" is invalid: spec.template: Invalid value: field is immutable`,
            );
          return `${label} unchanged`;
        }
        this.jobs.set(id, { manifest: placed, createdAt: this.now(), pods: [] });
        this.note(`job ${id} created`);
        return `${label} created`;
      }
      return this.store(this.inert, `${placed.kind}/${id}`, placed, label);
    });
  }

  private store<T extends Manifest>(map: Map<string, T>, id: string, value: T, label: string) {
    const existing = map.get(id);
    map.set(id, value);
    return `${label} ${existing === undefined ? "created" : "configured"}`;
  }

  /** `kubectl apply -f <file or folder>` / `-k <folder>`: the objects the path holds. */
  static read(path: string, kustomize: boolean): Manifest[] {
    if (kustomize) {
      const kustomization: unknown = parseYaml(
        readFileSync(join(path, "kustomization.yaml"), "utf8"),
      );
      const resources =
        typeof kustomization === "object" &&
        kustomization !== null &&
        "resources" in kustomization &&
        Array.isArray(kustomization.resources)
          ? kustomization.resources.filter((item): item is string => typeof item === "string")
          : [];
      return resources.flatMap((file) => Cluster.read(join(path, file), false));
    }
    if (statSync(path).isDirectory()) {
      return readdirSync(path)
        .filter((name) => /\.(ya?ml|json)$/.test(name) && name !== "kustomization.yaml")
        .sort()
        .flatMap((name) => Cluster.read(join(path, name), false));
    }
    return manifestsFromYaml(readFileSync(path, "utf8"), path);
  }

  /** A JSON merge patch (RFC 7386) of an object, as `kubectl patch --type=merge` and `scale` do. */
  patch(kind: string, namespace: string, name: string, patch: unknown): string {
    const id = key(namespace, name);
    const apply = <T extends Manifest>(map: Map<string, T>, is: (m: Manifest) => m is T) => {
      const current = map.get(id);
      if (!current) throw notFound(kind, name);
      const merged: unknown = mergePatch(current, patch);
      if (!isManifest(merged) || !is(merged))
        throw new KubectlError(`the patch makes ${kind}/${name} invalid`);
      map.set(id, merged);
      this.note(`${kind} ${id} patched with ${JSON.stringify(patch)}`);
      return `${kind}.${kind === "deployment" ? "apps" : "batch"}/${name} patched`;
    };
    if (kind === "deployment")
      return apply(this.deployments, (m): m is ManifestOf<"Deployment"> => isKind(m, "Deployment"));
    if (kind === "cronjob")
      return apply(this.cronJobs, (m): m is ManifestOf<"CronJob"> => isKind(m, "CronJob"));
    throw new KubectlError(`the stand-in patches deployments and cronjobs, not ${kind}`);
  }

  /** Starts deleting an object; the caller waits for it to be gone when kubectl would. */
  delete(kind: string, namespace: string, name: string): boolean {
    const id = key(namespace, name);
    if (kind === "persistentvolumeclaim") {
      const claim = this.claims.get(id);
      if (!claim) return false;
      if (claim.deletingSince === undefined) {
        claim.deletingSince = this.now();
        this.note(`claim ${id} marked for deletion`);
      }
      return true;
    }
    if (kind === "job") {
      const job = this.jobs.get(id);
      if (!job) return false;
      this.jobs.delete(id);
      for (const pod of job.pods) this.deletePod(namespace, pod);
      this.note(`job ${id} deleted`);
      return true;
    }
    if (kind === "pod") {
      if (!this.pods.has(id)) return false;
      this.deletePod(namespace, name);
      return true;
    }
    if (kind === "deployment") return this.deployments.delete(id);
    if (kind === "cronjob") return this.cronJobs.delete(id);
    throw new KubectlError(`the stand-in does not delete ${kind}`);
  }

  /** Whether the object exists (a Terminating one does). */
  exists(kind: string, namespace: string, name: string): boolean {
    const id = key(namespace, name);
    if (kind === "persistentvolumeclaim") return this.claims.has(id);
    if (kind === "job") return this.jobs.has(id);
    if (kind === "pod") return this.pods.has(id);
    if (kind === "deployment") return this.deployments.has(id);
    if (kind === "cronjob") return this.cronJobs.has(id);
    if (kind === "namespace") return this.namespaces.has(name);
    return [...this.inert.keys()].some((k) => k.toLowerCase().endsWith(`/${id}`));
  }

  /** A Job created from a CronJob's template (`kubectl create job NAME --from=cronjob/X`). */
  createJobFrom(namespace: string, cronJob: string, name: string): void {
    const cron = this.cronJobs.get(key(namespace, cronJob));
    if (!cron) throw notFound("cronjobs.batch", cronJob);
    if (this.jobs.has(key(namespace, name)))
      throw new KubectlError(
        `Error from server (AlreadyExists): jobs.batch "${name}" already exists`,
      );
    this.createJob(cron, name);
  }

  private createJob(cron: ManifestOf<"CronJob">, name: string): void {
    const namespace = cron.metadata.namespace ?? "default";
    const manifest: ManifestOf<"Job"> = {
      apiVersion: "batch/v1",
      kind: "Job",
      // As the CronJob controller (and `kubectl create job --from`) writes them: its owner, so
      // that a reader (npm run status) finds a CronJob's Jobs, and when it was created.
      metadata: {
        name,
        namespace,
        labels: cron.metadata.labels ?? {},
        ownerReferences: [
          { apiVersion: "batch/v1", kind: "CronJob", name: cron.metadata.name, uid: "" },
        ],
        creationTimestamp: new Date(this.now()).toISOString(),
      },
      ...(cron.spec?.jobTemplate.spec ? { spec: cron.spec.jobTemplate.spec } : {}),
    };
    this.jobs.set(key(namespace, name), { manifest, createdAt: this.now(), pods: [] });
    this.note(`job ${namespace}/${name} created from cronjob ${cron.metadata.name}`);
  }

  /** Pods in `namespace` whose labels match every `selector` pair. */
  podsMatching(namespace: string, selector: Readonly<Record<string, string>>): Pod[] {
    return [...this.pods.values()].filter(
      (pod) =>
        pod.namespace === namespace &&
        Object.entries(selector).every(([k, v]) => pod.labels[k] === v),
    );
  }

  // ---- time and controllers -------------------------------------------------------------------

  /**
   * Waits (on this cluster's clock, up to two minutes) until the first pod is ready: the app's
   * first start after an apply. Throws with `story` (the cluster's events by default) if it is not.
   */
  async firstPodReady(story: () => string = () => this.events.join("\n")): Promise<void> {
    const ready = await this.until(
      () => [...this.pods.values()].some((pod) => pod.ready),
      120,
      "the app's first start",
    );
    if (!ready) throw new Error(`the app did not start:\n${story()}`);
  }

  /**
   * Reconciles until `done()` or `timeoutSeconds` of cluster time; false on a timeout (recorded).
   * `signal` stops it when the caller goes away (kubectl killed).
   */
  async until(
    done: () => boolean,
    timeoutSeconds: number,
    what: string,
    signal?: AbortSignal,
  ): Promise<boolean> {
    const deadline =
      (await this.serialized(() => Promise.resolve(this.now()))) + timeoutSeconds * 1000;
    const wait: Wait = { deadline };
    this.waits.add(wait);
    try {
      for (;;) {
        if (signal?.aborted) return false;
        const state = await this.serialized(async () => {
          await this.reconcile();
          if (done()) return "done";
          if (this.now() >= deadline) return "timeout";
          return this.inFlight() ? "busy" : "idle";
        });
        if (state === "done") return true;
        if (state === "timeout") {
          this.timeouts.push(what);
          this.note(`TIMEOUT after ${timeoutSeconds}s: ${what}`);
          return false;
        }
        if (state === "idle") wait.idleSince ??= performance.now();
        else delete wait.idleSince;
        // Let the requests this one runs beside act before the clock moves.
        await sleep(state === "busy" ? 20 : 5);
        if (state === "idle" && !signal?.aborted) await this.serialized(() => this.jump());
      }
    } finally {
      this.waits.delete(wait);
    }
  }

  /**
   * Moves the clock once every pending wait is idle (nothing real under way): to the next thing
   * due, or, when nothing is due before the first deadline, to that deadline after a quiet spell.
   * The spell lets a runbook stop a failure watch whose Job completed before the watch's own
   * timeout is reached and recorded as a hang.
   */
  private jump(): Promise<void> {
    const waits = [...this.waits];
    const quietSince = Math.max(...waits.map((w) => w.idleSince ?? Number.POSITIVE_INFINITY));
    if (!Number.isFinite(quietSince) || this.inFlight()) return Promise.resolve();
    const firstDeadline = Math.min(...waits.map((w) => w.deadline));
    const next = this.nextEventAt();
    const target =
      next !== undefined && next < firstDeadline
        ? next
        : performance.now() - quietSince > QUIET_MS
          ? firstDeadline
          : undefined;
    if (target !== undefined && target > this.now()) this.offsetMs += target - this.now();
    return Promise.resolve();
  }

  /** Advances the cluster's clock by `seconds`, reconciling at every event on the way. */
  async advance(seconds: number): Promise<void> {
    const end = (await this.serialized(() => Promise.resolve(this.now()))) + seconds * 1000;
    for (;;) {
      const state = await this.serialized(async () => {
        await this.reconcile();
        if (this.inFlight()) return "busy";
        if (this.now() >= end) return "done";
        const target = Math.min(end, this.nextEventAt() ?? end);
        if (target > this.now()) this.offsetMs += target - this.now();
        return "jumped";
      });
      if (state === "done") return;
      await sleep(state === "busy" ? 20 : 1);
    }
  }

  /** Something real is under way: a process starting or stopping. */
  private inFlight(): boolean {
    return [...this.pods.values()].some(
      (pod) =>
        pod.serve !== undefined &&
        !pod.serve.exited &&
        (pod.deletingSince !== undefined || !pod.ready),
    );
  }

  private nextEventAt(): number | undefined {
    const times: number[] = [];
    for (const [id, cron] of this.cronJobs) {
      if (cron.spec?.suspend === true) continue;
      const runs = CronExpressionParser.parse(cron.spec?.schedule ?? "* * * * *", {
        currentDate: new Date(Math.max(this.now(), this.lastScheduled.get(id) ?? 0)),
        tz: "UTC",
      });
      times.push(runs.next().getTime());
    }
    for (const pod of this.pods.values()) {
      if (pod.deletingSince !== undefined)
        times.push(pod.deletingSince + graceSeconds(pod.spec) * 1000);
      if (pod.restartAt !== undefined) times.push(pod.restartAt);
    }
    for (const job of this.jobs.values()) {
      const spec = job.manifest.spec;
      if (job.finishedAt !== undefined && spec?.ttlSecondsAfterFinished !== undefined)
        times.push(job.finishedAt + spec.ttlSecondsAfterFinished * 1000);
      if (job.condition === undefined && spec?.activeDeadlineSeconds !== undefined)
        times.push(job.createdAt + spec.activeDeadlineSeconds * 1000);
    }
    const future = times.filter((t) => t > this.now());
    return future.length > 0 ? Math.min(...future) : undefined;
  }

  /** One pass of every controller. */
  async reconcile(): Promise<void> {
    this.runCronJobs();
    this.runDeployments();
    this.runJobs();
    await this.runPods();
    this.runJobs();
    this.releaseClaims();
  }

  private runCronJobs(): void {
    for (const [id, cron] of this.cronJobs) {
      const spec = cron.spec;
      if (!spec || spec.suspend === true) continue;
      const last = this.lastScheduled.get(id) ?? this.now();
      // prev() is strictly before its date: a run due this very millisecond counts.
      const due = CronExpressionParser.parse(spec.schedule, {
        currentDate: new Date(this.now() + 1),
        tz: "UTC",
      })
        .prev()
        .getTime();
      if (due <= last) continue;
      this.lastScheduled.set(id, due);
      const late = (this.now() - due) / 1000;
      if (spec.startingDeadlineSeconds !== undefined && late > spec.startingDeadlineSeconds) {
        this.note(`cronjob ${id}: run of ${new Date(due).toISOString()} missed (${late}s late)`);
        continue;
      }
      const namespace = cron.metadata.namespace ?? "default";
      const active = [...this.jobs.values()].some(
        (job) =>
          job.condition === undefined &&
          job.manifest.metadata.namespace === namespace &&
          job.manifest.metadata.name.startsWith(`${cron.metadata.name}-`),
      );
      if (active && spec.concurrencyPolicy === "Forbid") {
        this.note(`cronjob ${id}: run skipped, a Job is still active (Forbid)`);
        continue;
      }
      this.createJob(cron, `${cron.metadata.name}-${Math.floor(due / 60_000)}`);
    }
  }

  private runDeployments(): void {
    for (const [id, deployment] of this.deployments) {
      const namespace = deployment.metadata.namespace ?? "default";
      const owned = [...this.pods.values()].filter(
        (pod) =>
          pod.namespace === namespace &&
          pod.owner.kind === "Deployment" &&
          pod.owner.name === deployment.metadata.name,
      );
      const live = owned.filter((pod) => pod.deletingSince === undefined);
      const replicas = replicasOf(deployment);
      for (const pod of live.slice(replicas)) this.deletePod(namespace, pod.name);
      const recreate = deployment.spec?.strategy?.type === "Recreate";
      if (live.length < replicas && !(recreate && owned.length > live.length)) {
        const template = deployment.spec?.template;
        if (!template?.spec) throw new Error(`deployment ${id} has no pod template`);
        for (let i = live.length; i < replicas; i++)
          this.createPod(namespace, deployment.metadata.name, "Deployment", template.spec, {
            ...template.metadata?.labels,
          });
      }
    }
  }

  private runJobs(): void {
    for (const [id, job] of this.jobs) {
      const spec = job.manifest.spec;
      const namespace = job.manifest.metadata.namespace ?? "default";
      if (job.condition !== undefined) {
        const ttl = spec?.ttlSecondsAfterFinished;
        if (ttl !== undefined && job.finishedAt !== undefined)
          if (this.now() >= job.finishedAt + ttl * 1000)
            this.delete("job", namespace, job.manifest.metadata.name);
        continue;
      }
      const pods = job.pods.map((name) => this.pods.get(key(namespace, name)));
      if (pods.some((pod) => pod?.phase === "Succeeded")) {
        this.finishJob(id, job, "Complete", "Completed");
        continue;
      }
      const deadline = spec?.activeDeadlineSeconds;
      if (deadline !== undefined && this.now() >= job.createdAt + deadline * 1000) {
        for (const name of job.pods) this.deletePod(namespace, name);
        this.finishJob(id, job, "Failed", "DeadlineExceeded");
        continue;
      }
      const failed = pods.filter((pod) => pod?.phase === "Failed").length;
      if (failed > (spec?.backoffLimit ?? 6)) {
        this.finishJob(id, job, "Failed", "BackoffLimitExceeded");
        continue;
      }
      const active = pods.some((pod) => pod?.phase === "Pending" || pod?.phase === "Running");
      if (!active) {
        const template = spec?.template;
        if (!template?.spec) throw new Error(`job ${id} has no pod template`);
        const pod = this.createPod(namespace, job.manifest.metadata.name, "Job", template.spec, {
          ...template.metadata?.labels,
          "job-name": job.manifest.metadata.name,
        });
        job.pods.push(pod.name);
      }
    }
  }

  private finishJob(id: string, job: JobState, condition: "Complete" | "Failed", reason: string) {
    job.condition = condition;
    job.reason = reason;
    job.finishedAt = this.now();
    this.note(`job ${id}: ${condition} (${reason})`);
  }

  private createPod(
    namespace: string,
    owner: string,
    kind: "Deployment" | "Job",
    spec: IPodSpec,
    labels: Record<string, string>,
  ): Pod {
    this.sequence++;
    const name = `${owner}-${this.sequence.toString(36).padStart(5, "0")}`;
    const scratch = join(this.root, "scratch", name);
    mkdirSync(scratch, { recursive: true });
    const pod: Pod = {
      name,
      namespace,
      labels,
      owner: { kind, name: owner },
      spec,
      phase: "Pending",
      reason: "not scheduled yet",
      ready: false,
      logs: "",
      restarts: 0,
      scratch,
    };
    this.pods.set(key(namespace, name), pod);
    this.note(`pod ${namespace}/${name} created for ${kind.toLowerCase()} ${owner}`);
    return pod;
  }

  private deletePod(namespace: string, name: string): void {
    const pod = this.pods.get(key(namespace, name));
    if (!pod || pod.deletingSince !== undefined) return;
    pod.deletingSince = this.now();
    if (pod.serve && !pod.serve.exited) pod.serve.child.kill("SIGTERM");
    this.note(`pod ${namespace}/${name} terminating`);
  }

  private async runPods(): Promise<void> {
    for (const [id, pod] of [...this.pods]) {
      if (pod.deletingSince !== undefined) {
        const graceOver = this.now() >= pod.deletingSince + graceSeconds(pod.spec) * 1000;
        if (pod.serve && !pod.serve.exited && !graceOver) continue;
        if (pod.serve && !pod.serve.exited) pod.serve.child.kill("SIGKILL");
        this.pods.delete(id);
        rmSync(pod.scratch, { recursive: true, force: true });
        this.note(`pod ${id} gone`);
        continue;
      }
      if (pod.phase === "Pending") {
        const blocked = this.schedule(pod);
        if (blocked !== undefined) {
          if (blocked !== pod.reason) this.note(`pod ${id} Pending: ${blocked}`);
          pod.reason = blocked;
          continue;
        }
        pod.node = NODE;
        pod.phase = "Running";
        pod.reason = "";
        this.note(`pod ${id} scheduled on ${NODE}`);
        if (pod.owner.kind === "Job") await this.runToCompletion(pod);
        else await this.startServe(pod);
        continue;
      }
      if (pod.phase === "Running" && pod.serve) await this.watchServe(pod);
    }
  }

  /** Why `pod` cannot be scheduled now, or undefined when it can. */
  private schedule(pod: Pod): string | undefined {
    for (const volume of pod.spec.volumes ?? []) {
      const claimName = volume.persistentVolumeClaim?.claimName;
      if (claimName === undefined) continue;
      const claim = this.claims.get(key(pod.namespace, claimName));
      if (!claim) return `persistentvolumeclaim "${claimName}" not found`;
      if (claim.deletingSince !== undefined)
        return `persistentvolumeclaim "${claimName}" is being deleted`;
      if (claim.node !== undefined && claim.node !== NODE)
        return `claim ${claimName} (ReadWriteOnce) is bound to node ${claim.node}`;
    }
    const affinity = pod.spec.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
    for (const term of affinity ?? []) {
      const match = term.labelSelector?.matchLabels ?? {};
      const partner = this.podsMatching(pod.namespace, match).some(
        (other) =>
          other.phase === "Running" && other.node === NODE && other.deletingSince === undefined,
      );
      if (!partner) return "0/1 nodes are available: 1 node(s) didn't match pod affinity rules";
    }
    for (const volume of pod.spec.volumes ?? []) {
      const claimName = volume.persistentVolumeClaim?.claimName;
      if (claimName === undefined) continue;
      const claim = this.claims.get(key(pod.namespace, claimName));
      if (claim) claim.node = NODE;
    }
    return undefined;
  }

  /** The container's environment, with paths under its mounts mapped to the volumes' folders. */
  private containerEnv(pod: Pod): { args: string[]; env: Record<string, string> } {
    const container = pod.spec.containers[0];
    if (!container) throw new Error(`pod ${pod.name} has no container`);
    const command = [...(container.command ?? []), ...(container.args ?? [])];
    if (command[0] !== "pra-app")
      throw new Error(`the stand-in runs only pra-app, not ${JSON.stringify(command)}`);
    const mounts = (container.volumeMounts ?? []).map((mount) => {
      const volume = (pod.spec.volumes ?? []).find((v) => v.name === mount.name);
      const claimName = volume?.persistentVolumeClaim?.claimName;
      const claim =
        claimName === undefined ? undefined : this.claims.get(key(pod.namespace, claimName));
      return { path: mount.mountPath, dir: claim ? claim.dir : join(pod.scratch, mount.name) };
    });
    const map = (value: string) => {
      const mount = mounts.find((m) => value === m.path || value.startsWith(`${m.path}/`));
      return mount ? mount.dir + value.slice(mount.path.length) : value;
    };
    const env: Record<string, string> = {};
    for (const from of container.envFrom ?? []) {
      const source = from.configMapRef
        ? this.referenced("ConfigMap", pod.namespace, from.configMapRef.name ?? "")
        : from.secretRef
          ? this.referenced("Secret", pod.namespace, from.secretRef.name ?? "")
          : undefined;
      Object.assign(env, source ?? {});
    }
    for (const variable of container.env ?? []) {
      if (variable.value !== undefined) env[variable.name] = map(variable.value);
      const secretRef = variable.valueFrom?.secretKeyRef;
      const configRef = variable.valueFrom?.configMapKeyRef;
      const value = secretRef
        ? this.referenced("Secret", pod.namespace, secretRef.name ?? "")?.[secretRef.key]
        : configRef
          ? this.referenced("ConfigMap", pod.namespace, configRef.name ?? "")?.[configRef.key]
          : undefined;
      if (value !== undefined) env[variable.name] = value;
    }
    return { args: command.slice(1), env };
  }

  /** A Job's container: the real CLI, in this process, on the cluster's clock. */
  private async runToCompletion(pod: Pod): Promise<void> {
    const { args, env } = this.containerEnv(pod);
    const at = this.now();
    const run = containerQueue.then(async () => {
      const clock = jest.spyOn(Date, "now").mockReturnValue(at);
      try {
        return await runPraApp(args, env);
      } finally {
        clock.mockRestore();
      }
    });
    containerQueue = run.catch(() => undefined);
    const result = await run;
    pod.logs = result.stderr + result.stdout;
    pod.phase = result.status === 0 ? "Succeeded" : "Failed";
    pod.reason = `exit ${result.status}`;
    this.note(
      `pod ${pod.namespace}/${pod.name}: pra-app ${args.join(" ")} exited ${result.status}`,
    );
  }

  /** A Deployment's container: `pra-app serve` as a process. */
  private async startServe(pod: Pod): Promise<void> {
    const { args, env } = this.containerEnv(pod);
    const port = await freePort();
    const child = spawn(PRA_APP_BIN, args, {
      env: cleanEnv({ ...env, PORT: String(port), LOG_LEVEL: "warn" }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    const serve: Serve = { child, url: `http://127.0.0.1:${port}`, exited: false, logs: "" };
    const collect = (chunk: Buffer) => {
      serve.logs += chunk.toString();
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    child.once("exit", () => {
      serve.exited = true;
    });
    pod.serve = serve;
    delete pod.restartAt;
    this.note(`pod ${pod.namespace}/${pod.name}: pra-app ${args.join(" ")} started`);
  }

  private async watchServe(pod: Pod): Promise<void> {
    const serve = pod.serve;
    if (!serve) return;
    if (serve.exited) {
      if (pod.restartAt === undefined) {
        pod.ready = false;
        pod.logs += serve.logs;
        pod.restarts++;
        const backoff = Math.min(300, 10 * 2 ** (pod.restarts - 1));
        pod.restartAt = this.now() + backoff * 1000;
        pod.reason = `CrashLoopBackOff (restart ${pod.restarts})`;
        this.note(`pod ${pod.namespace}/${pod.name}: serve exited: ${serve.logs.trim()}`);
      } else if (this.now() >= pod.restartAt) {
        await this.startServe(pod);
      }
      return;
    }
    if (pod.ready) return;
    try {
      const response = await fetch(`${serve.url}/ready`, { signal: AbortSignal.timeout(1000) });
      if (response.ok) {
        pod.ready = true;
        this.note(`pod ${pod.namespace}/${pod.name} ready`);
      }
    } catch {
      // not listening yet
    }
  }

  /** Claim protection: a deleted claim goes once no scheduled, unfinished pod mounts it. */
  private releaseClaims(): void {
    for (const [id, claim] of this.claims) {
      if (claim.deletingSince === undefined) continue;
      const [namespace, name] = id.split("/");
      const users = [...this.pods.values()].filter(
        (pod) =>
          pod.namespace === namespace &&
          pod.node !== undefined &&
          (pod.phase === "Pending" || pod.phase === "Running") &&
          (pod.spec.volumes ?? []).some((v) => v.persistentVolumeClaim?.claimName === name),
      );
      if (users.length > 0) continue;
      this.claims.delete(id);
      rmSync(claim.dir, { recursive: true, force: true });
      this.note(`claim ${id} gone with its volume`);
    }
  }

  /** The folder of a claim's volume (the test reads and damages data through it). */
  volumeOf(namespace: string, claim: string): string {
    const found = this.claims.get(key(namespace, claim));
    if (!found) throw new Error(`no claim ${namespace}/${claim}`);
    return found.dir;
  }

  /** The URL of a ready pod of `deployment`. */
  serviceUrl(namespace: string, deployment: string): string {
    const pod = [...this.pods.values()].find(
      (p) =>
        p.namespace === namespace &&
        p.owner.name === deployment &&
        p.ready &&
        p.deletingSince === undefined,
    );
    if (!pod?.serve) throw new Error(`no ready pod of deployment ${deployment}`);
    return pod.serve.url;
  }

  /** Runs `pra-app <args>` in a running pod of `deployment` (`kubectl exec`). */
  async exec(namespace: string, deployment: string, args: readonly string[]): Promise<Outcome> {
    const pod = [...this.pods.values()].find(
      (p) => p.namespace === namespace && p.owner.name === deployment && p.phase === "Running",
    );
    if (!pod) throw new KubectlError(`error: no running pod of deployment ${deployment}`);
    if (args[0] !== "pra-app") throw new KubectlError("the stand-in execs only pra-app");
    const { env } = this.containerEnv(pod);
    const at = this.now();
    const run = containerQueue.then(async () => {
      const clock = jest.spyOn(Date, "now").mockReturnValue(at);
      try {
        return await runPraApp(args.slice(1), env);
      } finally {
        clock.mockRestore();
      }
    });
    containerQueue = run.catch(() => undefined);
    const result = await run;
    return { code: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
  }

  /** Stops every process it started. */
  async shutdown(): Promise<void> {
    const exits = [...this.pods.values()].flatMap((pod) => {
      const serve = pod.serve;
      if (!serve || serve.exited) return [];
      const exited = new Promise((resolve) => serve.child.once("exit", resolve));
      serve.child.kill("SIGKILL");
      return [exited];
    });
    await Promise.all(exits);
  }
}

export class KubectlError extends Error {}

export const notFound = (kind: string, name: string) =>
  new KubectlError(`Error from server (NotFound): ${kind} "${name}" not found`);

function graceSeconds(spec: IPodSpec): number {
  return spec.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS;
}

/** RFC 7386: objects merge key by key, null removes a key, anything else replaces. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return patch;
  const result: Record<string, unknown> =
    typeof target === "object" && target !== null && !Array.isArray(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete result[k];
    else result[k] = mergePatch(result[k], v);
  }
  return result;
}
