/** The one rule for an event's message, shared by `GET /add` and `POST /events`. */
export const MAX_MESSAGE_LENGTH = 1000;

export type MessageCheck = { ok: true; message: string } | { ok: false; error: string };

export function checkMessage(value: unknown): MessageCheck {
  if (value === undefined || value === null) return { ok: false, error: "message is required" };
  if (typeof value !== "string") return { ok: false, error: "message must be a string" };
  const message = value.trim();
  if (message.length === 0) return { ok: false, error: "message must not be empty" };
  if (message.length > MAX_MESSAGE_LENGTH) {
    return {
      ok: false,
      error: `message must be at most ${MAX_MESSAGE_LENGTH} characters (got ${message.length})`,
    };
  }
  return { ok: true, message };
}
