/**
 * The `pra:` settings of a stack file, as schemas. Each setting carries the sentence that goes
 * after "expected" in an error, so a bad value is reported in the user's terms.
 *
 * Values arrive typed from a YAML file (`3`, `true`) or as strings from Pulumi's config
 * (`"3"`, `"true"`); both spellings are accepted, anything else is refused.
 */
import { z } from "zod";
import { DURATION_EXPECTED, type Duration, parseDuration } from "./duration";
import { quantityBytes } from "./quantity";
import { SCENARIO_IDS } from "./scenarios";

function setting<T extends z.ZodType>(schema: T, expected: string): T {
  return schema.describe(expected);
}

/** A positive duration, read once into its seconds. */
const duration = z.string().transform((text, ctx): Duration => {
  const seconds = parseDuration(text);
  if (seconds === undefined || seconds <= 0) {
    ctx.addIssue({ code: "custom", message: DURATION_EXPECTED });
    return z.NEVER;
  }
  return { text, seconds };
});

function wholeNumber(min: number, max: number) {
  return z
    .union([z.number(), z.string().regex(/^\d+$/).transform(Number)])
    .pipe(z.number().int().min(min).max(max));
}

/** A list, written in YAML or (from Pulumi's config) as its JSON text. */
function list<T extends z.ZodType>(item: T) {
  return z.preprocess((value) => {
    if (typeof value !== "string") return value;
    try {
      const parsed: unknown = JSON.parse(value);
      return parsed;
    } catch {
      return value;
    }
  }, z.array(item).min(1));
}

const flag = z.union([z.boolean(), z.enum(["true", "false"]).transform((text) => text === "true")]);

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
// A tag that is not `latest`, or a digest: what runs must be what was reviewed.
const PINNED_IMAGE = /^[^\s@:]+(:[^\s@:]+)*(:(?!latest$)[\w][\w.-]{0,127}|@sha256:[a-f0-9]{64})$/;
const AWS_REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;

const commonSettings = {
  namespace: setting(
    z.string().regex(DNS_LABEL).default("pra"),
    "a DNS label (lowercase letters, digits, '-')",
  ),
  image: setting(
    z.string().regex(PINNED_IMAGE).default("pra-app:0.1.0"),
    "an image reference with a tag other than 'latest' or a sha256 digest, such as pra-app:0.1.0",
  ),
  rpo: setting(duration.optional(), `${DURATION_EXPECTED} (the recovery point objective)`),
  rto: setting(duration.optional(), `${DURATION_EXPECTED} (the recovery time objective)`),
  retention: setting(
    duration.optional(),
    `${DURATION_EXPECTED} (how far back restore points must reach)`,
  ),
  backupSchedule: setting(
    z.string().min(1).optional(),
    "a five-field cron expression such as '*/5 * * * *' (leave unset to derive it from pra:rpo)",
  ),
  backupKeepLast: setting(
    wholeNumber(1, 10_000).default(3),
    "a whole number from 1 to 10000 (restore points kept whatever their age)",
  ),
  restoreTestEvery: setting(
    duration.optional(),
    `${DURATION_EXPECTED} (how often a restore test runs)`,
  ),
  monitoring: setting(flag.optional(), "true or false"),
  deployWorkloads: setting(
    flag.default(true),
    "true or false (false: pulumi up creates the cloud and the add-ons and leaves the workload " +
      "in dist/<stack>/ to a GitOps tool: README, Feeding a GitOps repository)",
  ),
  drScenarios: setting(
    list(z.enum(SCENARIO_IDS)).optional(),
    `a list of failures the objectives must hold for, from: ${SCENARIO_IDS.join(", ")}`,
  ),
  errorDetectionTime: setting(
    duration.optional(),
    `${DURATION_EXPECTED} (how long an operator error may go unnoticed and still be undone)`,
  ),
  onCallResponse: setting(
    duration.optional(),
    `${DURATION_EXPECTED} (how soon a person acts on an alert)`,
  ),
};

/**
 * The smallest size a volume or the database may be declared with: below a mebibyte nothing the
 * app writes fits (an empty SQLite database in WAL mode is already tens of KiB), so `0`, `1` or
 * `1Ki` is a typo, not a plan. Whether a size is enough is checked against the others in parse.ts.
 */
export const MIN_SIZE_BYTES = 2 ** 20;

function size(fallback: string) {
  return z
    .string()
    .refine((q) => (quantityBytes(q) ?? 0) >= MIN_SIZE_BYTES)
    .default(fallback);
}

const SIZE_EXPECTED = "a Kubernetes storage quantity of at least 1Mi, such as 200Mi or 5Gi";

export const labSettings = z.strictObject({
  topology: z.literal("lab"),
  ...commonSettings,
  databaseSize: setting(
    size("3Mi"),
    `${SIZE_EXPECTED} (the size the SQLite database may reach: the data volume holds it twice, ` +
      "the backup volume every restore point pra:retention keeps)",
  ),
  dataVolumeSize: setting(size("200Mi"), SIZE_EXPECTED),
  backupVolumeSize: setting(size("200Mi"), SIZE_EXPECTED),
  storageClass: setting(
    z.string().regex(DNS_SUBDOMAIN).optional(),
    "the name of a StorageClass (leave unset for the cluster's default)",
  ),
  alertWebhookUrl: setting(
    z.string().refine(isWebhookUrl).optional(),
    "an http(s) URL that receives Alertmanager's webhook, with no user or password in it " +
      "(the stack file is committed); unset, nobody is paged",
  ),
});

