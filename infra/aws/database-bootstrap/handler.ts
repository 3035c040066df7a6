/**
 * The database bootstrap's Lambda entry point (bundled by bundle.ts), invoked once by the Pulumi
 * program after the database and the app's secret exist: it signs in as the master user (RDS's
 * own secret), over TLS checked against the RDS authorities, and creates the app's user
 * (bootstrap.ts). No credential leaves the function; it returns what it did.
 */
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { Client } from "pg";
import { type BootstrapResult, bootstrapAppUser } from "./bootstrap";
import { APP_SECRET_VARIABLE, MASTER_SECRET_VARIABLE } from "./settings";

const secrets = new SecretsManagerClient({});

async function secretJson(id: string): Promise<Record<string, unknown>> {
  const value = await secrets.send(new GetSecretValueCommand({ SecretId: id }));
  const parsed: unknown = JSON.parse(value.SecretString ?? "{}");
  if (typeof parsed !== "object" || parsed === null) throw new Error(`${id}: not a JSON object`);
  return { ...parsed };
}

function text(secret: Record<string, unknown>, key: string): string {
  const value = secret[key];
  if (typeof value !== "string" || value === "") throw new Error(`the secret has no ${key}`);
  return value;
}

export async function handler(): Promise<BootstrapResult> {
  const masterId = process.env[MASTER_SECRET_VARIABLE];
  const appId = process.env[APP_SECRET_VARIABLE];
  if (!masterId || !appId) throw new Error(`${MASTER_SECRET_VARIABLE} and ${APP_SECRET_VARIABLE}`);
  const [master, app] = await Promise.all([secretJson(masterId), secretJson(appId)]);
  const host = text(app, "host");
  const client = new Client({
    host,
    port: Number(app.port ?? 5432),
    user: text(master, "username"),
    password: text(master, "password"),
    database: text(app, "dbname"),
    ssl: { rejectUnauthorized: true, servername: host },
    connectionTimeoutMillis: 10_000,
  });
  await client.connect();
  try {
    return await bootstrapAppUser(
      async (sql, params) =>
        (await client.query<Record<string, unknown>>(sql, params ? [...params] : undefined)).rows,
      {
        username: text(app, "username"),
        password: text(app, "password"),
        dbname: text(app, "dbname"),
      },
    );
  } finally {
    await client.end();
  }
}
