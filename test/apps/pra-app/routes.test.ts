/**
 * Every route of the app contract, on both backends, through a real HTTP server over a real SQLite file
 * or a real PostgreSQL server.
 */
import type { AddressInfo } from "node:net";
import { Client } from "pg";
import { z } from "zod";
import { createBackup } from "../../../apps/pra-app/src/backup/create";
import { listRestorePoints } from "../../../apps/pra-app/src/backup/points";
import { type App, createApp } from "../../../apps/pra-app/src/server";
import type { Storage } from "../../../apps/pra-app/src/storage";
import { createPostgresStorage } from "../../../apps/pra-app/src/storage/postgres";
import { createSqliteStorage } from "../../../apps/pra-app/src/storage/sqlite";
import { MAX_MESSAGE_LENGTH } from "../../../apps/pra-app/src/validation";
import { type PostgresServer, startPostgres } from "../../support/postgres";
import { type TempDir, tempDir } from "../../support/pra-app";

// The response bodies the tests read into, as the app contract (docs/app.md) describes them.
const EventBody = z.object({ id: z.number(), message: z.string(), created_at: z.string() });
const EventsBody = z.object({ events: z.array(EventBody) });
const ErrorBody = z.object({ error: z.string() });
const CountBody = z.object({ count: z.number() });
const StatusBody = z.object({
  count: z.number(),
  last_backup_file: z.string().nullable(),
  backup_age_seconds: z.number().nullable(),
});
const BackupsBody = z.object({
  backups: z.array(
    z.object({
      file: z.string(),
      timestamp: z.number(),
      size_bytes: z.number(),
      age_seconds: z.number(),
    }),
  ),
});

let postgres: PostgresServer;
let dir: TempDir;
let databaseCounter = 0;
let postgresUrl: string;

beforeAll(async () => {
  dir = tempDir();
  postgres = await startPostgres();
  postgresUrl = await postgres.createDatabase("routes");
});

afterAll(() => {
  postgres?.stop();
  dir?.remove();
});

const backends: [string, () => Promise<Storage>][] = [
  [
    "sqlite",
    () => Promise.resolve(createSqliteStorage(dir.join(`db-${++databaseCounter}`, "app.db"))),
  ],
  [
    "postgres",
    async () => {
      // One database for the file, emptied per test: creating a database per test is slow.
      const storage = await createPostgresStorage(postgresUrl);
      const client = new Client({ connectionString: postgresUrl });
      await client.connect();
      await client.query("TRUNCATE events RESTART IDENTITY");
      await client.end();
      return storage;
    },
  ],
];

