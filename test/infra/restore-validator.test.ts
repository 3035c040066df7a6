/**
 * The restore-test validator (infra/aws/restore-validator/), fed AWS API responses recorded in
 * test/infra/fixtures/restore-validator/ by a local server that answers as AWS Backup and RDS
 * do: the real SDK clients parse them, so a field read from the wrong place (the restore
 * testing plan's ARN is under `CreatedBy`) shows. Then the bundle the Lambda runs, built as the
 * Pulumi program builds it, handles an event against the same server.
 */
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { BackupClient } from "@aws-sdk/client-backup";
import { RDSClient } from "@aws-sdk/client-rds";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { Client } from "pg";
import { restoreValidatorBundle } from "../../infra/aws/restore-validator/bundle";
import {
  PLAN_ARN_VARIABLE,
  SECRET_VARIABLE,
  STACK_VARIABLE,
  VALIDATION_METRIC,
} from "../../infra/aws/restore-validator/settings";
import {
  loginFromSecret,
  type Query,
  rdsDataCheck,
  rdsInstanceCheck,
  type RestoreCheck,
  type RestoredData,
  restoredResourceOf,
  restoreJobIdOf,
  validateRestoreJob,
  verdictMetricLine,
} from "../../infra/aws/restore-validator/validator";
import { type PostgresServer, startPostgres } from "../support/postgres";
import { jsonObject } from "./assertions";

const execFileAsync = promisify(execFile);
const FIXTURES = join(__dirname, "fixtures", "restore-validator");
const fixture = (name: string) => readFileSync(join(FIXTURES, name), "utf8");
const RECORDED_JOB = jsonObject(fixture("describe-restore-job.json"));
const JOB_ID = "7A4C1E20-3B5D-4F69-8E2A-91C0D6B3F845";
const PLAN_ARN =
  "arn:aws:backup:eu-west-3:123456789012:restore-testing-plan:pra_prod_restore_test-8f3a21";
const RESTORED_ARN = "arn:aws:rds:eu-west-3:123456789012:db:awsbackup-restore-test-2c9e57d1";
const SECRET_ARN = "arn:aws:secretsmanager:eu-west-3:123456789012:secret:pra/prod/database-Ab12Cd";
/** The secret's fields the check uses; the restored instance has the source's login. */
const LOGIN = { username: "postgres", password: "", dbname: "pra", engine: "postgres", port: 5432 };
const EVENT = {
  version: "0",
  "detail-type": "Restore Job State Change",
  source: "aws.backup",
  region: "eu-west-3",
  detail: { restoreJobId: JOB_ID, status: "COMPLETED", resourceType: "RDS" },
};

interface ReceivedRequest {
  readonly method: string;
  readonly path: string;
  readonly body: string;
}

/** A local endpoint answering as AWS Backup (REST-JSON) and RDS (query protocol) would. */
class RecordedAws {
  readonly requests: ReceivedRequest[] = [];
  /** DescribeRestoreJob's body. */
  restoreJob: Record<string, unknown> = RECORDED_JOB;
  /** DescribeDBInstances' status and body. */
  dbInstances = { status: 200, body: fixture("describe-db-instances.xml") };
  /** GetSecretValue's SecretString: the database secret's JSON. */
  secretString = JSON.stringify(LOGIN);
  private readonly server: Server = createServer((request, response) => {
    this.answer(request, response);
  });

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve, reject) =>
      this.server.close((error) => (error ? reject(error) : resolve())),
    );
  }

  get url(): string {
    const address = this.server.address();
    if (address === null || typeof address === "string")
      throw new Error("the server is not listening");
    return `http://127.0.0.1:${address.port}`;
  }

  /** The requests of one API call: `GET /restore-jobs/…`, `Action=DescribeDBInstances`, … */
  received(match: (request: ReceivedRequest) => boolean): ReceivedRequest[] {
    return this.requests.filter(match);
  }

  private answer(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const received = {
        method: request.method ?? "",
        path: request.url ?? "",
        body: Buffer.concat(chunks).toString("utf8"),
      };
      this.requests.push(received);
      const reply = (status: number, type: string, body: string) => {
        response.writeHead(status, { "content-type": type, "x-amzn-requestid": "test" });
        response.end(body);
      };
      if (received.method === "GET" && received.path === `/restore-jobs/${JOB_ID}`)
        return reply(200, "application/json", JSON.stringify(this.restoreJob));
      if (received.method === "PUT" && received.path === `/restore-jobs/${JOB_ID}/validations`)
        return reply(204, "application/json", "");
      if (received.method === "POST" && received.body.includes("Action=DescribeDBInstances"))
        return reply(this.dbInstances.status, "text/xml", this.dbInstances.body);
      if (request.headers["x-amz-target"] === "secretsmanager.GetSecretValue")
        return reply(
          200,
          "application/x-amz-json-1.1",
          JSON.stringify({
            ARN: SECRET_ARN,
            Name: "pra/prod/database",
            SecretString: this.secretString,
          }),
        );
      reply(400, "application/json", JSON.stringify({ message: `unexpected ${received.path}` }));
    });
  }
}

