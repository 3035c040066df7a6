/**
 * What the Pulumi program and the function agree on. No import here: the function's bundle and
 * the program both read this file, and neither should carry the other's dependencies.
 */

/** The environment variable that names the restore testing plan the function validates. */
export const PLAN_ARN_VARIABLE = "RESTORE_TESTING_PLAN_ARN";

/** The Lambda runtime the function runs on, and the matching esbuild target. */
export const VALIDATOR_RUNTIME = { lambda: "nodejs22.x", esbuildTarget: "node22" } as const;

/** `file.export` of the bundle's handler, as Lambda's `handler` setting names it. */
export const VALIDATOR_HANDLER = "index.handler";

/** The environment variable that names the stack, the metric's dimension. */
export const STACK_VARIABLE = "PRA_STACK";

/**
 * The metric each validation emits (1 when the restored database passed, 0 when it failed), as
 * an embedded-metric-format log line: no PutMetricData call and no permission for it. The alarm
 * (infra/aws/alarms.ts) fires when no passing validation arrives in time, so a restore test that
 * never reports (the function timed out, never ran, the restore never finished) pages too.
 */
export const VALIDATION_METRIC = {
  namespace: "PRA/RestoreTests",
  name: "ValidationSucceeded",
  dimension: "Stack",
} as const;

/** The environment variable that names the database secret (the restored instance's login). */
export const SECRET_VARIABLE = "DATABASE_SECRET_ARN";

/**
 * The CA bundle the Lambda Node.js runtime ships, which includes the RDS certificate authorities;
 * Node reads it only when NODE_EXTRA_CA_CERTS names it.
 */
export const LAMBDA_CA_BUNDLE = "/var/runtime/ca-cert.pem";
