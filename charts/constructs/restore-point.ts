/**
 * Names of restore points: `app-<unix-seconds>.db` in the backup directory, nothing else.
 * A name is checked before it reaches a Job, so a typo or a path cannot leave that directory.
 */
const RESTORE_POINT = /^app-(\d{1,12})\.db$/;

/** The point's unix time in seconds; throws when `name` is not a restore point's file name. */
export function restorePointTime(name: string): number {
  const match = RESTORE_POINT.exec(name);
  if (!match) {
    const why = /[/\\]|^\.\.?$/.test(name)
      ? "it is a path, and a restore point is a file name inside the backup directory"
      : "it is not of the form app-<unix-seconds>.db";
    throw new Error(`restore point ${JSON.stringify(name)} refused: ${why}`);
  }
  return Number(match[1]);
}
