/** The HTTP service: the app contract's routes over a Storage, with metrics and graceful shutdown. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { errorMessage, log } from "./log";
import { ageSeconds, isFutureDated, nowSeconds, splitByDate } from "./backup/points";
import { createMetrics } from "./metrics";
import type { LatestRestoreTest, ListRestorePoints } from "./restore-points";
import type { Storage } from "./storage";
import { checkMessage } from "./validation";

export type { ListRestorePoints, PointSummary } from "./restore-points";

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

export function createApp(
  storage: Storage,
  listRestorePoints: ListRestorePoints,
  latestRestoreTest?: LatestRestoreTest,
): App {
  const metrics = createMetrics(storage, listRestorePoints, latestRestoreTest);
  // False from a failed write until a probe write succeeds (/ready): meanwhile the pod leaves the
  // Service's endpoints instead of answering 503 to every write.
  let writable = true;
  const setWritable = (value: boolean) => {
    writable = value;
    metrics.setWritable(value);
  };

  // /status and /backups cannot answer without the listing: a 503 that says so, not a 500.
  const listPoints = async () => {
    try {
      return await listRestorePoints();
    } catch (error) {
      log.warn("listing restore points failed", { error: errorMessage(error) });
      throw new HttpError(503, "the restore points cannot be listed right now");
    }
  };

  const addEvent = async (message: unknown) => {
    const check = checkMessage(message);
    if (!check.ok) throw new HttpError(400, check.error);
    try {
      return await storage.addEvent(check.message);
    } catch (error) {
      // Not acknowledged: the client may retry elsewhere. Logged and counted, never a silent 200.
      log.error("write failed", { error: errorMessage(error) });
      metrics.writeFailed();
      setWritable(false);
      throw new HttpError(503, "the event was not stored: the database cannot accept writes");
    }
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
        } catch (error) {
          log.warn("readiness check failed", { error: errorMessage(error) });
          return {
            status: 503,
            body: { status: "unavailable", error: "the database does not answer" },
          };
        }
        if (!writable) {
          try {
            await storage.probeWrite();
            log.info("the database accepts writes again");
            setWritable(true);
          } catch (error) {
            log.warn("the database still refuses writes", { error: errorMessage(error) });
            return {
              status: 503,
              body: { status: "unavailable", error: "the database does not accept writes" },
            };
          }
        }
        return { status: 200, body: { status: "ready" } };
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
        const [count, points] = await Promise.all([storage.countEvents(), listPoints()]);
        const now = nowSeconds();
        // A point dated in the future is never the newest backup: it would make the age negative.
        const { current, future } = splitByDate(points, now);
        const [newest] = current;
        return {
          status: 200,
          body: {
            count,
            last_backup_file: newest?.file ?? null,
            backup_age_seconds: newest ? ageSeconds(newest.timestamp, now) : null,
            future_points: future.map((point) => point.file),
          },
        };
      },
    },
    "/backups": {
      GET: async () => {
        const now = nowSeconds();
        const points = await listPoints();
        return {
          status: 200,
          body: {
            backups: points.map((point) => ({
              file: point.file,
              timestamp: point.timestamp,
              size_bytes: point.sizeBytes,
              age_seconds: ageSeconds(point.timestamp, now),
              future_dated: isFutureDated(point.timestamp, now),
            })),
          },
        };
      },
    },
    "/metrics": {
      GET: async () => ({
        status: 200,
        raw: await metrics.render(),
        contentType: metrics.contentType,
      }),
    },
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const started = process.hrtime.bigint();
    const url = requestUrl(request.url);
    const methods = url ? routes[url.pathname] : undefined;
    // Unknown paths share one label so that scanners cannot grow the metrics without bound.
    const route = url && methods ? url.pathname : "other";
    let status = 500;
    try {
      if (!url) throw new HttpError(400, "the request target is not a valid path or URL");
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
      // A body cut off at the limit leaves the rest unread: close the connection after answering.
      if (status === 413) response.setHeader("Connection", "close");
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

/**
 * The request target as a URL, or undefined when it is not one: origin-form (`/path?query`) or
 * absolute-form (`http://host/path`). Anything else, including what `new URL()` rejects
 * (`http://%zz/`), is a 400, never a crash.
 */
function requestUrl(target: string | undefined): URL | undefined {
  // `//x/...` reads as a path to some and as a host to others (new URL() took `//health` for the
  // host "health"): refused rather than guessed.
  if (target === undefined || target.startsWith("//")) return undefined;
  try {
    if (target.startsWith("/")) return new URL(`http://localhost${target}`);
    if (/^https?:\/\//i.test(target)) return new URL(target);
  } catch {
    // not a URL
  }
  return undefined;
}

function readJsonBody(request: IncomingMessage): Promise<unknown> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) {
        chunks.push(chunk);
        return;
      }
      // Stop at the limit: a client that keeps sending (a chunked body has no declared length)
      // gets its 413 now, and the connection is closed after it.
      request.off("data", onData);
      request.pause();
      reject(new HttpError(413, `request body larger than ${MAX_BODY_BYTES} bytes`));
    };
    request.on("data", onData);
    request.on("error", reject);
    request.on("end", () => {
      if (size > MAX_BODY_BYTES) return;
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
  // Closing (node sends FIN after this response): a client still sending the rest of a refused
  // body gets a moment to read the answer, then the socket goes, so that it cannot hold it open.
  if (response.getHeader("Connection") === "close") {
    response.once("finish", () => {
      setTimeout(() => response.req.socket.destroy(), 1000).unref();
    });
  }
}
