/**
 * What AWS Backup selects in the target, read from what the stack deploys rather than assumed:
 * the RDS instance (it holds the app's data), and the EBS volumes of the synced charts'
 * PersistentVolumeClaims when there are any. Scratch claims (the restore test's ephemeral volume,
 * class PLATFORM.scratchStorageClass) hold nothing to keep and are never selected. The plan
 * (infra/aws/backup-plan.ts), the DR report and `npm run check` all read this one answer.
 */
import { isKind, type Manifest } from "../charts/manifest";
import { PLATFORM } from "../charts/constructs/names";
import { cloudNames, type TargetConfig } from "../config";

export interface BackupSelection {
  /** The RDS instance's identifier. */
  readonly database: string;
  /** Claims whose volumes are snapshotted with the database: none when the target has none. */
  readonly volumeClaims: readonly string[];
}

export function backupSelectionOf(
  config: TargetConfig,
  synced: readonly Manifest[],
): BackupSelection {
  const volumeClaims = synced
    .filter((object) => isKind(object, "PersistentVolumeClaim"))
    .filter((claim) => claim.spec?.storageClassName !== PLATFORM.scratchStorageClass)
    .map((claim) => claim.metadata.name)
    .sort();
  return { database: cloudNames(config.stack).databaseIdentifier, volumeClaims };
}

/** The selection in a sentence, for the report and `npm run check`. */
export function describeSelection(selection: BackupSelection): string {
  const volumes =
    selection.volumeClaims.length === 0
      ? "no EBS volume (the target deploys no PersistentVolumeClaim)"
      : `the EBS volumes of ${selection.volumeClaims.map((c) => `\`${c}\``).join(", ")}`;
  return `the RDS instance \`${selection.database}\` and ${volumes}`;
}
