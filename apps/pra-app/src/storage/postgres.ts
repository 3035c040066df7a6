import { Pool, type PoolConfig } from "pg";
import { log } from "../log";
import { MAX_MESSAGE_LENGTH } from "../validation";
import type { Storage, StoredEvent } from "./types";

// Any fixed number: replicas starting together take it so only one creates the schema at a time.
const SCHEMA_LOCK_KEY = 4_202_611;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS events (
    id BIGSERIAL PRIMARY KEY,
    message TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
  );
  CREATE INDEX IF NOT EXISTS events_created_at ON events (created_at)`;

interface EventRow {
  id: string | number;
  message: string;
  created_at: Date;
}

function toEvent(row: EventRow): StoredEvent {
  return { id: Number(row.id), message: row.message, created_at: row.created_at.toISOString() };
}

/**
 * The pool's settings. TLS comes from the URL as libpq spells it (`sslmode`, `sslrootcert`); a CA
 * file given apart (DATABASE_CA_FILE) is added to the URL when the URL names none, and then turns on
 * certificate checking.
 */
export function poolConfig(databaseUrl: string, caFile: string | undefined): PoolConfig {
  const url = new URL(databaseUrl);
  if (caFile && !url.searchParams.has("sslrootcert")) {
    url.searchParams.set("sslrootcert", caFile);
    if (!url.searchParams.has("sslmode")) url.searchParams.set("sslmode", "verify-full");
  }
  return {
    connectionString: url.toString(),
    max: 10,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30000,
  };
}

/**
 * True when the server refused the login itself (SQLSTATE class 28: a wrong password, a role that
 * may not log in): the credentials this process read at start are no longer valid.
 */
export function isRejectedLogin(error: unknown): boolean {
  return (
    typeof error === "object" &&
    error !== null &&
    "code" in error &&
    typeof error.code === "string" &&
    error.code.startsWith("28")
  );
}

/**
 * What the process does when its credentials are rejected: they come from the environment,
 * fixed when the container started, and Secrets Manager rotates them (alternating users, so a
 * rejection means they are older than a rotation). Stopping gracefully (SIGTERM, as Kubernetes
 * would) lets the kubelet restart the container, which reads the Secret External Secrets has
 * kept current. A pool cannot reconnect with credentials it does not have.
 */
export function restartForNewCredentials(): void {
  log.error("the database rejected this process's credentials: restarting to read current ones");
  process.kill(process.pid, "SIGTERM");
}

function guarded<Args extends unknown[], Result>(
  action: (...args: Args) => Promise<Result>,
  onRejectedLogin: () => void,
): (...args: Args) => Promise<Result> {
  return async (...args) => {
    try {
      return await action(...args);
    } catch (error) {
      if (isRejectedLogin(error)) onRejectedLogin();
      throw error;
    }
  };
}

export async function createPostgresStorage(
  databaseUrl: string,
  caFile?: string,
  onRejectedLogin: () => void = restartForNewCredentials,
): Promise<Storage> {
  const pool = new Pool(poolConfig(databaseUrl, caFile));
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on("error", (error) => log.warn("postgres idle client error", { error: error.message }));
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock($1)", [SCHEMA_LOCK_KEY]);
    await client.query(SCHEMA);
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    client.release();
    await pool.end();
    throw error;
  }
  client.release();
  const storage: Storage = {
    kind: "postgres",
    addEvent: async (message) => {
      const result = await pool.query<EventRow>(
        "INSERT INTO events (message) VALUES ($1) RETURNING id, message, created_at",
        [message],
      );
      const [row] = result.rows;
      if (!row) throw new Error("the insert returned no row");
      return toEvent(row);
    },
    countEvents: async () => {
      const result = await pool.query<{ count: string }>("SELECT count(*) AS count FROM events");
      return Number(result.rows[0]?.count ?? 0);
    },
    recentEvents: async (limit) => {
      const result = await pool.query<EventRow>(
        "SELECT id, message, created_at FROM events ORDER BY id DESC LIMIT $1",
        [limit],
      );
      return result.rows.map(toEvent);
    },
    ping: async () => {
      await pool.query("SELECT 1");
    },
    probeWrite: async () => {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        // The largest event, inserted and deleted in one committed transaction: it needs what an
        // event needs. (It uses up one id; PostgreSQL sequences have gaps anyway.)
        const inserted = await client.query<{ id: string }>(
          "INSERT INTO events (message) VALUES ($1) RETURNING id",
          ["p".repeat(MAX_MESSAGE_LENGTH)],
        );
        await client.query("DELETE FROM events WHERE id = $1", [inserted.rows[0]?.id]);
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    close: async () => {
      if (!pool.ended) await pool.end();
    },
  };
  return {
    ...storage,
    addEvent: guarded((message: string) => storage.addEvent(message), onRejectedLogin),
    countEvents: guarded(() => storage.countEvents(), onRejectedLogin),
    recentEvents: guarded((limit: number) => storage.recentEvents(limit), onRejectedLogin),
    ping: guarded(() => storage.ping(), onRejectedLogin),
    probeWrite: guarded(() => storage.probeWrite(), onRejectedLogin),
  };
}
