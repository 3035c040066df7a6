/** Durations as the manifests write them: `90s`, `5m`, `1h30m`, `7d`. */
const UNIT_SECONDS = { w: 604800, d: 86400, h: 3600, m: 60, s: 1 } as const;
/** Each unit at most once, largest first: `5m5m` or `30s1m` is a typo, not 10 minutes. */
const DURATION = /^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** Seconds in `text`; throws a message naming the accepted forms when `text` is not a duration. */
export function parseDurationSeconds(text: string): number {
  const match = DURATION.exec(text.trim());
  const amounts = match?.slice(1) ?? [];
  if (!match || amounts.every((amount) => amount === undefined)) {
    throw new Error(
      `"${text}" is not a duration; expected forms like 90s, 5m, 1h30m or 7d (each unit once, largest first)`,
    );
  }
  const seconds = Object.values(UNIT_SECONDS);
  return amounts.reduce(
    (total, amount, index) => total + Number(amount ?? 0) * (seconds[index] ?? 0),
    0,
  );
}

const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/;

/**
 * A point in time given as unix seconds or an ISO 8601 date and time with its zone, in unix seconds.
 * Refused rather than guessed: a calendar date that does not exist (2026-02-31 is not 3 March), and a
 * time without a zone (the machine's local zone is rarely the one the operator meant).
 */
export function parseTimeSeconds(text: string): number {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const match = ISO_TIME.exec(trimmed);
  if (!match) {
    throw new Error(
      `"${text}" is not a time; expected unix seconds or ISO 8601 like 2026-11-24T10:00:00Z`,
    );
  }
  const [, year, month, day, hour, minute, second = "00", zone] = match;
  const calendar = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
  const exists =
    calendar.getUTCFullYear() === Number(year) &&
    calendar.getUTCMonth() === Number(month) - 1 &&
    calendar.getUTCDate() === Number(day) &&
    Number(hour) < 24 &&
    Number(minute) < 60 &&
    Number(second) < 60;
  if (!exists) throw new Error(`"${text}" is not a date and time that exists`);
  if (zone === undefined) {
    throw new Error(
      `"${text}" has no zone; add a zone: Z (UTC) or an offset like +01:00 (2026-11-24T10:00:00Z)`,
    );
  }
  return Math.floor(Date.parse(trimmed) / 1000);
}
