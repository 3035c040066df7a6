/**
 * The names a failover reads from the stack's outputs (`FailoverTargets`, the `failover` output of
 * infra/outputs.ts), checked by one schema wherever they come in (`pulumi stack output --json`, a
 * file given with --outputs, a test's mocked program).
 */
import { z } from "zod";
import { DR_PARTS } from "./dr-design";
import { DR_STRATEGIES } from "./settings";

/**
 * What the failover reads from the stack's outputs (the `failover` output, infra/outputs.ts): every
 * name the stack determines, so that a plan prints real names and never a placeholder for them.
 */
export const failoverTargetsSchema = z.object({
  stack: z.string(),
  region: z.string(),
  drRegion: z.string(),
  strategy: z.enum(DR_STRATEGIES),
  parts: z.array(z.enum(DR_PARTS)),
  drCluster: z.object({
    name: z.string(),
    nodeGroups: z.array(
      z.object({
        name: z.string(),
        min: z.number(),
        desired: z.number(),
        max: z.number(),
      }),
    ),
  }),
  database: z.object({
    primaryIdentifier: z.string(),
    /** The instance that serves in the DR region: the replica (warm) or the restore's target. */
    drIdentifier: z.string(),
    automatedBackupsArn: z.string(),
    subnetGroupName: z.string(),
    securityGroupId: z.string(),
    parameterGroupName: z.string(),
    kmsKeyArn: z.string(),
    instanceClass: z.string(),
    backupRetentionDays: z.number(),
  }),
  /** The primary region's side, for the failback. */
  primary: z.object({
    clusterName: z.string(),
    subnetGroupName: z.string(),
    securityGroupId: z.string(),
    parameterGroupName: z.string(),
    kmsKeyArn: z.string(),
    secretArn: z.string(),
  }),
  secret: z.object({ name: z.string(), drArn: z.string() }),
  exportBucket: z.string(),
  appRoleArn: z.string(),
  serviceName: z.object({ zoneId: z.string(), record: z.string(), ttl: z.number() }),
  image: z.string(),
});

export type FailoverTargets = z.infer<typeof failoverTargetsSchema>;