/** An IPv4 CIDR narrower than the whole internet: `0.0.0.0/0` is what a private API replaces. */
function isPublicCidr(text: string): boolean {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text);
  if (!match) return false;
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  return octets.every((octet) => octet <= 255) && prefix >= 8 && prefix <= 32;
}

/** An http(s) URL without credentials: Alertmanager posts every lab alert to it. */
function isWebhookUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (
      (url.protocol === "http:" || url.protocol === "https:") &&
      url.username === "" &&
      url.password === ""
    );
  } catch {
    return false;
  }
}

export const DR_STRATEGIES = ["pilot-light", "warm-standby"] as const;

export const targetSettings = z.strictObject({
  topology: z.literal("target"),
  ...commonSettings,
  drRegion: setting(
    z.string().regex(AWS_REGION),
    "an AWS region such as eu-central-1, other than aws:region",
  ),
  drStrategy: setting(z.enum(DR_STRATEGIES).default("pilot-light"), "pilot-light or warm-standby"),
  availabilityZones: setting(
    wholeNumber(2, 6).default(3),
    "a whole number of availability zones from 2 to 6",
  ),
  natGateways: setting(
    z.enum(["per-zone", "single"]).default("per-zone"),
    "per-zone (one NAT gateway in each zone) or single (one shared, cheaper, not zone-redundant)",
  ),
  kubernetesVersion: setting(
    z
      .string()
      .regex(/^1\.\d{2}$/)
      .default("1.35"),
    "an EKS version such as 1.35",
  ),
  nodeInstanceType: setting(
    z
      .string()
      .regex(/^[a-z0-9]+\.[a-z0-9]+$/)
      .default("m7i.large"),
    "an EC2 instance type",
  ),
  serviceDomain: setting(
    z
      .string()
      .regex(/^(?=.{4,200}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/)
      .optional(),
    "a domain with a public Route 53 hosted zone in this account, such as pra.example.com: " +
      "clients reach app.<domain> over TLS, with an ACM certificate validated in that zone " +
      "(required by pulumi up; docs/aws-target.md)",
  ),
  apiAccessCidrs: setting(
    list(z.string().refine(isPublicCidr)).optional(),
    "a list of IPv4 CIDR ranges (such as 203.0.113.0/24) that may reach the EKS API from the " +
      "internet; unset, the API is private: reachable from inside the VPCs only (docs/aws-target.md)",
  ),
  nodesPerZone: setting(
    wholeNumber(1, 100).default(1),
    "a whole number of nodes per zone from 1 to 100",
  ),
  maxNodesPerZone: setting(
    wholeNumber(1, 100).default(3),
    "a whole number of nodes per zone from 1 to 100",
  ),
  dbInstanceClass: setting(
    z
      .string()
      .regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/)
      .default("db.m7g.large"),
    "an RDS instance class",
  ),
  dbEngineVersion: setting(
    z
      .string()
      .regex(/^\d{2}(\.\d+)?$/)
      .default("18"),
    "a PostgreSQL major version such as 18",
  ),
  dbAllocatedStorage: setting(
    wholeNumber(20, 65_536).default(50),
    "a whole number of GiB from 20 to 65536",
  ),
  dbMaxAllocatedStorage: setting(
    wholeNumber(20, 65_536).default(200),
    "a whole number of GiB from 20 to 65536",
  ),
  replicas: setting(wholeNumber(2, 100).default(3), "a whole number of app replicas from 2 to 100"),
  rdsSnapshotQuota: setting(
    wholeNumber(1, 100_000).optional(),
    "the account's RDS quota 'Manual DB instance snapshots' in each of the stack's two regions, " +
      "once raised in Service Quotas (AWS Backup's RDS snapshots and their copies count against it); " +
      "unset, AWS's default (100)",
  ),
  alertEmail: setting(z.email().optional(), "an e-mail address for alarm notifications"),
});

export const stackSettings = z.discriminatedUnion("topology", [labSettings, targetSettings]);

export type LabSettings = z.output<typeof labSettings>;
export type TargetSettings = z.output<typeof targetSettings>;
export type StackSettings = LabSettings | TargetSettings;

export const TOPOLOGIES = ["lab", "target"] as const;
export type Topology = (typeof TOPOLOGIES)[number];

/** The sentence after "expected" for `key` in `topology`, if the key exists there. */
export function expectationOf(topology: string | undefined, key: string): string | undefined {
  const shape: Record<string, z.ZodType> =
    topology === "target" ? targetSettings.shape : topology === "lab" ? labSettings.shape : {};
  return shape[key]?.description;
}

/** Every key `topology` accepts, for unknown-key suggestions. */
export function keysOf(topology: Topology): string[] {
  return Object.keys(topology === "lab" ? labSettings.shape : targetSettings.shape);
}
