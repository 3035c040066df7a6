/** Parsing of the CLI's durations and times, and the PostgreSQL pool's TLS settings. */
import { parseDurationSeconds, parseTimeSeconds } from "../../../apps/pra-app/src/duration";
import { poolConfig } from "../../../apps/pra-app/src/storage/postgres";

test.each([
  ["90s", 90],
  ["5m", 300],
  ["1h30m", 5400],
  ["7d", 604_800],
  ["2w", 1_209_600],
])("duration %s is %d seconds", (text, seconds) => {
  expect(parseDurationSeconds(text)).toBe(seconds);
});

test.each(["", "5", "5x", "m5", "1.5h", "-5m", "5 m"])(
  "duration %j is refused with the accepted forms",
  (text) => {
    expect(() => parseDurationSeconds(text)).toThrow("expected forms like 90s, 5m, 1h30m or 7d");
  },
);

test("times are unix seconds or ISO 8601", () => {
  expect(parseTimeSeconds("1700000000")).toBe(1_700_000_000);
  expect(parseTimeSeconds("2023-11-14T22:13:20Z")).toBe(1_700_000_000);
  expect(parseTimeSeconds("2023-11-14T23:13:20+01:00")).toBe(1_700_000_000);
  expect(() => parseTimeSeconds("March 7")).toThrow("expected unix seconds or ISO 8601");
});

describe("PostgreSQL TLS settings", () => {
  const settingsOf = (url: string, caFile?: string) =>
    new URL(poolConfig(url, caFile).connectionString!).searchParams;

  test("a CA file given apart is used and turns on full verification", () => {
    const params = settingsOf("postgres://u:p@db.example:5432/app", "/etc/pra/ca.pem");
    expect(params.get("sslrootcert")).toBe("/etc/pra/ca.pem");
    expect(params.get("sslmode")).toBe("verify-full");
  });

  test("the URL's own TLS settings win over the CA file", () => {
    const params = settingsOf(
      "postgres://u:p@db/app?sslmode=require&sslrootcert=/url/ca.pem",
      "/etc/pra/ca.pem",
    );
    expect(params.get("sslrootcert")).toBe("/url/ca.pem");
    expect(params.get("sslmode")).toBe("require");
  });

  test("without a CA file the URL is used as given", () => {
    expect(
      poolConfig("postgres://u:p@db/app?sslmode=verify-full", undefined).connectionString,
    ).toBe("postgres://u:p@db/app?sslmode=verify-full");
  });
});
