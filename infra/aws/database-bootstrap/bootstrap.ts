/**
 * The app's own database user, created by the master user once, before the app first starts:
 * a login role with no power beyond its database (no superuser, no role or database creation,
 * no replication), allowed to connect to the app's database and to create and own its tables in
 * its `public` schema (the app creates its schema at start: apps/pra-app/src/storage/postgres.ts).
 * Every other role loses the default CONNECT on the database.
 *
 * Idempotent: run again, it creates nothing that exists and never sets the password of a role
 * that exists, since Secrets Manager's rotation owns it from the first rotation on. The rotation
 * (alternating users) later adds `<user>_clone` as a member of this role, which so inherits all
 * of it.
 */

/** One SQL statement as the master user, with the rows it returns. */
export type Run = (sql: string, params?: readonly unknown[]) => Promise<Record<string, unknown>[]>;

export interface AppLogin {
  readonly username: string;
  readonly password: string;
  readonly dbname: string;
}

/** `"name"`, as PostgreSQL quotes an identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** `'text'`, as PostgreSQL quotes a literal (standard_conforming_strings, on by default). */
export function quoteLiteral(text: string): string {
  if (text.includes("\\")) throw new Error("a password with a backslash is not quoted here");
  return `'${text.replaceAll("'", "''")}'`;
}

export interface BootstrapResult {
  readonly created: boolean;
  readonly role: string;
}

export async function bootstrapAppUser(run: Run, app: AppLogin): Promise<BootstrapResult> {
  const role = quoteIdent(app.username);
  const database = quoteIdent(app.dbname);
  const existing = await run("SELECT 1 FROM pg_roles WHERE rolname = $1", [app.username]);
  const created = existing.length === 0;
  // Utility statements take no bind parameters: the password goes in as a quoted literal.
  // Not a superuser, no replication, no RLS bypass: CREATE ROLE's defaults, which only a
  // superuser could change (RDS's master is not one). The rest is set, whoever made the role.
  if (created) await run(`CREATE ROLE ${role} LOGIN PASSWORD ${quoteLiteral(app.password)}`);
  await run(`ALTER ROLE ${role} NOCREATEDB NOCREATEROLE`);
  await run(`REVOKE ALL ON DATABASE ${database} FROM PUBLIC`);
  await run(`GRANT CONNECT, TEMPORARY ON DATABASE ${database} TO ${role}`);
  await run(`GRANT USAGE, CREATE ON SCHEMA public TO ${role}`);
  return { created, role: app.username };
}
