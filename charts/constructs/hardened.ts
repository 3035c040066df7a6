/**
 * The security baseline every pod of this project runs with: non-root, read-only root
 * filesystem, no privilege escalation, every capability dropped, RuntimeDefault seccomp,
 * and no service-account token unless a pod needs to call the API.
 */
import { Size } from "cdk8s";
import * as kplus from "cdk8s-plus-28";
import type { Construct } from "constructs";
import { APP_GID, APP_UID } from "./names";

export const HARDENED_CONTAINER: kplus.ContainerSecurityContextProps = {
  ensureNonRoot: true,
  user: APP_UID,
  group: APP_GID,
  readOnlyRootFilesystem: true,
  allowPrivilegeEscalation: false,
  privileged: false,
  capabilities: { drop: [kplus.Capability.ALL] },
  seccompProfile: { type: kplus.SeccompProfileType.RUNTIME_DEFAULT },
};

export const HARDENED_POD: kplus.PodSecurityContextProps = {
  ensureNonRoot: true,
  user: APP_UID,
  group: APP_GID,
  // Volumes are made writable for the app's group; only when ownership is wrong, so a large
  // volume is not walked on every start.
  fsGroup: APP_GID,
  fsGroupChangePolicy: kplus.FsGroupChangePolicy.ON_ROOT_MISMATCH,
};

/** A small writable /tmp, since the root filesystem is read-only. */
export function scratchMount(scope: Construct, id: string): kplus.VolumeMount {
  const volume = kplus.Volume.fromEmptyDir(scope, id, "tmp", { sizeLimit: Size.mebibytes(64) });
  return { volume, path: "/tmp" };
}

/** Requests and limits, in the units a reviewer reads them in. */
export function resources(
  cpu: { request: number; limit: number },
  memoryMi: { request: number; limit: number },
) {
  return {
    cpu: { request: kplus.Cpu.millis(cpu.request), limit: kplus.Cpu.millis(cpu.limit) },
    memory: { request: Size.mebibytes(memoryMi.request), limit: Size.mebibytes(memoryMi.limit) },
  } satisfies kplus.ContainerResources;
}
