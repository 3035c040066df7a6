/**
 * Backup schedules derived from objectives.
 *
 * A restore point taken by a Kubernetes CronJob can be this old when disaster strikes: the gap
 * between two scheduled runs, plus how late the next run may start (`startingDeadlineSeconds`),
 * plus how long it may take to finish (`activeDeadlineSeconds`). That sum is the worst-case
 * RPO the schedule provides, and it is what gets checked against the declared `rpo`.
 */
import type * as CronParser from "cron-parser";

/** Cadences a five-field cron expression keeps evenly spaced, shortest first. */
const CADENCES: ReadonlyArray<{ seconds: number; cron: string }> = [
  ...[1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30].map((m) => ({
    seconds: m * 60,
    cron: m === 1 ? "* * * * *" : `*/${m} * * * *`,
  })),
  ...[1, 2, 3, 4, 6, 8, 12].map((h) => ({
    seconds: h * 3600,
    cron: h === 1 ? "0 * * * *" : `0 */${h} * * *`,
  })),
  { seconds: 86400, cron: "0 0 * * *" },
];

/** The shortest interval a CronJob can run at. */
export const MIN_CRON_INTERVAL_SECONDS = 60;

/** Every cadence a derived schedule uses, for tests. */
export const DERIVED_CADENCES = CADENCES;

export interface Timing {
  /** Five-field cron expression, evaluated in UTC. */
  readonly schedule: string;
  /** The longest gap between two consecutive scheduled runs. */
  readonly intervalSeconds: number;
  /** How late a run may start before it is skipped (CronJob `startingDeadlineSeconds`). */
  readonly startingDeadlineSeconds: number;
  /** How long a run may take before it is killed (Job `activeDeadlineSeconds`). */
  readonly activeDeadlineSeconds: number;
  /** intervalSeconds + startingDeadlineSeconds + activeDeadlineSeconds. */
  readonly worstCaseAgeSeconds: number;
}

/**
 * Deadlines that scale with the interval: together they take at most half of it, so a late or
 * hung run is gone before the next one is due, and never below what a pod needs to start
 * (the CronJob controller itself only looks every 10 seconds).
 */
export function timingFor(schedule: string, intervalSeconds: number): Timing {
  return timingOf(schedule, intervalSeconds, clamp(Math.round(intervalSeconds / 3), 20, 3600));
}

/**
 * A schedule whose runs take what they take: the active deadline is the run's own length (a copy
 * sized by the data, not by an objective), the starting deadline scales with the interval as in
 * timingFor. Whether the run fits between two starts is the caller's check (runsOverlap).
 */
export function timingOf(
  schedule: string,
  intervalSeconds: number,
  activeDeadlineSeconds: number,
): Timing {
  const startingDeadlineSeconds = clamp(Math.round(intervalSeconds / 6), 10, 600);
  return {
    schedule,
    intervalSeconds,
    startingDeadlineSeconds,
    activeDeadlineSeconds,
    worstCaseAgeSeconds: intervalSeconds + startingDeadlineSeconds + activeDeadlineSeconds,
  };
}

/** True when a run started as late as allowed could still be running when the next is due. */
export function runsOverlap(timing: Timing): boolean {
  return timing.startingDeadlineSeconds + timing.activeDeadlineSeconds > timing.intervalSeconds;
}

/**
 * The most frequent even cadence that gives each run `activeDeadlineSeconds` and its starting
 * deadline before the next is due, so runs never overlap (and concurrencyPolicy Forbid never has
 * to skip one); undefined when even a daily run cannot.
 */
export function timingCovering(activeDeadlineSeconds: number): Timing | undefined {
  for (const cadence of CADENCES) {
    const timing = timingOf(cadence.cron, cadence.seconds, activeDeadlineSeconds);
    if (!runsOverlap(timing)) return timing;
  }
  return undefined;
}

/**
 * The least frequent schedule whose worst-case age still fits in `maxAgeSeconds`,
 * or undefined when even a run every minute cannot.
 */
