/** Which restore points a backup run deletes after it succeeds. */

export interface RetentionPolicy {
  /** Keep the newest this many points. */
  readonly keepLast?: number | undefined;
  /** Keep points younger than this many seconds. */
  readonly keepWithinSeconds?: number | undefined;
}

/**
 * The points to delete: those neither among the newest `keepLast` nor younger than `keepWithinSeconds`.
 * With no policy nothing is deleted. `protectedFile` (the point this run just made and checked, so the
 * newest valid one) and the newest point of all are always kept.
 */
export function pointsToDelete<Point extends { readonly file: string; readonly timestamp: number }>(
  points: readonly Point[],
  policy: RetentionPolicy,
  now: number,
  protectedFile: string,
): Point[] {
  if (policy.keepLast === undefined && policy.keepWithinSeconds === undefined) return [];
  const newestFirst = [...points].sort((a, b) => b.timestamp - a.timestamp);
  return newestFirst.filter((point, index) => {
    if (index === 0 || point.file === protectedFile) return false;
    if (policy.keepLast !== undefined && index < policy.keepLast) return false;
    if (policy.keepWithinSeconds !== undefined && now - point.timestamp < policy.keepWithinSeconds)
      return false;
    return true;
  });
}
