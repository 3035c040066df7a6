/** The rotation and the pods' refresh, read from the stack (dr/credentials.ts). */
import type { TargetConfig } from "../../config";
import { assess } from "../../dr/assess";
import { credentialProblems, credentialRotationOf } from "../../dr/credentials";
import { renderReport } from "../../dr/report";
import { configOf, isKind, type Manifest, synthStackInMemory } from "../support/manifests";

function targetOf(values: Record<string, unknown>): TargetConfig {
  const config = configOf(values, "prod");
  if (config.topology !== "target") throw new Error("expected a target");
  return config;
}

const prod = targetOf({ topology: "target", "aws:region": "eu-west-3", drRegion: "eu-central-1" });
const synced = synthStackInMemory(prod).synced;

/** The synthesized objects with the database ExternalSecret's refresh replaced. */
function withRefresh(interval: string | undefined): Manifest[] {
  return synced.flatMap((object): Manifest[] => {
    if (!isKind(object, "ExternalSecret")) return [object];
    if (interval === undefined) return [];
    return [{ ...object, spec: { ...object.spec, refreshInterval: interval } }];
  });
}

test("prod: rotated every 30 days, the previous credentials valid as long, refreshed hourly", () => {
  const facts = credentialRotationOf(prod, synced);
  expect(facts).toEqual({
    rotationSeconds: 30 * 86400,
    overlapSeconds: 30 * 86400,
    refreshSeconds: 3600,
  });
  expect(credentialProblems(prod, facts)).toEqual([]);
});

test("a refresh no shorter than the overlap is refused", () => {
  expect(credentialProblems(prod, credentialRotationOf(prod, withRefresh("30d")))).toEqual([
    "Pulumi.prod.yaml: External Secrets refreshes the database Secret every 30d, not within the " +
      "30d the previous credentials keep working after a rotation: refresh more often",
  ]);
});

test("no refresh at all is refused", () => {
  expect(credentialProblems(prod, credentialRotationOf(prod, withRefresh(undefined)))).toEqual([
    expect.stringContaining("the database Secret has no External Secrets refresh"),
  ]);
});

test("the DR report says how credentials rotate and reach the pods", () => {
  expect(renderReport(assess(prod))).toContain(
    "## Credentials\n\nSecrets Manager rotates the app's database password every 30d " +
      "(alternating users: the previous credentials work 30d more); External Secrets refreshes " +
      "the pods' Secret every 1h;",
  );
});
