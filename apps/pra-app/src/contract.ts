/**
 * What each pra-app command needs from the platform it runs on: the environment it reads, the files
 * it opens, where it connects, the AWS actions it performs, the writable space it uses and the ports
 * it serves. Plain data and pure functions, free of cdk8s, Pulumi and the AWS SDK: the charts, the
 * image and the IAM policies are derived from it where they can be (the CA bundle's path, the
 * policies' actions) and checked against it where they cannot (test/contract/).
 *
 * A need the code has and this file does not declare is a bug here: when a command starts calling
 * something new, add it below, and the cross-layer tests say which layer must follow.
 */

export const COMMANDS = ["serve", "backup", "restore", "verify", "backups"] as const;
export type CommandName = (typeof COMMANDS)[number];

/** Where a command's data lives: SQLite files (the lab), or PostgreSQL exported to S3 (the target). */
export type Backend = "sqlite" | "postgres";

/** A command as a pod runs it: its name, the flags given, and which backend its environment selects. */
export interface Invocation {
  readonly command: CommandName;
  /** Flags given on the command line, without their values (`--keep-last`). */
  readonly flags: ReadonlySet<string>;
  readonly backend: Backend;
}

/** The flags that make `backup` delete older restore points after a success. */
export const RETENTION_FLAGS = ["--keep-last", "--keep-within"] as const;

/**
 * The RDS certificate authorities (the global bundle, every region's roots): `pg` and libpq check the
 * database server's certificate against it (`sslmode=verify-full`). The image downloads it at build
 * time and refuses a file with another checksum (apps/pra-app/Dockerfile); the charts name this path
 * in DATABASE_URL (charts/constructs/postgres-access.ts). A new bundle is a reviewed change of both
 * figures.
 */
export const RDS_CA_BUNDLE = {
  path: "/etc/ssl/certs/rds-global-bundle.pem",
  source: "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem",
  sha256: "e5bb2084ccf45087bda1c9bffdea0eb15ee67f0b91646106e466714f9de3c7e3",
} as const;

/** The port `serve` listens on unless PORT says otherwise. */
export const DEFAULT_PORT = 8080;
/** PostgreSQL's port, when DATABASE_URL names none. */
export const DEFAULT_POSTGRES_PORT = 5432;

/**
 * The EKS Pod Identity agent, a link-local endpoint on every node: the AWS SDK fetches the pod's
 * credentials there (AWS_CONTAINER_CREDENTIALS_FULL_URI, set by EKS). The agent calls STS itself, so
 * a pod never does; a pod that cannot reach the agent has no credentials and every AWS call fails.
 */
export const POD_IDENTITY_AGENT = {
  ipv4: "169.254.170.23",
  ipv6: "fd00:ec2::23",
  port: 80,
} as const;

/** Multipart upload of an export: parts of this size, this many in flight (memory: their product). */
export const EXPORT_UPLOAD = {
  partSizeBytes: 32 * 1024 ** 2,
  queueSize: 2,
  /** S3 allows at most 10,000 parts, so one export can be this large. */
  maxParts: 10_000,
} as const;

/** S3 copies at most this many bytes in one CopyObject request; larger objects are copied in parts. */
export const S3_SINGLE_COPY_MAX_BYTES = 5 * 1024 ** 3;

export interface EnvironmentNeed {
  readonly name: string;
  readonly required: boolean;
  readonly purpose: string;
}

/** A file or program a command opens; `fromEnvironment` when a variable names it. */
export interface FileNeed {
  readonly path: string;
  readonly purpose: string;
  readonly fromEnvironment?: string;
}

export type Destination =
  | { readonly kind: "database"; readonly port: number; readonly purpose: string }
  | {
      readonly kind: "aws-api";
      readonly service: "s3";
      readonly port: 443;
      readonly purpose: string;
    }
  | {
      readonly kind: "credentials-agent";
      readonly addresses: readonly string[];
      readonly port: number;
      readonly purpose: string;
    };

/** Under the export prefix, the restore test's report (never an export: those are app-*.dump). */
export const RESTORE_TEST_REPORT_DIR = ".restore-tests/";

