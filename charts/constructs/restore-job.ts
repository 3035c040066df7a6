/**
 * The restore Job (`sqlite-restore`): `pra-app restore`, the newest valid restore point by
 * default or a chosen one. It is a run-once operation, synthesized outside the synced folder
 * (dist/<stack>/ops/) so that a GitOps sync never overwrites live data. It runs while the
 * app is scaled to zero (see the runbook), so it has no affinity to the app pod.
 */
import { Duration } from "cdk8s";
import * as kplus from "cdk8s-plus-28";
import { Construct } from "constructs";
import { appTaskPod } from "./app-task";
import type { DatabaseAccess } from "./database";
import { WORKSHOP } from "./names";
import { restorePointTime } from "./restore-point";
import type { AppRuntime } from "./runtime";

export interface RestoreJobProps {
  readonly runtime: AppRuntime;
  readonly database: DatabaseAccess;
  /** A restore point's file name (`app-1700000000.db`). @default the newest valid point */
  readonly point?: string;
  /**
   * Unix seconds: restore the newest valid point taken at or before then (`pra-app restore
   * --before`), to undo an error made at a known time. Not with `point`.
   */
  readonly before?: number;
  /** @default "sqlite-restore" */
  readonly name?: string;
}

export class RestoreJob extends Construct {
  readonly job: kplus.Job;

  constructor(scope: Construct, id: string, props: RestoreJobProps) {
    super(scope, id);
    const args = ["restore"];
    const labels: Record<string, string> = { "app.kubernetes.io/component": "restore" };
    if (props.point !== undefined) {
      labels["pra.dev/restore-point-time"] = String(restorePointTime(props.point));
      args.push("--point", props.point);
    }
    if (props.before !== undefined) {
      if (props.point !== undefined || !Number.isInteger(props.before) || props.before < 0)
        throw new Error(`restore --before needs unix seconds and no point, got ${props.before}`);
      args.push("--before", String(props.before));
    }
    this.job = new kplus.Job(this, "job", {
      metadata: { name: props.name ?? WORKSHOP.restoreJob, labels },
      // A restore that fails has changed nothing (the app checks the point first); a person
      // reads why before anything runs again.
      backoffLimit: 0,
      ttlAfterFinished: Duration.days(1),
      ...appTaskPod(this, { runtime: props.runtime, database: props.database, args }),
    });
  }
}
