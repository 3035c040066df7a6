/**
 * Where the lab's SQLite database and its restore points live: two ReadWriteOnce volumes,
 * `pra-data` (the live database) and `pra-backup` (restore points), sized exactly as
 * configured (a `200Mi` claim stays `200Mi`).
 */
import * as kplus from "cdk8s-plus-28";
import { k8s } from "cdk8s-plus-28";
import { Construct } from "constructs";
import type { DatabaseAccess } from "./database";
import { WORKSHOP } from "./names";

export interface ClaimNames {
  /** @default "pra-data" */
  readonly dataClaimName?: string;
  /** @default "pra-backup" */
  readonly backupClaimName?: string;
}

/**
 * What a pod needs to use the SQLite database on existing claims: the mounts at /data and
 * /backup and the app contract's DB_PATH and BACKUP_DIR.
 */
export class SqliteAccess extends Construct implements DatabaseAccess {
  readonly env: Readonly<Record<string, kplus.EnvValue>>;
  readonly mounts: readonly kplus.VolumeMount[];
  readonly singleWriter = true;
  readonly engine = "sqlite";

  constructor(scope: Construct, id: string, props: ClaimNames = {}) {
    super(scope, id);
    const dataClaim = kplus.PersistentVolumeClaim.fromClaimName(
      this,
      "data-claim",
      props.dataClaimName ?? WORKSHOP.dataClaim,
    );
    const backupClaim = kplus.PersistentVolumeClaim.fromClaimName(
      this,
      "backup-claim",
      props.backupClaimName ?? WORKSHOP.backupClaim,
    );
    this.env = {
      DB_PATH: kplus.EnvValue.fromValue(`${WORKSHOP.dataDir}/${WORKSHOP.databaseFile}`),
      BACKUP_DIR: kplus.EnvValue.fromValue(WORKSHOP.backupDir),
    };
    this.mounts = [
      {
        path: WORKSHOP.dataDir,
        volume: kplus.Volume.fromPersistentVolumeClaim(this, "data", dataClaim),
      },
      {
        path: WORKSHOP.backupDir,
        volume: kplus.Volume.fromPersistentVolumeClaim(this, "backup", backupClaim),
      },
    ];
  }
}

export interface VolumeProps {
  /** A Kubernetes storage quantity. @default "200Mi" */
  readonly size?: string;
  /** @default the cluster's default StorageClass */
  readonly storageClass?: string;
}

export interface SqliteStorageProps extends ClaimNames {
  /** @default 200Mi on the default StorageClass */
  readonly data?: VolumeProps;
  /** @default 200Mi on the default StorageClass */
  readonly backup?: VolumeProps;
}

/** The two claims, and the access to them (`access`) that the app and its tasks mount. */
export class SqliteStorage extends Construct {
  readonly access: SqliteAccess;

  constructor(scope: Construct, id: string, props: SqliteStorageProps = {}) {
    super(scope, id);
    const dataClaimName = props.dataClaimName ?? WORKSHOP.dataClaim;
    const backupClaimName = props.backupClaimName ?? WORKSHOP.backupClaim;
    claim(this, "data", dataClaimName, props.data ?? {});
    claim(this, "backup", backupClaimName, props.backup ?? {});
    this.access = new SqliteAccess(this, "access", { dataClaimName, backupClaimName });
  }
}

// The plain PVC kind, not kplus.PersistentVolumeClaim: cdk8s-plus rounds sizes to whole GiB.
function claim(scope: Construct, id: string, name: string, props: VolumeProps): void {
  new k8s.KubePersistentVolumeClaim(scope, id, {
    metadata: { name },
    spec: {
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: k8s.Quantity.fromString(props.size ?? "200Mi") } },
      ...(props.storageClass ? { storageClassName: props.storageClass } : {}),
    },
  });
}
