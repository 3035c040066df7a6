/** Durations as the manifests write them: `90s`, `5m`, `1h30m`, `7d`. */
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
const DURATION = /^(?:\d+[smhdw])+$/;

/** Seconds in `text`; throws a message naming the accepted forms when `text` is not a duration. */
export function parseDurationSeconds(text: string): number {
  const trimmed = text.trim();
  if (!DURATION.test(trimmed)) {
    throw new Error(`"${text}" is not a duration; expected forms like 90s, 5m, 1h30m or 7d`);
  }
  let seconds = 0;
  for (const [, amount, unit] of trimmed.matchAll(/(\d+)([smhdw])/g)) {
    seconds += Number(amount) * UNIT_SECONDS[unit!]!;
  }
  return seconds;
}

/** A point in time given as unix seconds or an ISO 8601 timestamp, in unix seconds. */
export function parseTimeSeconds(text: string): number {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  // Date.parse accepts loose forms ("March 7"); require at least an ISO date.
  const millis = /^\d{4}-\d{2}-\d{2}/.test(trimmed) ? Date.parse(trimmed) : Number.NaN;
  if (Number.isNaN(millis)) {
    throw new Error(
      `"${text}" is not a time; expected unix seconds or ISO 8601 like 2026-11-24T10:00:00Z`,
    );
  }
  return Math.floor(millis / 1000);
}
