/**
 * Durations as people write them in stack files: `90s`, `5m`, `1h30m`, `7d`.
 * Everything downstream works in whole seconds.
 */

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };
const DURATION = /^(?:\d+[smhd])+$/;
const PART = /(\d+)([smhd])/g;

export const DURATION_EXPECTED = "a duration such as 90s, 5m, 1h30m or 7d";

/** Seconds in `text`, or undefined when it is not a duration. */
export function parseDuration(text: string): number | undefined {
  if (!DURATION.test(text)) return undefined;
  let seconds = 0;
  for (const [, amount, unit] of text.matchAll(PART)) {
    seconds += Number(amount) * UNIT_SECONDS[unit!]!;
  }
  return seconds;
}

/** A duration as the stack file spells it, with its seconds: parsed once, where it is read. */
export interface Duration {
  readonly text: string;
  readonly seconds: number;
}

/** `text` as a Duration; throws when it is not one (for durations written in the code). */
export function durationOf(text: string): Duration {
  const seconds = parseDuration(text);
  if (seconds === undefined) throw new Error(`${JSON.stringify(text)} is not a duration`);
  return { text, seconds };
}

/** The shortest exact spelling of `seconds`: 90 -> "1m30s", 3600 -> "1h". */
export function formatDuration(seconds: number): string {
  if (seconds === 0) return "0s";
  let rest = seconds;
  let text = "";
  for (const unit of ["d", "h", "m", "s"]) {
    const size = UNIT_SECONDS[unit]!;
    const count = Math.floor(rest / size);
    if (count > 0) {
      text += `${count}${unit}`;
      rest -= count * size;
    }
  }
  return text;
}