/** What an IAM policy must allow: an action on one of the resources the platform gives the app. */
export interface AwsActionNeed {
  readonly action: string;
  /**
   * The export bucket itself, the objects under the export prefix, the restore test's report
   * (under RESTORE_TEST_REPORT_DIR there), or the bucket's KMS key.
   */
  readonly resource: "export-bucket" | "export-objects" | "restore-test-report" | "export-key";
  readonly purpose: string;
}

/** Writable space a command uses while it runs, as a function of the size of the data it handles. */
export interface ScratchNeed {
  /** TMPDIR: the root filesystem is read-only. */
  readonly path: "/tmp";
  /** Bytes needed for `dataBytes` of application data (the database's size). */
  readonly bytes: (dataBytes: number) => number;
  /** True when the command streams the data and its space does not grow with it. */
  readonly streams: boolean;
  readonly purpose: string;
}

export interface CommandNeeds {
  readonly invocation: Invocation;
  readonly environment: readonly EnvironmentNeed[];
  readonly files: readonly FileNeed[];
  readonly destinations: readonly Destination[];
  readonly awsActions: readonly AwsActionNeed[];
  readonly scratch: ScratchNeed;
  /**
   * Memory the container needs at most, its child processes included (pg_dump, pg_restore, the
   * restore test's PostgreSQL): an estimate with headroom, not a measurement.
   */
  readonly memoryBytes: number;
  /** TCP ports the command listens on. */
  readonly ports: readonly number[];
}

const MiB = 1024 ** 2;
/** Node.js with the AWS SDK and pg loaded, and a client program beside it. */
const BASE_MEMORY_BYTES = 256 * MiB;
/** What Node.js, pg and the AWS SDK write under TMPDIR at most, whatever the data: nothing today. */
const BASE_SCRATCH_BYTES = 16 * MiB;
/**
 * A restored PostgreSQL database takes about the space of the original (tables, rebuilt indexes),
 * plus its write-ahead log during the load (bounded by the throwaway server's max_wal_size).
 */
export const RESTORED_DATABASE_OVERHEAD = { factor: 1.25, fixedBytes: 256 * MiB } as const;

/** Reads a container's arguments (`["backup", "--keep-last", "3"]`) and its environment's backend. */
export function invocationOf(args: readonly string[], backend: Backend): Invocation {
  const [command, ...rest] = args;
  if (!isCommand(command)) {
    throw new Error(`"${String(command)}" is not a pra-app command (${COMMANDS.join(", ")})`);
  }
  const flags = new Set(
    rest.filter((arg) => arg.startsWith("--")).map((arg) => arg.split("=")[0]!),
  );
  return { command, flags, backend };
}

function isCommand(value: string | undefined): value is CommandName {
  return COMMANDS.some((command) => command === value);
}

/**
 * The backend an environment selects, as cli.ts reads it: DATABASE_URL selects PostgreSQL and its
 * S3 exports (for every command), whatever DB_PATH and BACKUP_DIR say.
 */
export function backendOf(environmentNames: Iterable<string>): Backend {
  for (const name of environmentNames) if (name === "DATABASE_URL") return "postgres";
  return "sqlite";
}

