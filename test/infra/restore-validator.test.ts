/**
 * The restore-test validator (infra/aws/restore-validator/), fed AWS API responses recorded in
 * test/infra/fixtures/restore-validator/ by a local server that answers as AWS Backup and RDS
 * do: the real SDK clients parse them, so a field read from the wrong place (the restore
 * testing plan's ARN is under `CreatedBy`) shows. Then the bundle the Lambda runs, built as the
 * Pulumi program builds it, handles an event against the same server.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { BackupClient } from "@aws-sdk/client-backup";
import { RDSClient } from "@aws-sdk/client-rds";
import { restoreValidatorBundle } from "../../infra/aws/restore-validator/bundle";
import {
  PLAN_ARN_VARIABLE,
  STACK_VARIABLE,
  VALIDATION_METRIC,
} from "../../infra/aws/restore-validator/settings";
import {
  rdsInstanceCheck,
  type RestoreCheck,
  restoredResourceOf,
  restoreJobIdOf,
  validateRestoreJob,
  verdictMetricLine,
} from "../../infra/aws/restore-validator/validator";
import { jsonObject } from "./assertions";

const execFileAsync = promisify(execFile);
const FIXTURES = join(__dirname, "fixtures", "restore-validator");
const fixture = (name: string) => readFileSync(join(FIXTURES, name), "utf8");
const RECORDED_JOB = jsonObject(fixture("describe-restore-job.json"));
const JOB_ID = "7A4C1E20-3B5D-4F69-8E2A-91C0D6B3F845";
const PLAN_ARN =
  "arn:aws:backup:eu-west-3:123456789012:restore-testing-plan:pra_prod_restore_test-8f3a21";
const RESTORED_ARN = "arn:aws:rds:eu-west-3:123456789012:db:awsbackup-restore-test-2c9e57d1";
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
});

function clients(): { backup: BackupClient; rds: RDSClient } {
  const config = {
    region: "eu-west-3",
    endpoint: aws.url,
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "not-a-secret" },
    maxAttempts: 1,
  };
  return { backup: new BackupClient(config), rds: new RDSClient(config) };
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

  test("is one small CommonJS file that loads the AWS SDK from the runtime and nothing else", () => {
    expect(bundle.length).toBeLessThan(20_000);
    const required = [...bundle.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
    expect([...new Set(required)].sort()).toEqual([
      "@aws-sdk/client-backup",
      "@aws-sdk/client-rds",
    ]);
    expect(restoreValidatorBundle()).toBe(bundle);
  });

  test("its handler validates a restore test end to end, with the plan ARN from its environment", async () => {
    // As Lambda runs it: index.js in a folder of its own, in a fresh Node.js process, the SDK
    // found through NODE_PATH (where the runtime keeps its own), credentials and region from the
    // environment; AWS_ENDPOINT_URL points the SDK at the recorded responses.
    const folder = mkdtempSync(join(tmpdir(), "pra-restore-validator-"));
    try {
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
        },
      });
      const lines = stdout.trim().split("\n");
      const verdict = {
        restoreJobId: JOB_ID,
        status: "SUCCESSFUL",
        message: "restored PostgreSQL is available and encrypted",
      };
      // The function's log line is the verdict, and so is what it returns; between them, the
      // verdict's metric as a line of its own (embedded metric format).
      expect(lines).toHaveLength(3);
      expect(lines[0]).toBe(JSON.stringify(verdict));
      expect(lines[2]).toBe(`VERDICT ${JSON.stringify(verdict)}`);
      expect(jsonObject(lines[1]!)).toMatchObject({
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
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
