/**
 * How the app image runs in a stack: the image, the identity its pods run as, and the settings
 * the cloud layer hands it. The app, the backup and the restore test all share one runtime.
 */
import type * as kplus from "cdk8s-plus-28";

export interface AppRuntime {
  /** The app image, pinned by tag or digest. */
  readonly image: string;
  /**
   * The service account pods run as; EKS Pod Identity binds AWS permissions to it.
   * @default the namespace's default account (the pods get no API token either way)
   */
  readonly serviceAccount?: kplus.IServiceAccount;
  /**
   * Settings the cloud layer computes (export bucket, KMS key), read as environment.
   * @default none
   */
  readonly settings?: kplus.IConfigMap;
}