export function timingWithin(maxAgeSeconds: number): Timing | undefined {
  let best: Timing | undefined;
  for (const cadence of CADENCES) {
    const timing = timingFor(cadence.cron, cadence.seconds);
    if (timing.worstCaseAgeSeconds <= maxAgeSeconds) best = timing;
  }
  return best;
}

/** The fastest a CronJob schedule can keep restore points: every minute, with its deadlines. */
export const FASTEST_TIMING: Timing = timingFor(CADENCES[0]!.cron, CADENCES[0]!.seconds);

/** The least frequent even cadence that runs at least every `seconds`, or undefined below a minute. */
export function cadenceAtMost(seconds: number): { seconds: number; cron: string } | undefined {
  let best: { seconds: number; cron: string } | undefined;
  for (const cadence of CADENCES) if (cadence.seconds <= seconds) best = cadence;
  return best;
}

/**
 * The longest gap between consecutive runs of a five-field cron expression, found by walking
 * eight days of its runs in UTC (a week covers every day-of-week pattern; the extra day covers
 * the wrap). Throws with the parser's reason when the expression is not valid.
 */
export function longestGapSeconds(expression: string): number {
  // The cadences this module derives are evenly spaced by construction; walking a week of
  // minute-by-minute runs through cron-parser costs half a second, so only other
  // expressions (a hand-written pra:backupSchedule) are walked, once each.
  const known = CADENCES.find((cadence) => cadence.cron === expression.trim());
  if (known) return known.seconds;
  let gap = measuredGaps.get(expression);
  if (gap === undefined) {
    gap = walkLongestGap(expression);
    measuredGaps.set(expression, gap);
  }
  return gap;
}

const measuredGaps = new Map<string, number>();

/**
 * The most runs of `expression` that fall within any `windowSeconds`: how many restore points a
 * retention window keeps at its fullest, so how many copies a backup volume must hold. Known
 * cadences are evenly spaced; other expressions are walked over a week plus the window (a
 * week covers every day-of-week pattern).
 */
export function mostRunsWithin(expression: string, windowSeconds: number): number {
  const known = CADENCES.find((cadence) => cadence.cron === expression.trim());
  if (known) return Math.ceil(windowSeconds / known.seconds);
  const runs = runTimes(expression, 7 * 86400 + windowSeconds);
  let most = 0;
  let first = 0;
  for (let last = 0; last < runs.length; last++) {
    // Runs younger than the window at the moment of run `last` (retention keeps age < window).
    while (runs[last]! - runs[first]! >= windowSeconds * 1000) first++;
    most = Math.max(most, last - first + 1);
  }
  return most;
}

/** The longest gap found by walking the expression's runs (exported for the fast path's test). */
export function walkLongestGap(expression: string): number {
  const runs = runTimes(expression, 8 * 86400);
  let longest = 0;
  for (let i = 1; i < runs.length; i++) {
    longest = Math.max(longest, (runs[i]! - runs[i - 1]!) / 1000);
  }
  if (longest === 0) {
    throw new Error("it runs less than twice in eight days, too rarely to hold an objective");
  }
  return longest;
}

/** The run times (ms) of a five-field expression in UTC over `spanSeconds` from a fixed Monday. */
function runTimes(expression: string, spanSeconds: number): number[] {
  // Loaded on first use: most stacks never need it, and it costs a tenth of synth's start-up.
  /* eslint-disable @typescript-eslint/no-require-imports, @typescript-eslint/no-unsafe-assignment --
     a lazy load (an import would load it at start-up), typed by the type-only import above */
  const { CronExpressionParser }: typeof CronParser = require("cron-parser");
  /* eslint-enable @typescript-eslint/no-require-imports, @typescript-eslint/no-unsafe-assignment */
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5) {
    throw new Error(
      `a cron expression has 5 fields (minute hour day month weekday), this one has ${fields.length}`,
    );
  }
  const start = new Date(Date.UTC(2026, 0, 5)); // a Monday; any fixed date keeps this deterministic
  const runs = CronExpressionParser.parse(expression, {
    currentDate: start,
    endDate: new Date(start.getTime() + spanSeconds * 1000),
    tz: "UTC",
  });
  const times: number[] = [];
  while (runs.hasNext()) times.push(runs.next().getTime());
  return times;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
