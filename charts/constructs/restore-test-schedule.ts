/**
 * The restore test CronJob: `pra-app verify` checks that the newest restore point exists, is
 * recent enough for the RPO, passes an integrity check and can be queried. A failed run is a
 * failed Job, which the alert rules watch.
 */
import { ApiObject, Duration, JsonPatch } from "cdk8s";
import * as kplus from "cdk8s-plus-28";
import { k8s } from "cdk8s-plus-28";
import { Construct } from "constructs";
import { formatDuration } from "../../config";
import { appTaskPod, cronOf, SCHEDULE_TIME_ZONE } from "./app-task";
import { placeTask, TASK_NAMES, type TaskDatabase } from "./database";
import type { AppRuntime } from "./runtime";

/**
 * What the test reads, and the app when that is a single-writer database (the test pod then runs
 * on the app's node). The CronJob's name follows the engine (`sqlite-restore-test`,
 * `postgres-restore-test`).
 */
export type RestoreTestScheduleProps = TaskDatabase & {
  readonly runtime: AppRuntime;
  /** Five-field cron expression, in UTC. */
  readonly schedule: string;
  /** A newest restore point older than this fails the test. */
  readonly maxAgeSeconds: number;
  /** How long a run may take. @default 300 */
  readonly activeDeadlineSeconds?: number;
  /**
   * A /tmp sized for the data (verify restores the newest export into a throwaway server there):
   * a generic ephemeral volume, created with the pod and deleted with it, from a StorageClass whose
   * volumes are deleted too. @default a small emptyDir
   */
  readonly scratch?: { readonly sizeBytes: number; readonly storageClass: string };
  /** The memory limit, in MiB. @default 256 */
  readonly memoryLimitMi?: number;
};

export class RestoreTestSchedule extends Construct {
  readonly cronJob: kplus.CronJob;

  constructor(scope: Construct, id: string, props: RestoreTestScheduleProps) {
    super(scope, id);
    if (props.maxAgeSeconds <= 0) {
      throw new Error(
        `RestoreTestSchedule: maxAgeSeconds must be positive, got ${props.maxAgeSeconds}`,
      );
    }
    this.cronJob = new kplus.CronJob(this, "cronjob", {
      metadata: { name: TASK_NAMES[props.database.engine].restoreTest },
      schedule: cronOf(props.schedule),
      timeZone: SCHEDULE_TIME_ZONE,
      concurrencyPolicy: kplus.ConcurrencyPolicy.FORBID,
      startingDeadline: Duration.minutes(1),
      activeDeadline: Duration.seconds(props.activeDeadlineSeconds ?? 300),
      // No retry: a test that passes on its second try still failed once, and should say so.
      backoffLimit: 0,
      successfulJobsRetained: 1,
      failedJobsRetained: 3,
      ...appTaskPod(this, {
        runtime: props.runtime,
        database: props.database,
        args: ["verify", "--max-age", formatDuration(props.maxAgeSeconds)],
        smallScratch: props.scratch === undefined,
        ...(props.memoryLimitMi === undefined ? {} : { memoryLimitMi: props.memoryLimitMi }),
      }),
    });
    placeTask("RestoreTestSchedule", this.cronJob, props);
    if (props.scratch) this.mountScratch(props.scratch, props.database.mounts.length > 0);
  }

  // cdk8s-plus-28 has no ephemeral volume: the volume and its mount are added to the pod template.
  private mountScratch(
    scratch: { readonly sizeBytes: number; readonly storageClass: string },
    hasVolumes: boolean,
  ): void {
    const pod = "/spec/jobTemplate/spec/template/spec";
    const volume = {
      name: "scratch",
      ephemeral: {
        volumeClaimTemplate: {
          spec: {
            accessModes: ["ReadWriteOnce"],
            storageClassName: scratch.storageClass,
            // A Quantity, not a string: the CronJob's typed serializer reads the patched spec.
            resources: {
              requests: {
                storage: k8s.Quantity.fromString(`${Math.ceil(scratch.sizeBytes / 1024 ** 3)}Gi`),
              },
            },
          },
        },
      },
    };
    const mount = { name: "scratch", mountPath: "/tmp" };
    const cronJob = ApiObject.of(this.cronJob);
    cronJob.addJsonPatch(
      hasVolumes
        ? JsonPatch.add(`${pod}/volumes/-`, volume)
        : JsonPatch.add(`${pod}/volumes`, [volume]),
    );
    cronJob.addJsonPatch(
      hasVolumes
        ? JsonPatch.add(`${pod}/containers/0/volumeMounts/-`, mount)
        : JsonPatch.add(`${pod}/containers/0/volumeMounts`, [mount]),
    );
  }
}
