/** The HTTP service: the app contract's routes over a Storage, with metrics and graceful shutdown. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { errorMessage, log } from "./log";
import { createMetrics } from "./metrics";
import type { Storage } from "./storage";
import { checkMessage } from "./validation";

export interface PointSummary {
  readonly file: string;
  readonly timestamp: number;
  readonly sizeBytes: number;
}

/** Restore points (or exports), newest first. */
export type ListRestorePoints = () => Promise<PointSummary[]>;

const MAX_BODY_BYTES = 64 * 1024;
const CONSULTATION_LIMIT = 50;
const SHUTDOWN_GRACE_MS = 10_000;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

type Handled = { status: number; body: unknown } | RawBody;
type Handler = (request: IncomingMessage, url: URL) => Handled | Promise<Handled>;
interface RawBody {
  status: number;
  raw: string;
  contentType: string;
}

export interface App {
  readonly server: Server;
  /** Stops accepting, lets in-flight requests finish, then closes the database. */
  shutdown(): Promise<void>;
}

export function createApp(storage: Storage, listRestorePoints: ListRestorePoints): App {
  const metrics = createMetrics(storage, async () => (await listRestorePoints())[0]);

  const addEvent = async (message: unknown) => {
    const check = checkMessage(message);
    if (!check.ok) throw new HttpError(400, check.error);
    return storage.addEvent(check.message);
  };

  const routes: Record<string, Partial<Record<string, Handler>>> = {
    "/": {
      GET: () => ({
        status: 200,
        body: {
          service: "pra-app",
          backend: storage.kind,
          routes: [
            "/health",
            "/ready",
            "/add?message=",
            "/events",
            "/count",
            "/consultation",
            "/status",
            "/backups",
            "/metrics",
          ],
        },
      }),
    },
    "/health": { GET: () => ({ status: 200, body: { status: "ok" } }) },
    "/ready": {
      GET: async () => {
        try {
          await storage.ping();
          return { status: 200, body: { status: "ready" } };
        } catch (error) {
          log.warn("readiness check failed", { error: errorMessage(error) });
          return {
            status: 503,
            body: { status: "unavailable", error: "the database does not answer" },
          };
        }
      },
    },
    "/add": {
      GET: async (_request, url) => ({
        status: 200,
        body: await addEvent(url.searchParams.get("message")),
      }),
    },
    "/events": {
      POST: async (request) => {
        const body = await readJsonBody(request);
        const message =
          typeof body === "object" && body !== null
            ? (body as { message?: unknown }).message
            : undefined;
        return { status: 201, body: await addEvent(message) };
      },
    },
    "/count": { GET: async () => ({ status: 200, body: { count: await storage.countEvents() } }) },
    "/consultation": {
      GET: async () => ({
        status: 200,
        body: { events: await storage.recentEvents(CONSULTATION_LIMIT) },
      }),
    },
    "/status": {
      GET: async () => {
        const [count, points] = await Promise.all([storage.countEvents(), listRestorePoints()]);
        const newest = points[0];
        return {
          status: 200,
          body: {
            count,
            last_backup_file: newest?.file ?? null,
            backup_age_seconds: newest ? Math.floor(Date.now() / 1000) - newest.timestamp : null,
          },
        };
      },
    },
    "/backups": {
      GET: async () => {
        const now = Math.floor(Date.now() / 1000);
        const points = await listRestorePoints();
        return {
          status: 200,
          body: {
            backups: points.map((point) => ({
              file: point.file,
              timestamp: point.timestamp,
              size_bytes: point.sizeBytes,
              age_seconds: now - point.timestamp,
            })),
          },
        };
      },
    },
    "/metrics": {
      GET: async () => ({
        status: 200,
        raw: await metrics.registry.metrics(),
        contentType: metrics.registry.contentType,
      }),
    },
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const started = process.hrtime.bigint();
    const url = new URL(request.url ?? "/", "http://localhost");
    const methods = routes[url.pathname];
    // Unknown paths share one label so that scanners cannot grow the metrics without bound.
    const route = methods ? url.pathname : "other";
    let status = 500;
    try {
      const handler = methods?.[request.method ?? "GET"];
      if (!methods) throw new HttpError(404, `no route ${url.pathname}`);
      if (!handler) {
        response.setHeader("Allow", Object.keys(methods).join(", "));
        throw new HttpError(405, `${request.method} is not allowed on ${url.pathname}`);
      }
      const result = await handler(request, url);
      status = result.status;
      if ("raw" in result) send(response, status, result.raw, result.contentType);
      else sendJson(response, status, result.body);
    } catch (error) {
      status = error instanceof HttpError ? error.status : 500;
      if (status === 500) log.error("request failed", { route, error: errorMessage(error) });
      // A 500's detail stays in the log: it may name internals.
      sendJson(response, status, {
        error: status === 500 ? "internal error" : errorMessage(error),
      });
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.observeRequest(route, status, seconds);
    }
  };

  const server = createServer((request, response) => {
    void handle(request, response);
  });

  let closing: Promise<void> | undefined;
  const shutdown = () => {
    closing ??= (async () => {
      const drained = new Promise<void>((resolveClose) => server.close(() => resolveClose()));
      // Idle keep-alive connections would hold close() open; busy ones finish their request first.
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
      await drained;
      clearTimeout(timer);
      await storage.close();
    })();
    return closing;
  };
  return { server, shutdown };
}

function readJsonBody(request: IncomingMessage): Promise<unknown> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      // Past the limit the rest is read and dropped, so the client still gets its 413.
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    request.on("error", reject);
    request.on("end", () => {
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, `request body larger than ${MAX_BODY_BYTES} bytes`));
        return;
      }
      const text = Buffer.concat(chunks).toString("utf8");
      try {
        resolveBody(text.length === 0 ? undefined : JSON.parse(text));
      } catch {
        reject(new HttpError(400, 'request body must be JSON like {"message": "..."}'));
      }
    });
  });
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  send(response, status, JSON.stringify(body), "application/json; charset=utf-8");
}

function send(response: ServerResponse, status: number, body: string, contentType: string): void {
  if (response.headersSent) return;
  response.writeHead(status, {
    "Content-Type": contentType,
    "Content-Length": Buffer.byteLength(body),
  });
  response.end(body);
}
