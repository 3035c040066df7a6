/** Which restore points a backup run deletes: after it succeeds, or before it starts when it needs room. */
import { splitByDate } from "./points";

export interface RetentionPolicy {
  /** Keep the newest this many points. */
  readonly keepLast?: number | undefined;
  /** Keep points younger than this many seconds. */
  readonly keepWithinSeconds?: number | undefined;
}

export function hasPolicy(policy: RetentionPolicy): boolean {
  return policy.keepLast !== undefined || policy.keepWithinSeconds !== undefined;
}

/**
 * The points to delete, oldest last: those neither among the newest `keepLast` nor younger than
 * `keepWithinSeconds`. With no policy nothing is deleted. The newest point of all and every
 * `protectedFiles` (the point this run just made and checked) are always kept. A point dated in the
 * future (beyond the clock-skew allowance) neither takes a place among the newest nor is deleted:
 * it is suspect, not old, and deleting good points because of it would lose them.
 */
export function pointsToDelete<Point extends { readonly file: string; readonly timestamp: number }>(
  points: readonly Point[],
  policy: RetentionPolicy,
  now: number,
  ...protectedFiles: string[]
): Point[] {
  if (!hasPolicy(policy)) return [];
  const newestFirst = splitByDate(
    [...points].sort((a, b) => b.timestamp - a.timestamp),
    now,
  ).current;
  return newestFirst.filter((point, index) => {
    if (index === 0 || protectedFiles.includes(point.file)) return false;
    if (policy.keepLast !== undefined && index < policy.keepLast) return false;
    if (policy.keepWithinSeconds !== undefined && now - point.timestamp < policy.keepWithinSeconds)
      return false;
    return true;
  });
}
