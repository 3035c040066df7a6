/**
 * The app: its Deployment and the Service in front of it (port 80 to the container's 8080),
 * probes on the app contract's /health (liveness) and /ready (readiness).
 */
import { ApiObject, Duration, JsonPatch } from "cdk8s";
import * as kplus from "cdk8s-plus-28";
import { Construct } from "constructs";
import { runtimeEnvFrom } from "./app-task";
import type { DatabaseAccess } from "./database";
import { HARDENED_CONTAINER, HARDENED_POD, resources, scratchMount } from "./hardened";
import { APP_PORT, SERVICE_PORT, WORKSHOP } from "./names";
import type { AppRuntime } from "./runtime";

export interface AppWorkloadProps {
  readonly runtime: AppRuntime;
  /** Where the app's data lives. */
  readonly database: DatabaseAccess;
  /**
   * How many pods serve. Leave unset when an autoscaler owns the count (AppAvailability).
   * @default 1 with a single-writer database, which allows no other value
   */
  readonly replicas?: number;
  /**
   * Spread pods evenly over zones (a zone's loss takes at most its share) and over nodes.
   * @default false
   */
  readonly spread?: boolean;
  /** Name of the Deployment and the Service. @default "pra-app" */
  readonly name?: string;
}

export class AppWorkload extends Construct {
  readonly deployment: kplus.Deployment;
  readonly service: kplus.Service;
  readonly name: string;
  /** The labels that select the app's pods (for affinity, policies, monitors). */
  readonly selectorLabels: Readonly<Record<string, string>>;
  /** The app's pods, selected by `selectorLabels` rather than by a generated hash. */
  readonly pods: kplus.IPodSelector;

  constructor(scope: Construct, id: string, props: AppWorkloadProps) {
    super(scope, id);
    this.name = props.name ?? WORKSHOP.app;
    const replicas = props.replicas ?? (props.database.singleWriter ? 1 : undefined);
    if (props.database.singleWriter && replicas !== 1) {
      throw new Error(
        `AppWorkload "${this.name}": replicas must be 1 with a single-writer database ` +
          `(SQLite on a ReadWriteOnce volume), got ${replicas}`,
      );
    }
    if (props.database.singleWriter && props.spread) {
      throw new Error(
        `AppWorkload "${this.name}": a single-writer database cannot be spread over zones`,
      );
    }
    this.selectorLabels = { "app.kubernetes.io/name": this.name };

    this.deployment = new kplus.Deployment(this, "deployment", {
      metadata: { name: this.name },
      ...(replicas !== undefined ? { replicas } : {}),
      select: false,
      podMetadata: { labels: { ...this.selectorLabels } },
      // Two pods writing one SQLite file on a ReadWriteOnce volume corrupt it or never start:
      // replace the pod, never roll. With a server database, roll one extra pod at a time.
      strategy: props.database.singleWriter
        ? kplus.DeploymentStrategy.recreate()
        : kplus.DeploymentStrategy.rollingUpdate({
            maxSurge: kplus.PercentOrAbsolute.absolute(1),
            maxUnavailable: kplus.PercentOrAbsolute.absolute(0),
          }),
      securityContext: HARDENED_POD,
      automountServiceAccountToken: false,
      ...(props.runtime.serviceAccount ? { serviceAccount: props.runtime.serviceAccount } : {}),
      terminationGracePeriod: Duration.seconds(30),
      containers: [
        {
          name: "app",
          image: props.runtime.image,
          imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
          command: ["pra-app"],
          args: ["serve"],
          ports: [{ number: APP_PORT, name: "http" }],
          envVariables: { PORT: kplus.EnvValue.fromValue(String(APP_PORT)), ...props.database.env },
          ...runtimeEnvFrom(props.runtime),
          volumeMounts: [...props.database.mounts, scratchMount(this, "tmp")],
          securityContext: HARDENED_CONTAINER,
          resources: resources({ request: 100, limit: 500 }, { request: 128, limit: 256 }),
          liveness: kplus.Probe.fromHttpGet("/health", {
            port: APP_PORT,
            periodSeconds: Duration.seconds(10),
            failureThreshold: 3,
            timeoutSeconds: Duration.seconds(2),
          }),
          readiness: kplus.Probe.fromHttpGet("/ready", {
            port: APP_PORT,
            periodSeconds: Duration.seconds(5),
            failureThreshold: 2,
            timeoutSeconds: Duration.seconds(2),
          }),
        },
      ],
    });
    this.deployment.select(kplus.LabelSelector.of({ labels: this.selectorLabels }));
    this.pods = kplus.Pods.select(this, "pods", { labels: this.selectorLabels });
    if (props.spread) this.spreadOverZonesAndNodes();

    this.service = new kplus.Service(this, "service", {
      metadata: { name: this.name, labels: { ...this.selectorLabels } },
      selector: this.pods,
      ports: [{ name: "http", port: SERVICE_PORT, targetPort: APP_PORT }],
    });
  }

  // cdk8s-plus-28 has no typed API for topologySpreadConstraints.
  private spreadOverZonesAndNodes(): void {
    const constraint = (
      topologyKey: string,
      whenUnsatisfiable: "DoNotSchedule" | "ScheduleAnyway",
    ) => ({
      maxSkew: 1,
      topologyKey,
      whenUnsatisfiable,
      labelSelector: { matchLabels: { ...this.selectorLabels } },
      // Nodes the pods cannot run on do not count: after a zone is lost its NotReady nodes carry
      // the unreachable taint, and counting them (the default, Ignore) would keep replacement pods
      // Pending under DoNotSchedule, waiting for a zone that is gone.
      nodeTaintsPolicy: "Honor",
    });
    ApiObject.of(this.deployment).addJsonPatch(
      JsonPatch.add("/spec/template/spec/topologySpreadConstraints", [
        // A zone outage must not take more than its share: refuse to pile pods into one zone.
        constraint("topology.kubernetes.io/zone", "DoNotSchedule"),
        // Nodes: prefer spreading, but never block a rollout on it.
        constraint("kubernetes.io/hostname", "ScheduleAnyway"),
      ]),
    );
  }
}
