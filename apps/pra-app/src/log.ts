/**
 * Structured logs: one JSON object per line on stderr, so that a CLI command's stdout stays one JSON
 * summary line. Never pass a connection string here: use `redactUrl` first.
 */
type Level = "debug" | "info" | "warn" | "error";
type Fields = Record<string, unknown>;

const LEVELS: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function threshold(): number {
  const wanted = (process.env.LOG_LEVEL ?? "info").toLowerCase();
  return LEVELS[wanted as Level] ?? LEVELS.info;
}

function write(level: Level, message: string, fields: Fields): void {
  if (LEVELS[level] < threshold()) return;
  const line = { time: new Date().toISOString(), level, msg: message, ...fields };
  process.stderr.write(`${JSON.stringify(line)}\n`);
}

export const log = {
  debug: (message: string, fields: Fields = {}) => write("debug", message, fields),
  info: (message: string, fields: Fields = {}) => write("info", message, fields),
  warn: (message: string, fields: Fields = {}) => write("warn", message, fields),
  error: (message: string, fields: Fields = {}) => write("error", message, fields),
};

/** `postgres://user:secret@host/db` -> `postgres://user:***@host/db`. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparseable URL)";
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
