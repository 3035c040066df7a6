/**
 * The app: its Deployment and the Service in front of it (port 80 to the container's 8080),
 * probes on the app contract's /health (liveness) and /ready (readiness).
 */
import { Duration } from "cdk8s";
import * as kplus from "cdk8s-plus-28";
import { Construct } from "constructs";
import type { DatabaseAccess } from "./database";
import { HARDENED_CONTAINER, HARDENED_POD, resources, scratchMount } from "./hardened";
import { APP_PORT, SERVICE_PORT, WORKSHOP } from "./names";

export interface AppWorkloadProps {
  /** The app image, pinned by tag or digest. */
  readonly image: string;
  /** Where the app's data lives. */
  readonly database: DatabaseAccess;
  /**
   * @default 1; must be 1 when the database allows a single writer.
   */
  readonly replicas?: number;
  /** Name of the Deployment and the Service. @default "pra-app" */
  readonly name?: string;
  /** Extra environment, added to what the database needs. @default none */
  readonly env?: Readonly<Record<string, kplus.EnvValue>>;
  /** @default a service account without API token */
  readonly serviceAccount?: kplus.IServiceAccount;
  /** Labels the app's pods carry in addition to the selector labels. @default none */
  readonly podLabels?: Readonly<Record<string, string>>;
}

export class AppWorkload extends Construct {
  readonly deployment: kplus.Deployment;
  readonly service: kplus.Service;
  /** The labels that select the app's pods (for affinity, policies, monitors). */
  readonly selectorLabels: Readonly<Record<string, string>>;
  /** The app's pods, selected by `selectorLabels` rather than by a generated hash. */
  readonly pods: kplus.IPodSelector;

  constructor(scope: Construct, id: string, props: AppWorkloadProps) {
    super(scope, id);
    const name = props.name ?? WORKSHOP.app;
    const replicas = props.replicas ?? 1;
    if (props.database.singleWriter && replicas !== 1) {
      throw new Error(
        `AppWorkload "${name}": replicas must be 1 with a single-writer database (SQLite on a ReadWriteOnce volume), got ${replicas}`,
      );
    }
    this.selectorLabels = { "app.kubernetes.io/name": name };

    this.deployment = new kplus.Deployment(this, "deployment", {
      metadata: { name },
      replicas,
      select: false,
      podMetadata: { labels: { ...this.selectorLabels, ...props.podLabels } },
      // Two pods writing one SQLite file on a ReadWriteOnce volume corrupt it or never start:
      // replace the pod, never roll.
      strategy: props.database.singleWriter
        ? kplus.DeploymentStrategy.recreate()
        : kplus.DeploymentStrategy.rollingUpdate({
            maxSurge: kplus.PercentOrAbsolute.absolute(1),
            maxUnavailable: kplus.PercentOrAbsolute.absolute(0),
          }),
      securityContext: HARDENED_POD,
      automountServiceAccountToken: false,
      ...(props.serviceAccount ? { serviceAccount: props.serviceAccount } : {}),
      terminationGracePeriod: Duration.seconds(30),
      containers: [
        {
          name: "app",
          image: props.image,
          imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
          command: ["pra-app"],
          args: ["serve"],
          ports: [{ number: APP_PORT, name: "http" }],
          envVariables: {
            PORT: kplus.EnvValue.fromValue(String(APP_PORT)),
            ...props.database.env,
            ...props.env,
          },
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

    this.service = new kplus.Service(this, "service", {
      metadata: { name },
      selector: this.pods,
      ports: [{ name: "http", port: SERVICE_PORT, targetPort: APP_PORT }],
    });
  }
}
