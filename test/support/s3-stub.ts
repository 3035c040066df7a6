/**
 * A minimal S3-compatible server on 127.0.0.1 for tests (path-style requests, no authentication):
 * PutObject, CopyObject, HeadObject, GetObject, DeleteObject, ListObjectsV2 and multipart uploads
 * (parts uploaded or copied from a byte range of an object).
 * Objects live in memory with the headers they were written with, so tests can check encryption
 * settings. (No maintained npm package serves the S3 API locally with today's SDK: s3rver, the usual
 * choice, was last released in 2021.)
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface StoredObject {
  body: Buffer;
  headers: Record<string, string>;
  lastModified: Date;
}

export interface S3Stub {
  readonly endpoint: string;
  /** bucket -> key -> object */
  readonly buckets: Map<string, Map<string, StoredObject>>;
  /** Every request as "METHOD path?query", in order. */
  readonly requests: string[];
  stop(): Promise<void>;
}

const KEPT_HEADERS = [
  "x-amz-server-side-encryption",
  "x-amz-server-side-encryption-aws-kms-key-id",
  "content-type",
];

function keptHeaders(request: IncomingMessage): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name of KEPT_HEADERS) {
    const value = request.headers[name];
    if (typeof value === "string") kept[name] = value;
  }
  return kept;
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  return /aws-chunked/.test(request.headers["content-encoding"] ?? "")
    ? decodeAwsChunked(raw)
    : raw;
}

