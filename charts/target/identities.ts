/**
 * Which service account each of the target's pods runs as, and so which AWS role EKS Pod Identity
 * gives it: one account per command, so that each role allows what its command does (the app's
 * contract, apps/pra-app/src/contract.ts) and nothing more. The charts name these accounts; the
 * cloud layer (infra/aws/workload-identity.ts) writes each role's policy from the same invocations.
 */
import {
  type AwsActionNeed,
  type Invocation,
  invocationOf,
  needsOf,
  RETENTION_FLAGS,
} from "../../apps/pra-app/src/contract";
import { TARGET } from "../constructs/names";

export interface TargetIdentity {
  readonly serviceAccount: string;
  /** The commands its pods run, with the flags that change what they need. */
  readonly invocations: readonly Invocation[];
}

export const TARGET_IDENTITIES = {
  /** The service: reads the bucket's listing for /status and /metrics. */
  app: {
    serviceAccount: TARGET.serviceAccount,
    invocations: [invocationOf(["serve"], "postgres")],
  },
  /** The export CronJob: pg_dump to S3 with retention, which deletes. */
  export: {
    serviceAccount: TARGET.exportServiceAccount,
    invocations: [invocationOf(["backup", ...RETENTION_FLAGS], "postgres")],
  },
  /** The restore test: reads the newest export. */
  restoreTest: {
    serviceAccount: TARGET.restoreTestServiceAccount,
    invocations: [invocationOf(["verify", "--max-age"], "postgres")],
  },
} as const satisfies Record<string, TargetIdentity>;

/** The AWS actions an identity's commands perform, each once (the first purpose given is kept). */
export function awsActionsOf(identity: TargetIdentity): AwsActionNeed[] {
  const found = new Map<string, AwsActionNeed>();
  for (const invocation of identity.invocations) {
    for (const need of needsOf(invocation).awsActions) {
      const key = `${need.action} ${need.resource}`;
      if (!found.has(key)) found.set(key, need);
    }
  }
  return [...found.values()];
}
