/**
 * The app's least-privilege database user (infra/aws/database-bootstrap/), created on a real
 * PostgreSQL server by a master user shaped like RDS's (CREATEROLE and CREATEDB, owner of the
 * app's database, not a superuser), then used by the app's own storage code, then by the clone
 * user Secrets Manager's alternating-users rotation adds (a member of the app's role).
 */
import { Client } from "pg";
import { createPostgresStorage } from "../../apps/pra-app/src/storage/postgres";
import { bootstrapAppUser, type Run } from "../../infra/aws/database-bootstrap/bootstrap";
import { type PostgresServer, startPostgres } from "../support/postgres";

let server: PostgresServer;
let port: string;
const urlAs = (user: string, database = "pra") =>
  `postgres://${user}:unused@127.0.0.1:${port}/${database}`;

async function as<T>(user: string, action: (client: Client) => Promise<T>, database = "pra") {
  const client = new Client({ connectionString: urlAs(user, database) });
  await client.connect();
  try {
    return await action(client);
  } finally {
    await client.end();
  }
}

const runAs =
  (client: Client): Run =>
  async (sql, params) =>
    (await client.query<Record<string, unknown>>(sql, params ? [...params] : undefined)).rows;

const APP = { username: "pra_app", password: "first-password", dbname: "pra" };

beforeAll(async () => {
  server = await startPostgres();
  port = new URL(server.url).port;
  await as(
    "postgres",
    async (client) => {
      await client.query("CREATE ROLE pra_admin LOGIN CREATEROLE CREATEDB PASSWORD 'master'");
      await client.query("CREATE DATABASE pra OWNER pra_admin");
    },
    "postgres",
  );
}, 60_000);
afterAll(() => server.stop());

test("the master creates the app's user; the app's storage runs as it", async () => {
  const result = await as("pra_admin", (client) => bootstrapAppUser(runAs(client), APP));
  expect(result).toEqual({ created: true, role: "pra_app" });
  const storage = await createPostgresStorage(urlAs("pra_app"));
  try {
    await storage.addEvent("written by the app's own user");
    await storage.probeWrite();
    expect(await storage.countEvents()).toBe(1);
  } finally {
    await storage.close();
  }
});

test("the app's user can do nothing beyond its database", async () => {
  const attempts = [
    "CREATE ROLE intruder LOGIN",
    "CREATE DATABASE other",
    "ALTER ROLE pra_app CREATEROLE",
    "SELECT rolpassword FROM pg_authid",
  ];
  for (const sql of attempts) {
    await expect(as("pra_app", (client) => client.query(sql))).rejects.toThrow(
      /permission denied|must be superuser|must have CREATEROLE|insufficient privilege/i,
    );
  }
  const flags = await as("pra_admin", async (client) => {
    const rows = await client.query<Record<string, boolean>>(
      "SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls " +
        "FROM pg_roles WHERE rolname = 'pra_app'",
    );
    return rows.rows[0];
  });
  expect(flags).toEqual({
    rolsuper: false,
    rolcreaterole: false,
    rolcreatedb: false,
    rolreplication: false,
    rolbypassrls: false,
  });
});

test("other roles lose the default right to connect to the app's database", async () => {
  await as("postgres", (client) => client.query("CREATE ROLE bystander LOGIN"), "postgres");
  await expect(as("bystander", (client) => client.query("SELECT 1"))).rejects.toThrow(
    /permission denied for database/,
  );
});

test("run again, it changes nothing: a rotated password is never reset", async () => {
  const passwordHash = () =>
    as(
      "postgres",
      async (client) =>
        (
          await client.query<{ rolpassword: string }>(
            "SELECT rolpassword FROM pg_authid WHERE rolname = 'pra_app'",
          )
        ).rows[0]?.rolpassword,
      "postgres",
    );
  // What the rotation does: a new password for the user.
  await as("pra_admin", (client) => client.query("ALTER ROLE pra_app PASSWORD 'rotated'"));
  const rotated = await passwordHash();
  const again = await as("pra_admin", (client) => bootstrapAppUser(runAs(client), APP));
  expect(again).toEqual({ created: false, role: "pra_app" });
  expect(await passwordHash()).toBe(rotated);
});

test("the rotation's clone user (a member of the app's role) runs the app on the same data", async () => {
  // As SecretsManagerRDSPostgreSQLRotationMultiUser creates it, signed in as the master.
  await as("pra_admin", async (client) => {
    await client.query("CREATE ROLE pra_app_clone WITH LOGIN PASSWORD 'clone'");
    await client.query("GRANT pra_app TO pra_app_clone");
  });
  const storage = await createPostgresStorage(urlAs("pra_app_clone"));
  try {
    await storage.addEvent("written by the clone");
    expect(await storage.countEvents()).toBe(2);
  } finally {
    await storage.close();
  }
});

test("a process whose login the server refuses stops, to restart with the Secret's current credentials", async () => {
  const rejected = jest.fn();
  const storage = await createPostgresStorage(urlAs("pra_app"), undefined, rejected);
  try {
    expect(await storage.countEvents()).toBe(2);
    expect(rejected).not.toHaveBeenCalled();
    // As when a rotation outlived this process's credentials: the server refuses the next login.
    await as(
      "postgres",
      async (client) => {
        await client.query("ALTER ROLE pra_app NOLOGIN");
        await client.query(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'pra_app'",
        );
      },
      "postgres",
    );
    await expect(storage.countEvents()).rejects.toMatchObject({ code: "28000" });
    expect(rejected).toHaveBeenCalledTimes(1);
  } finally {
    await as("postgres", (client) => client.query("ALTER ROLE pra_app LOGIN"), "postgres");
    await storage.close();
  }
});