/** The CA bundle a libpq-style URL names in `sslrootcert` (also inside an External Secrets template). */
export function caBundleNamedBy(databaseUrl: string): string | undefined {
  const match = /[?&]sslrootcert=([^&\s"]+)/.exec(databaseUrl);
  return match ? decodeURIComponent(match[1]!) : undefined;
}

const env = (name: string, required: boolean, purpose: string): EnvironmentNeed => ({
  name,
  required,
  purpose,
});

const COMMON_ENVIRONMENT = [env("LOG_LEVEL", false, "log verbosity (info)")];
const SQLITE_ENVIRONMENT = [
  env("DB_PATH", false, "the SQLite database (/data/app.db)"),
  env("BACKUP_DIR", false, "the restore point directory (/backup)"),
];
const POSTGRES_ENVIRONMENT = [
  env("DATABASE_URL", true, "the PostgreSQL server, with sslmode and sslrootcert"),
  env("DATABASE_CA_FILE", false, "a CA bundle when the URL names none"),
];
const EXPORT_ENVIRONMENT = [
  env("EXPORT_BUCKET", true, "the S3 bucket holding exports"),
  env("EXPORT_PREFIX", false, "the key prefix of exports (exports/)"),
  env("EXPORT_KMS_KEY_ID", false, "SSE-KMS key for new exports"),
  env("AWS_REGION", true, "the bucket's region"),
  env("PG_BIN_DIR", false, "where pg_dump, pg_restore (and for verify, initdb, postgres) are"),
  env("TMPDIR", false, "writable scratch space (/tmp)"),
];

const database = (port: number): Destination => ({
  kind: "database",
  port,
  purpose: "the PostgreSQL server (RDS)",
});
const S3: Destination = {
  kind: "aws-api",
  service: "s3",
  port: 443,
  purpose: "the export bucket (SSE-KMS: S3 calls KMS on the app's behalf, the app never does)",
};
const CREDENTIALS: Destination = {
  kind: "credentials-agent",
  addresses: [POD_IDENTITY_AGENT.ipv4, POD_IDENTITY_AGENT.ipv6],
  port: POD_IDENTITY_AGENT.port,
  purpose: "AWS credentials from the EKS Pod Identity agent",
};

const action = (
  name: string,
  resource: AwsActionNeed["resource"],
  purpose: string,
): AwsActionNeed => ({ action: name, resource, purpose });

const LIST = action(
  "s3:ListBucket",
  "export-bucket",
  "list exports; also what makes S3 answer 404, not 403, for a key that does not exist",
);
const READ = action("s3:GetObject", "export-objects", "read an export back (HeadObject too)");
const DECRYPT = action(
  "kms:Decrypt",
  "export-key",
  "read SSE-KMS objects, complete multipart uploads",
);

/** The tools a PostgreSQL command runs, in PG_BIN_DIR. */
function pgTools(binDir: string, names: readonly string[]): FileNeed[] {
  return names.map((name) => ({
    path: `${binDir}/${name}`,
    purpose: `${name} (PostgreSQL client or server program)`,
    fromEnvironment: "PG_BIN_DIR",
  }));
}

export interface NeedsContext {
  /** The port PORT sets for serve. @default 8080 */
  readonly port?: number;
  /** The database port the URL names. @default 5432 */
  readonly databasePort?: number;
  /** The CA bundle the URL names (sslrootcert). @default RDS_CA_BUNDLE.path */
  readonly caBundle?: string;
  /** PG_BIN_DIR. @default "/usr/lib/postgresql/18/bin" (the image's) */
  readonly pgBinDir?: string;
}

/** What `invocation` needs; PostgreSQL commands that read restore points work on S3 exports. */
export function needsOf(invocation: Invocation, context: NeedsContext = {}): CommandNeeds {
  const { command, flags, backend } = invocation;
  const port = context.port ?? DEFAULT_PORT;
  const pgBinDir = context.pgBinDir ?? "/usr/lib/postgresql/18/bin";
  const caFile: FileNeed = {
    path: context.caBundle ?? RDS_CA_BUNDLE.path,
    purpose: "the RDS CA bundle the server's certificate is checked against",
    fromEnvironment: "DATABASE_URL",
  };
  const constant = (purpose: string): ScratchNeed => ({
    path: "/tmp",
    bytes: () => BASE_SCRATCH_BYTES,
    streams: true,
    purpose,
  });
  const none = {
    memoryBytes: BASE_MEMORY_BYTES,
    environment: COMMON_ENVIRONMENT,
    files: [] as FileNeed[],
    destinations: [] as Destination[],
    awsActions: [] as AwsActionNeed[],
    ports: [] as number[],
  };

  if (backend === "sqlite") {
    return {
      invocation,
      ...none,
      environment: [...COMMON_ENVIRONMENT, ...SQLITE_ENVIRONMENT],
      // SQLite writes next to its files (temporary names in the data and backup directories).
      scratch: constant("nothing: SQLite writes beside its own files"),
      ports: command === "serve" ? [port] : [],
    };
  }

  const db = database(context.databasePort ?? DEFAULT_POSTGRES_PORT);
  const postgresEnvironment = [...COMMON_ENVIRONMENT, ...POSTGRES_ENVIRONMENT];
  switch (command) {
    case "serve":
      return {
        invocation,
        environment: [...postgresEnvironment, ...EXPORT_ENVIRONMENT.filter(isExportNaming)],
        files: [caFile],
        destinations: [db, S3, CREDENTIALS],
        awsActions: [
          { ...LIST, purpose: "report the newest export (/status, /backups, /metrics)" },
          action("s3:GetObject", "restore-test-report", "report the restore test's RPO (/metrics)"),
          { ...DECRYPT, purpose: "read the SSE-KMS restore test report" },
        ],
        scratch: constant("nothing beyond the runtime's own"),
        memoryBytes: BASE_MEMORY_BYTES,
        ports: [port],
      };
    case "backup": {
      const retention = RETENTION_FLAGS.some((flag) => flags.has(flag));
      return {
        invocation,
        environment: [...postgresEnvironment, ...EXPORT_ENVIRONMENT],
        files: [caFile, ...pgTools(pgBinDir, ["pg_dump", "pg_restore"])],
        destinations: [db, S3, CREDENTIALS],
        awsActions: [
          LIST,
          READ,
          action("s3:PutObject", "export-objects", "upload (multipart) and copy into place"),
          action("s3:AbortMultipartUpload", "export-objects", "abandon a failed upload"),
          action(
            "s3:DeleteObject",
            "export-objects",
            retention
              ? "remove the staging object, and exports past retention (--keep-last/--keep-within)"
              : "remove the staging object",
          ),
          action("kms:GenerateDataKey", "export-key", "write SSE-KMS objects"),
          DECRYPT,
        ],
        // pg_dump streams into a multipart upload, and the check streams the object into pg_restore.
        scratch: constant("nothing: the dump and its check stream"),
        // The upload's parts in flight are held in memory.
        memoryBytes: BASE_MEMORY_BYTES,
        ports: [],
      };
    }
    case "verify":
      // The live database is never connected to: the export is restored into a server of its own.
      // DATABASE_URL is read only because it is what selects the exports (cli.ts).
      return {
        invocation,
        environment: [...postgresEnvironment, ...EXPORT_ENVIRONMENT],
        files: pgTools(pgBinDir, ["pg_restore", "initdb", "pg_ctl", "postgres"]),
        // The throwaway server listens on a Unix socket in the scratch directory: no network.
        destinations: [S3, CREDENTIALS],
        awsActions: [
          LIST,
          READ,
          DECRYPT,
          action("s3:PutObject", "restore-test-report", "record the result for the service"),
          action("kms:GenerateDataKey", "export-key", "write the SSE-KMS report"),
        ],
        scratch: {
          path: "/tmp",
          bytes: (dataBytes) =>
            BASE_SCRATCH_BYTES +
            Math.ceil(dataBytes * RESTORED_DATABASE_OVERHEAD.factor) +
            RESTORED_DATABASE_OVERHEAD.fixedBytes,
          streams: false,
          purpose: "a throwaway PostgreSQL the newest export is restored into (streamed from S3)",
        },
        // The throwaway server (32 MB shared buffers, its backends) runs in the same container.
        memoryBytes: 2 * BASE_MEMORY_BYTES,
        ports: [],
      };
    case "backups":
      return {
        invocation,
        environment: [...postgresEnvironment, ...EXPORT_ENVIRONMENT.filter(isExportNaming)],
        files: [],
        destinations: [S3, CREDENTIALS],
        awsActions: [LIST],
        scratch: constant("nothing"),
        memoryBytes: BASE_MEMORY_BYTES,
        ports: [],
      };
    case "restore":
      // PostgreSQL is restored by RDS (point-in-time recovery, AWS Backup), not by this command.
      throw new Error("pra-app restore works on SQLite restore points only");
  }
}

function isExportNaming(need: EnvironmentNeed): boolean {
  return ["EXPORT_BUCKET", "EXPORT_PREFIX", "AWS_REGION"].includes(need.name);
}