const aws = new RecordedAws();
beforeAll(() => aws.start());
afterAll(() => aws.stop());
beforeEach(() => {
  aws.requests.length = 0;
  aws.restoreJob = RECORDED_JOB;
  aws.dbInstances = { status: 200, body: fixture("describe-db-instances.xml") };
  aws.secretString = JSON.stringify(LOGIN);
});

/** The recorded DescribeDBInstances answer, its endpoint pointing at `host`:`port`. */
function dbInstancesAt(host: string, port: number): string {
  const body = fixture("describe-db-instances.xml");
  const address = "awsbackup-restore-test-2c9e57d1.c8k2x9q4w1zt.eu-west-3.rds.amazonaws.com";
  expect(body).toContain(address);
  return body.replace(address, host).replace("<Port>5432</Port>", `<Port>${port}</Port>`);
}

function clients(): { backup: BackupClient; rds: RDSClient; secrets: SecretsManagerClient } {
  const config = {
    region: "eu-west-3",
    endpoint: aws.url,
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "not-a-secret" },
    maxAttempts: 1,
  };
  return {
    backup: new BackupClient(config),
    rds: new RDSClient(config),
    secrets: new SecretsManagerClient(config),
  };
}

function validate(checks?: (rds: RDSClient) => RestoreCheck[]) {
  const { backup, rds } = clients();
  return validateRestoreJob(EVENT, {
    backup,
    restoreTestingPlanArn: PLAN_ARN,
    checks: checks ? checks(rds) : [rdsInstanceCheck(rds)],
  });
}

/** What the validator reported to AWS Backup (PutRestoreValidationResult's body), if anything. */
function reported(): unknown[] {
  return aws
    .received((r) => r.method === "PUT" && r.path.endsWith("/validations"))
    .map((r) => jsonObject(r.body));
}

const withJob = (changes: Record<string, unknown>) => ({ ...RECORDED_JOB, ...changes });

describe("which restore jobs it validates", () => {
  test("this stack's restore test: the plan's ARN is read under CreatedBy, where AWS puts it", async () => {
    const verdict = await validate();
    expect(verdict).toEqual({
      restoreJobId: JOB_ID,
      status: "SUCCESSFUL",
      message: "restored PostgreSQL is available and encrypted",
    });
    expect(aws.received((r) => r.method === "GET")).toHaveLength(1);
    expect(reported()).toEqual([
      {
        ValidationStatus: "SUCCESSFUL",
        ValidationStatusMessage: "restored PostgreSQL is available and encrypted",
      },
    ]);
  });

  test("a restore made by hand (no CreatedBy) is skipped: nothing checked, nothing reported", async () => {
    const { CreatedBy: _createdBy, ...byHand } = RECORDED_JOB;
    aws.restoreJob = byHand;
    expect(await validate()).toEqual({
      restoreJobId: JOB_ID,
      skipped: "not started by a restore testing plan",
    });
    expect(aws.received((r) => r.method === "POST")).toEqual([]);
    expect(reported()).toEqual([]);
  });

  test("another plan's restore test is left to that plan's validator", async () => {
    const other = PLAN_ARN.replace("pra_prod", "pra_staging");
    aws.restoreJob = withJob({ CreatedBy: { RestoreTestingPlanArn: other } });
    expect(await validate()).toEqual({
      restoreJobId: JOB_ID,
      skipped: `started by another plan (${other})`,
    });
    expect(reported()).toEqual([]);
  });

  test("an event without a restore job id is refused (the invocation fails, EventBridge retries)", () => {
    expect(() => restoreJobIdOf({ detail: { status: "COMPLETED" } })).toThrow(
      "expected a Restore Job State Change event with a restoreJobId",
    );
    expect(restoreJobIdOf(EVENT)).toBe(JOB_ID);
  });

  test("the restored resource is the job's CreatedResourceArn", () => {
    expect(
      restoredResourceOf(
        {
          $metadata: {},
          RestoreJobId: JOB_ID,
          ResourceType: "RDS",
          CreatedResourceArn: RESTORED_ARN,
          CreatedBy: { RestoreTestingPlanArn: PLAN_ARN },
        },
        PLAN_ARN,
      ),
    ).toEqual({ restoreJobId: JOB_ID, resourceType: "RDS", arn: RESTORED_ARN });
  });
});

