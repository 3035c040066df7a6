/** What a DR drill measured: the writes lost, the RPO and RTO, and whether a promise was broken. */

export interface AckedWrite {
  readonly id: number;
  /** Wall-clock ms at which the service acknowledged the write. */
  readonly ackedAtMs: number;
}

export interface DrillMeasurements {
  readonly acked: readonly AckedWrite[];
  /** Wall-clock ms at which each successful backup was started. */
  readonly backupStartsMs: readonly number[];
  readonly disasterAtMs: number;
  /** Wall-clock ms of the first successful read of restored data. */
  readonly firstReadAtMs: number;
  /** Event ids present after the restore. */
  readonly restoredIds: ReadonlySet<number>;
}

export interface DrillVerdict {
  readonly rowsLost: number;
  /** Disaster time minus the acknowledgement time of the newest write that survived (0 when none lost). */
  readonly rpoSeconds: number;
  readonly rtoSeconds: number;
  /** Acknowledged writes older than the last successful backup that did not come back: must be 0. */
  readonly lostBeforeLastBackup: number;
  readonly lastBackupStartMs: number | undefined;
}

export function analyzeDrill(m: DrillMeasurements): DrillVerdict {
  const lost = m.acked.filter((write) => !m.restoredIds.has(write.id));
  const survived = m.acked.filter((write) => m.restoredIds.has(write.id));
  const lastBackupStartMs = m.backupStartsMs.filter((start) => start < m.disasterAtMs).at(-1);
  const lostBeforeLastBackup =
    lastBackupStartMs === undefined
      ? 0
      : lost.filter((write) => write.ackedAtMs < lastBackupStartMs).length;
  const newestSurvivorMs = Math.max(
    ...survived.map((write) => write.ackedAtMs),
    Number.NEGATIVE_INFINITY,
  );
  const recoveryPointMs = Number.isFinite(newestSurvivorMs)
    ? newestSurvivorMs
    : Math.min(...m.acked.map((w) => w.ackedAtMs));
  return {
    rowsLost: lost.length,
    rpoSeconds: lost.length === 0 ? 0 : (m.disasterAtMs - recoveryPointMs) / 1000,
    rtoSeconds: (m.firstReadAtMs - m.disasterAtMs) / 1000,
    lostBeforeLastBackup,
    lastBackupStartMs,
  };
}
