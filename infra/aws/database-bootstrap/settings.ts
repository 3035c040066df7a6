/**
 * What the Pulumi program and the bootstrap function agree on. No import here: the function's
 * bundle and the program both read this file.
 */

/** The environment variable naming the RDS-managed secret of the master user. */
export const MASTER_SECRET_VARIABLE = "MASTER_SECRET_ARN";

/** The environment variable naming the app's secret (host, port, dbname, its user). */
export const APP_SECRET_VARIABLE = "APP_SECRET_ARN";