describe("what it checks on the restored instance", () => {
  test("it asks RDS about the instance the job created, by its ARN", async () => {
    await validate();
    const [describe, ...others] = aws.received((r) => r.method === "POST");
    expect(others).toEqual([]);
    const form = new URLSearchParams(describe!.body);
    expect(form.get("Action")).toBe("DescribeDBInstances");
    expect(form.get("DBInstanceIdentifier")).toBe(RESTORED_ARN);
  });

  test.each([
    [
      "status",
      "<DBInstanceStatus>available<",
      "<DBInstanceStatus>storage-full<",
      "status storage-full",
    ],
    ["encryption", "<StorageEncrypted>true<", "<StorageEncrypted>false<", "storage not encrypted"],
    ["engine", "<Engine>postgres<", "<Engine>mysql<", "engine mysql"],
  ])("a restored instance with the wrong %s fails", async (_field, from, to, problem) => {
    const body = fixture("describe-db-instances.xml");
    expect(body).toContain(from);
    aws.dbInstances = { status: 200, body: body.replace(from, to) };
    expect(await validate()).toMatchObject({ status: "FAILED", message: problem });
    expect(reported()).toEqual([{ ValidationStatus: "FAILED", ValidationStatusMessage: problem }]);
  });

  test("a restored instance RDS does not know fails with RDS's message", async () => {
    aws.dbInstances = { status: 404, body: fixture("db-instance-not-found.xml") };
    const verdict = await validate();
    expect(verdict).toMatchObject({ status: "FAILED" });
    expect(reported()).toEqual([
      {
        ValidationStatus: "FAILED",
        ValidationStatusMessage:
          "restored PostgreSQL is available and encrypted: " +
          `DBInstance ${RESTORED_ARN} not found.`,
      },
    ]);
  });

  test("problems of several checks are all reported; a resource type with no check fails", async () => {
    const data: RestoreCheck = {
      name: "restored data is recent",
      resourceType: "RDS",
      check: () => Promise.resolve(["newest row is 3 days old"]),
    };
    aws.dbInstances = {
      status: 200,
      body: fixture("describe-db-instances.xml").replace(
        "<StorageEncrypted>true</StorageEncrypted>",
        "<StorageEncrypted>false</StorageEncrypted>",
      ),
    };
    expect(await validate((rds) => [rdsInstanceCheck(rds), data])).toMatchObject({
      status: "FAILED",
      message: "storage not encrypted; newest row is 3 days old",
    });
    aws.restoreJob = withJob({ ResourceType: "EBS" });
    expect(await validate()).toMatchObject({
      status: "FAILED",
      message: "no check for a restored EBS",
    });
  });
});