describe.each(backends)("routes on %s", (kind, openBackend) => {
  let storage: Storage;
  let app: App;
  let base: string;
  let backupDir: string;

  beforeEach(async () => {
    storage = await openBackend();
    backupDir = dir.join(`backups-${++databaseCounter}`);
    app = createApp(storage, () => Promise.resolve(listRestorePoints(backupDir)));
    await new Promise<void>((resolveListen) =>
      app.server.listen(0, "127.0.0.1", () => resolveListen()),
    );
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    await app.shutdown();
  });

  const get = async (path: string) => {
    const response = await fetch(`${base}${path}`);
    const body: unknown = await response.json();
    return { status: response.status, body };
  };
  const post = async (body: string) => {
    const response = await fetch(`${base}/events`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    const responseBody: unknown = await response.json();
    return { status: response.status, body: responseBody };
  };

  test("GET / names the service and its backend", async () => {
    const root = await get("/");
    expect(root.status).toBe(200);
    expect(root.body).toMatchObject({ service: "pra-app", backend: kind });
  });

  test("/health and /ready answer while the database answers", async () => {
    expect(await get("/health")).toEqual({ status: 200, body: { status: "ok" } });
    expect(await get("/ready")).toEqual({ status: 200, body: { status: "ready" } });
  });

  test("/ready answers 503 once the database is gone, /health still 200", async () => {
    await storage.close();
    expect((await get("/ready")).status).toBe(503);
    expect((await get("/health")).status).toBe(200);
  });

  test("GET /add and POST /events store events that /count and /consultation return", async () => {
    const added = await get("/add?message=hello%20workshop");
    expect(added.status).toBe(200);
    const event = EventBody.parse(added.body);
    expect(event.message).toBe("hello workshop");
    expect(Number.isNaN(Date.parse(event.created_at))).toBe(false);
    const posted = await post(JSON.stringify({ message: "second" }));
    expect(posted).toMatchObject({ status: 201, body: { message: "second" } });
    expect(await get("/count")).toEqual({ status: 200, body: { count: 2 } });
    const consultation = await get("/consultation");
    expect(EventsBody.parse(consultation.body).events.map((event) => event.message)).toEqual([
      "second",
      "hello workshop",
    ]);
  });

  test("/consultation returns the newest 50, newest first", async () => {
    for (let i = 1; i <= 55; i++) await storage.addEvent(`m${i}`);
    const { events } = EventsBody.parse((await get("/consultation")).body);
    expect(events).toHaveLength(50);
    expect(events[0]?.message).toBe("m55");
    expect(events[49]?.message).toBe("m6");
  });

  test.each([
    ["no message", "/add", "message is required"],
    ["an empty message", "/add?message=", "message must not be empty"],
    ["a blank message", "/add?message=%20%20", "message must not be empty"],
    [
      "a message too long",
      `/add?message=${"a".repeat(MAX_MESSAGE_LENGTH + 1)}`,
      `at most ${MAX_MESSAGE_LENGTH} characters`,
    ],
  ])("GET /add with %s is refused with 400", async (_case, path, error) => {
    const response = await get(path);
    expect(response.status).toBe(400);
    expect(ErrorBody.parse(response.body).error).toContain(error);
    expect(CountBody.parse((await get("/count")).body).count).toBe(0);
  });

  test.each([
    ["no message", "{}", "message is required"],
    ["a number", '{"message": 42}', "message must be a string"],
    ["an empty message", '{"message": ""}', "message must not be empty"],
    [
      "a message too long",
      JSON.stringify({ message: "b".repeat(MAX_MESSAGE_LENGTH + 1) }),
      `at most ${MAX_MESSAGE_LENGTH}`,
    ],
    ["a body that is not JSON", "not json", "request body must be JSON"],
    [
      "a body over 64 KiB",
      JSON.stringify({ message: "c".repeat(70_000) }),
      "request body larger than",
    ],
  ])("POST /events with %s is refused", async (_case, body, error) => {
    const response = await post(body);
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(ErrorBody.parse(response.body).error).toContain(error);
    expect(CountBody.parse((await get("/count")).body).count).toBe(0);
  });

  test("a message of exactly the maximum length is accepted", async () => {
    expect((await post(JSON.stringify({ message: "d".repeat(MAX_MESSAGE_LENGTH) }))).status).toBe(
      201,
    );
  });

  test("/status and /backups report restore points, newest first", async () => {
    expect(await get("/status")).toEqual({
      status: 200,
      body: { count: 0, last_backup_file: null, backup_age_seconds: null, future_points: [] },
    });
    expect(await get("/backups")).toEqual({ status: 200, body: { backups: [] } });
    const source = dir.join(`source-${++databaseCounter}.db`);
    const sqlite = createSqliteStorage(source);
    await sqlite.addEvent("x");
    await sqlite.close();
    const nowSpy = jest.spyOn(Date, "now");
    nowSpy.mockReturnValue(1_700_000_000_000);
    await createBackup({ dbPath: source, backupDir });
    nowSpy.mockReturnValue(1_700_000_100_000);
    await createBackup({ dbPath: source, backupDir });
    nowSpy.mockRestore();
    await storage.addEvent("one");
    const status = await get("/status");
    const statusBody = StatusBody.parse(status.body);
    expect(statusBody).toMatchObject({ count: 1, last_backup_file: "app-1700000100.db" });
    expect(statusBody.backup_age_seconds).toBeGreaterThan(0);
    const { backups } = BackupsBody.parse((await get("/backups")).body);
    expect(backups.map((point) => point.file)).toEqual(["app-1700000100.db", "app-1700000000.db"]);
    // size_bytes is a number: BackupsBody says so.
    expect(backups[0]).toMatchObject({ timestamp: 1700000100 });
  });

  test("/metrics exposes request counts, latency, events and the newest restore point", async () => {
    await get("/add?message=a");
    await get("/add");
    await get("/nowhere");
    const response = await fetch(`${base}/metrics`);
    expect(response.headers.get("content-type")).toContain("text/plain");
    const text = await response.text();
    expect(text).toContain('pra_http_requests_total{route="/add",status="200"} 1');
    expect(text).toContain('pra_http_requests_total{route="/add",status="400"} 1');
    expect(text).toContain('pra_http_requests_total{route="other",status="404"} 1');
    expect(text).toMatch(
      /pra_http_request_duration_seconds_bucket\{le="\+Inf",route="\/add",status="200"\} 1/,
    );
    expect(text).toMatch(/^pra_events 1$/m);
    // No restore point: timestamp 0 and an age counted from the epoch, so "too old" alerts fire.
    expect(text).toMatch(/^pra_restore_point_newest_timestamp_seconds 0$/m);
    const age = Number(/^pra_restore_point_newest_age_seconds (\S+)$/m.exec(text)?.[1]);
    expect(age).toBeGreaterThan(1_700_000_000);
  });

  test("unknown routes answer 404 and wrong methods 405, as JSON", async () => {
    expect(await get("/nope")).toEqual({ status: 404, body: { error: "no route /nope" } });
    const response = await fetch(`${base}/count`, { method: "DELETE" });
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("GET");
  });
});

describe.each(backends)("the %s backend", (kind, openBackend) => {
  test("keeps events across a close and reopen of the same database", async () => {
    const first = await openBackend();
    const opened = databaseCounter;
    await first.addEvent("kept");
    await first.close();
    const second = await reopen(kind, opened);
    try {
      expect(await second.countEvents()).toBe(1);
      expect((await second.recentEvents(5)).map((event) => event.message)).toEqual(["kept"]);
    } finally {
      await second.close();
    }
  });
});

async function reopen(kind: string, counter: number): Promise<Storage> {
  if (kind === "sqlite") return createSqliteStorage(dir.join(`db-${counter}`, "app.db"));
  return createPostgresStorage(postgresUrl);
}