/** `<hex size>[;ext]\r\n<data>\r\n ... 0\r\n<trailers>\r\n\r\n` -> the data. */
function decodeAwsChunked(raw: Buffer): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = raw.indexOf("\r\n", offset);
    const size = Number.parseInt(raw.subarray(offset, lineEnd).toString().split(";")[0]!, 16);
    if (!size) break;
    parts.push(raw.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

const escapeXml = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function sendXml(response: ServerResponse, status: number, xml: string): void {
  response.writeHead(status, { "content-type": "application/xml" });
  response.end(`<?xml version="1.0" encoding="UTF-8"?>${xml}`);
}

function noSuchKey(response: ServerResponse, method: string): void {
  if (method === "HEAD") {
    response.writeHead(404);
    response.end();
    return;
  }
  sendXml(
    response,
    404,
    "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>",
  );
}

export async function startS3Stub(): Promise<S3Stub> {
  const buckets = new Map<string, Map<string, StoredObject>>();
  const uploads = new Map<
    string,
    { bucket: string; key: string; headers: Record<string, string>; parts: Map<number, Buffer> }
  >();
  const requests: string[] = [];
  const bucketOf = (name: string) => {
    let bucket = buckets.get(name);
    if (!bucket) {
      bucket = new Map();
      buckets.set(name, bucket);
    }
    return bucket;
  };

  /** The object an `x-amz-copy-source` header names (`bucket/key`, URL-encoded). */
  const sourceOf = (copySource: string) => {
    const [, sourceBucket = "", ...sourceKey] = decodeURIComponent(copySource)
      .replace(/^\/?/, "/")
      .split("/");
    return bucketOf(sourceBucket).get(sourceKey.join("/"));
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? "/", "http://stub");
    const method = request.method ?? "GET";
    requests.push(`${method} ${url.pathname}${url.search}`);
    const [, bucketName = "", ...keyParts] = url.pathname.split("/");
    const key = decodeURIComponent(keyParts.join("/"));
    const bucket = bucketOf(decodeURIComponent(bucketName));
    const query = url.searchParams;

    if (method === "GET" && key === "") {
      const prefix = query.get("prefix") ?? "";
      const contents = [...bucket.entries()]
        .filter(([name]) => name.startsWith(prefix))
        .sort(([a], [b]) => a.localeCompare(b))
        .map(
          ([name, object]) =>
            `<Contents><Key>${escapeXml(name)}</Key><Size>${object.body.length}</Size>` +
            `<LastModified>${object.lastModified.toISOString()}</LastModified><ETag>"x"</ETag></Contents>`,
        );
      sendXml(
        response,
        200,
        `<ListBucketResult><Name>${escapeXml(bucketName)}</Name><Prefix>${escapeXml(prefix)}</Prefix>` +
          `<KeyCount>${contents.length}</KeyCount><IsTruncated>false</IsTruncated>` +
          `${contents.join("")}</ListBucketResult>`,
      );
      return;
    }
    if (method === "POST" && query.has("uploads")) {
      const uploadId = randomBytes(8).toString("hex");
      uploads.set(uploadId, {
        bucket: bucketName,
        key,
        headers: keptHeaders(request),
        parts: new Map(),
      });
      sendXml(
        response,
        200,
        `<InitiateMultipartUploadResult><Bucket>${bucketName}</Bucket><Key>${escapeXml(key)}</Key>` +
          `<UploadId>${uploadId}</UploadId></InitiateMultipartUploadResult>`,
      );
      return;
    }
    const uploadId = query.get("uploadId");
    if (uploadId) {
      const upload = uploads.get(uploadId);
      if (!upload) return sendXml(response, 404, "<Error><Code>NoSuchUpload</Code></Error>");
      if (method === "PUT" && typeof request.headers["x-amz-copy-source"] === "string") {
        // UploadPartCopy: a byte range of an existing object becomes the part.
        const source = sourceOf(request.headers["x-amz-copy-source"]);
        if (!source) return noSuchKey(response, method);
        const range = /^bytes=(\d+)-(\d+)$/.exec(
          String(request.headers["x-amz-copy-source-range"] ?? ""),
        );
        const part = range
          ? source.body.subarray(Number(range[1]), Number(range[2]) + 1)
          : source.body;
        upload.parts.set(Number(query.get("partNumber")), part);
        sendXml(
          response,
          200,
          `<CopyPartResult><ETag>"part-${query.get("partNumber")}"</ETag>` +
            `<LastModified>${new Date().toISOString()}</LastModified></CopyPartResult>`,
        );
      } else if (method === "PUT") {
        upload.parts.set(Number(query.get("partNumber")), await readBody(request));
        response.writeHead(200, { etag: `"part-${query.get("partNumber")}"` });
        response.end();
      } else if (method === "POST") {
        await readBody(request);
        const body = Buffer.concat(
          [...upload.parts.entries()].sort(([a], [b]) => a - b).map(([, part]) => part),
        );
        bucket.set(key, { body, headers: upload.headers, lastModified: new Date() });
        uploads.delete(uploadId);
        sendXml(
          response,
          200,
          `<CompleteMultipartUploadResult><Key>${escapeXml(key)}</Key><ETag>"x"</ETag></CompleteMultipartUploadResult>`,
        );
      } else {
        uploads.delete(uploadId);
        response.writeHead(204);
        response.end();
      }
      return;
    }
    if (method === "PUT") {
      const copySource = request.headers["x-amz-copy-source"];
      if (typeof copySource === "string") {
        const source = sourceOf(copySource);
        if (!source) return noSuchKey(response, method);
        bucket.set(key, {
          body: source.body,
          headers: keptHeaders(request),
          lastModified: new Date(),
        });
        sendXml(
          response,
          200,
          `<CopyObjectResult><ETag>"x"</ETag>` +
            `<LastModified>${new Date().toISOString()}</LastModified></CopyObjectResult>`,
        );
        return;
      }
      bucket.set(key, {
        body: await readBody(request),
        headers: keptHeaders(request),
        lastModified: new Date(),
      });
      response.writeHead(200, { etag: '"x"' });
      response.end();
      return;
    }
    const object = bucket.get(key);
    if (method === "DELETE") {
      bucket.delete(key);
      response.writeHead(204);
      response.end();
      return;
    }
    if (!object) return noSuchKey(response, method);
    response.writeHead(200, {
      "content-length": object.body.length,
      "last-modified": object.lastModified.toUTCString(),
      etag: '"x"',
      ...object.headers,
    });
    response.end(method === "HEAD" ? undefined : object.body);
  };

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error) => {
      response.writeHead(500);
      response.end(String(error));
    });
  });
  await new Promise<void>((resolveListen) => server.listen(0, "127.0.0.1", () => resolveListen()));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    buckets,
    requests,
    stop: () =>
      new Promise<void>((resolveClose) => {
        server.closeAllConnections();
        server.close(() => resolveClose());
      }),
  };
}
