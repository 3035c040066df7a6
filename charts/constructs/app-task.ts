/**
 * A run-to-completion pod of the app image (`pra-app backup`, `verify`, `restore`): the same
 * hardening, database access and resources for every task, so they cannot drift apart.
 */
import { Cron } from "cdk8s";
import type * as kplus from "cdk8s-plus-28";
import type { Construct } from "constructs";
import type { DatabaseAccess } from "./database";
import { HARDENED_CONTAINER, HARDENED_POD, resources, scratchMount } from "./hardened";

export interface AppTaskOptions {
  readonly image: string;
  readonly database: DatabaseAccess;
  /** Arguments after `pra-app`. */
  readonly args: readonly string[];
  /** Extra environment. @default none */
  readonly env?: Readonly<Record<string, kplus.EnvValue>>;
}

/** The pod part of a Job or CronJob running `pra-app <args>`. */
export function appTaskPod(scope: Construct, options: AppTaskOptions) {
  return {
    securityContext: HARDENED_POD,
    automountServiceAccountToken: false,
    containers: [
      {
        name: "pra-app",
        image: options.image,
        imagePullPolicy: "IfNotPresent" as kplus.ImagePullPolicy,
        command: ["pra-app"],
        args: [...options.args],
        envVariables: { ...options.database.env, ...options.env },
        volumeMounts: [...options.database.mounts, scratchMount(scope, "tmp")],
        securityContext: HARDENED_CONTAINER,
        resources: resources({ request: 50, limit: 500 }, { request: 64, limit: 256 }),
      },
    ],
  } satisfies Partial<kplus.JobProps>;
}

/** A cdk8s Cron from a five-field expression. */
export function cronOf(expression: string): Cron {
  const [minute, hour, day, month, weekDay] = expression.trim().split(/\s+/);
  if (weekDay === undefined) throw new Error(`cron expression "${expression}" does not have five fields`);
  return Cron.schedule({ minute, hour, day, month, weekDay });
}

/** Schedules are derived in UTC (config/schedule.ts); say so rather than trust the controller's zone. */
export const SCHEDULE_TIME_ZONE = "Etc/UTC";
