/**
 * A run-to-completion pod of the app image (`pra-app backup`, `verify`, `restore`): the same
 * hardening, database access and resources for every task, so they cannot drift apart.
 */
import { Cron } from "cdk8s";
import * as kplus from "cdk8s-plus-28";
import type { Construct } from "constructs";
import type { DatabaseAccess } from "./database";
import { HARDENED_CONTAINER, HARDENED_POD, resources, scratchMount } from "./hardened";
import type { AppRuntime } from "./runtime";

export interface AppTaskOptions {
  readonly runtime: AppRuntime;
  readonly database: DatabaseAccess;
  /** Arguments after `pra-app`. */
  readonly args: readonly string[];
  /**
   * False when the caller mounts a /tmp of its own (a volume sized for its data).
   * @default true: a small emptyDir
   */
  readonly smallScratch?: boolean;
  /** The memory limit, in MiB (the app's contract says what a command needs). @default 256 */
  readonly memoryLimitMi?: number;
}

/** The pod part of a Job or CronJob running `pra-app <args>`. */
export function appTaskPod(scope: Construct, options: AppTaskOptions) {
  return {
    securityContext: HARDENED_POD,
    automountServiceAccountToken: false,
    ...(options.runtime.serviceAccount ? { serviceAccount: options.runtime.serviceAccount } : {}),
    containers: [
      {
        name: "pra-app",
        image: options.runtime.image,
        imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
        command: ["pra-app"],
        args: [...options.args],
        envVariables: { ...options.database.env },
        ...runtimeEnvFrom(options.runtime),
        volumeMounts: [
          ...options.database.mounts,
          ...(options.smallScratch === false ? [] : [scratchMount(scope, "tmp")]),
        ],
        securityContext: HARDENED_CONTAINER,
        resources: resources(
          { request: 50, limit: 500 },
          { request: 64, limit: options.memoryLimitMi ?? 256 },
        ),
      },
    ],
  } satisfies Partial<kplus.JobProps>;
}

/** The cloud layer's settings as environment, when the runtime has them. */
export function runtimeEnvFrom(runtime: AppRuntime): { envFrom?: kplus.EnvFrom[] } {
  return runtime.settings ? { envFrom: [kplus.Env.fromConfigMap(runtime.settings)] } : {};
}

/** A cdk8s Cron from a five-field expression. */
export function cronOf(expression: string): Cron {
  const [minute, hour, day, month, weekDay] = expression.trim().split(/\s+/);
  if (
    minute === undefined ||
    hour === undefined ||
    day === undefined ||
    month === undefined ||
    weekDay === undefined
  )
    throw new Error(`cron expression "${expression}" does not have five fields`);
  return Cron.schedule({ minute, hour, day, month, weekDay });
}

/** Schedules are derived in UTC (config/schedule.ts); say so rather than trust the controller's zone. */
export const SCHEDULE_TIME_ZONE = "Etc/UTC";