describe("what it checks in the restored data", () => {
  let postgres: PostgresServer;
  let port: number;
  beforeAll(async () => {
    postgres = await startPostgres();
    port = Number(new URL(postgres.url).port);
    await postgres.createDatabase("pra");
  });
  afterAll(() => postgres?.stop());

  const sql = async (statement: string) => {
    const client = new Client({ host: "127.0.0.1", port, user: "postgres", database: "pra" });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  /** Plain TCP to the test server; the handler's query adds TLS (the bundle test below). */
  const query: Query = async (target, statement) => {
    const client = new Client({
      host: target.host,
      port: target.port,
      user: target.login.username,
      database: target.login.dbname,
    });
    await client.connect();
    try {
      return (await client.query<Record<string, unknown>>(statement)).rows;
    } finally {
      await client.end();
    }
  };
  const dataCheck = (found: RestoredData[]) => (rds: RDSClient) => {
    const { secrets } = clients();
    return [
      rdsDataCheck(
        rds,
        () => loginFromSecret(secrets, SECRET_ARN),
        query,
        (f) => found.push(f),
      ),
    ];
  };

  test("it logs in at the restored endpoint with the secret, counts the events, reads the newest's time", async () => {
    await sql("DROP TABLE IF EXISTS events");
    await sql(
      "CREATE TABLE events (id BIGSERIAL PRIMARY KEY, message TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL)",
    );
    await sql(
      "INSERT INTO events (message, created_at) SELECT 'e' || g, " +
        "to_timestamp(1795000000 + g) FROM generate_series(1, 250) g",
    );
    aws.dbInstances = { status: 200, body: dbInstancesAt("127.0.0.1", port) };
    const found: RestoredData[] = [];
    expect(await validate(dataCheck(found))).toEqual({
      restoreJobId: JOB_ID,
      status: "SUCCESSFUL",
      message: "restored PostgreSQL answers with its events",
    });
    expect(found).toEqual([{ restoreJobId: JOB_ID, events: 250, newestEventSeconds: 1795000250 }]);
    const secretRequests = aws.received((r) => r.body.includes(SECRET_ARN));
    expect(secretRequests).toHaveLength(1);
  });

  test("a restored database without the events table fails, naming PostgreSQL's error", async () => {
    await sql("DROP TABLE IF EXISTS events");
    aws.dbInstances = { status: 200, body: dbInstancesAt("127.0.0.1", port) };
    expect(await validate(dataCheck([]))).toMatchObject({
      status: "FAILED",
      message: 'querying the restored events failed: relation "events" does not exist',
    });
  });

  test("an instance that does not answer fails (the verdict is reported, not lost)", async () => {
    aws.dbInstances = { status: 200, body: dbInstancesAt("127.0.0.1", 1) };
    const verdict = await validate(dataCheck([]));
    expect(verdict).toMatchObject({ status: "FAILED" });
    expect(String("message" in verdict ? verdict.message : "")).toMatch(
      /^querying the restored events failed: .*ECONNREFUSED/,
    );
    expect(reported()).toHaveLength(1);
  });

  test("a secret without a login fails without printing the secret", async () => {
    aws.secretString = JSON.stringify({ password: "very-secret-pw" });
    aws.dbInstances = { status: 200, body: dbInstancesAt("127.0.0.1", port) };
    const verdict = await validate(dataCheck([]));
    expect(verdict).toMatchObject({
      status: "FAILED",
      message:
        "restored PostgreSQL answers with its events: " +
        `the secret ${SECRET_ARN} has no username, password and dbname`,
    });
    expect(JSON.stringify(verdict)).not.toContain("very-secret-pw");
  });
});

describe("the validation metric the alarm watches", () => {
  test("1 for a passing validation, 0 for a failing one, nothing for a job that is not a restore test", () => {
    const metricOf = (line: string | undefined) =>
      line === undefined ? undefined : jsonObject(line)[VALIDATION_METRIC.name];
    const at = Date.UTC(2026, 10, 29);
    expect(
      metricOf(
        verdictMetricLine({ restoreJobId: "j", status: "SUCCESSFUL", message: "" }, "s", at),
      ),
    ).toBe(1);
    expect(
      metricOf(verdictMetricLine({ restoreJobId: "j", status: "FAILED", message: "x" }, "s", at)),
    ).toBe(0);
    expect(verdictMetricLine({ restoreJobId: "j", skipped: "by hand" }, "s", at)).toBeUndefined();
  });
});

describe("the bundle the Lambda runs", () => {
  const bundle = restoreValidatorBundle();

  test("is one CommonJS file that loads the AWS SDK from the runtime, pg bundled in", () => {
    expect(bundle.length).toBeLessThan(400_000);
    const required = [...bundle.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]!);
    const external = required.filter(
      (name) => !builtinModules.includes(name.replace(/^node:/, "")),
    );
    // pg-native is pg's optional binding, required only when asked for (never here).
    expect([...new Set(external)].sort()).toEqual([
      "@aws-sdk/client-backup",
      "@aws-sdk/client-rds",
      "@aws-sdk/client-secrets-manager",
      "pg-native",
    ]);
    expect(restoreValidatorBundle()).toBe(bundle);
  });

  test("its handler validates a restore test end to end: metadata, and the data over verify-full TLS", async () => {
    // As Lambda runs it: index.js in a folder of its own, in a fresh Node.js process, the SDK
    // found through NODE_PATH (where the runtime keeps its own), credentials and region from the
    // environment; AWS_ENDPOINT_URL points the SDK at the recorded responses. The restored
    // instance is a PostgreSQL serving TLS with a certificate for localhost, whose authority
    // NODE_EXTRA_CA_CERTS names (on Lambda: the runtime's bundle, which has RDS's).
    const folder = mkdtempSync(join(tmpdir(), "pra-restore-validator-"));
    const certFile = join(folder, "ca.crt");
    const keyFile = join(folder, "ca.key");
    execFileSync(
      "openssl",
      ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-keyout", keyFile].concat([
        "-out",
        certFile,
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost",
      ]),
      { stdio: "ignore" },
    );
    const postgres = await startPostgres({ tls: { certFile, keyFile } });
    try {
      const port = Number(new URL(postgres.url).port);
      await postgres.createDatabase("pra");
      const client = new Client({ host: "127.0.0.1", port, user: "postgres", database: "pra" });
      await client.connect();
      await client.query(
        "CREATE TABLE events (id BIGSERIAL PRIMARY KEY, message TEXT, created_at TIMESTAMPTZ)",
      );
      await client.query(
        "INSERT INTO events (message, created_at) VALUES ('e', to_timestamp(1795000000))",
      );
      await client.end();
      aws.dbInstances = { status: 200, body: dbInstancesAt("localhost", port) };
      writeFileSync(join(folder, "index.js"), bundle);
      const run = `require(${JSON.stringify(join(folder, "index.js"))})
        .handler(${JSON.stringify(EVENT)})
        .then((verdict) => process.stdout.write("VERDICT " + JSON.stringify(verdict)));`;
      const { stdout } = await execFileAsync(process.execPath, ["-e", run], {
        cwd: folder,
        env: {
          PATH: process.env.PATH ?? "",
          NODE_PATH: join(__dirname, "..", "..", "node_modules"),
          AWS_ENDPOINT_URL: aws.url,
          AWS_REGION: "eu-west-3",
          AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
          AWS_SECRET_ACCESS_KEY: "not-a-secret",
          AWS_MAX_ATTEMPTS: "1",
          AWS_EC2_METADATA_DISABLED: "true",
          [PLAN_ARN_VARIABLE]: PLAN_ARN,
          [STACK_VARIABLE]: "pra-prod",
          [SECRET_VARIABLE]: SECRET_ARN,
          NODE_EXTRA_CA_CERTS: certFile,
        },
      });
      const lines = stdout.trim().split("\n");
      const verdict = {
        restoreJobId: JOB_ID,
        status: "SUCCESSFUL",
        message:
          "restored PostgreSQL is available and encrypted; restored PostgreSQL answers with its events",
      };
      // The function logs what the data check found, then the verdict, and returns the verdict;
      // between them, the verdict's metric as a line of its own (embedded metric format).
      expect(lines).toHaveLength(4);
      expect(jsonObject(lines[0]!)).toEqual({
        restoreJobId: JOB_ID,
        events: 1,
        newestEventSeconds: 1795000000,
      });
      expect(lines[1]).toBe(JSON.stringify(verdict));
      expect(lines[3]).toBe(`VERDICT ${JSON.stringify(verdict)}`);
      expect(jsonObject(lines[2]!)).toMatchObject({
        _aws: {
          CloudWatchMetrics: [
            {
              Namespace: VALIDATION_METRIC.namespace,
              Dimensions: [[VALIDATION_METRIC.dimension]],
              Metrics: [{ Name: VALIDATION_METRIC.name, Unit: "Count" }],
            },
          ],
        },
        [VALIDATION_METRIC.dimension]: "pra-prod",
        [VALIDATION_METRIC.name]: 1,
      });
      expect(reported()).toHaveLength(1);
    } finally {
      postgres.stop();
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
