/**
 * How the target's database credentials change, read from the stack: Secrets Manager rotates the
 * app's password every `credentialRotationDays` (config/target-design.ts) alternating two users,
 * so the previous credentials keep working one rotation interval (the overlap); External Secrets
 * copies the current ones into the pods' Secret every `refreshInterval` of the synthesized
 * ExternalSecret. The refresh must come well inside the overlap, or a pod restarted between a
 * rotation and the next refresh would read credentials that no longer work.
 */
import { isKind, type Manifest } from "../charts/manifest";
import { TARGET } from "../charts/constructs/names";
import { describeTargetDesign, formatDuration, parseDuration, type TargetConfig } from "../config";

export interface CredentialRotationFacts {
  readonly rotationSeconds: number;
  /** How long the previous credentials keep working after a rotation. */
  readonly overlapSeconds: number;
  /** External Secrets' refresh of the database Secret; undefined when none is synthesized. */
  readonly refreshSeconds: number | undefined;
}

export function credentialRotationOf(
  config: TargetConfig,
  synced: readonly Manifest[],
): CredentialRotationFacts {
  const rotationSeconds = describeTargetDesign(config).database.credentialRotationDays * 86400;
  const externalSecret = synced.find(
    (object) => isKind(object, "ExternalSecret") && object.metadata.name === TARGET.databaseSecret,
  );
  const interval =
    externalSecret && isKind(externalSecret, "ExternalSecret")
      ? externalSecret.spec?.refreshInterval
      : undefined;
  return {
    rotationSeconds,
    overlapSeconds: rotationSeconds,
    refreshSeconds: interval === undefined ? undefined : parseDuration(interval),
  };
}

/** What `npm run check` refuses about the rotation. */
export function credentialProblems(config: TargetConfig, facts: CredentialRotationFacts): string[] {
  const overlap = formatDuration(facts.overlapSeconds);
  if (facts.refreshSeconds === undefined) {
    return [
      `${config.file}: the database Secret has no External Secrets refresh: after a rotation ` +
        `(every ${overlap}) pods would keep credentials that stop working ${overlap} later`,
    ];
  }
  if (facts.refreshSeconds >= facts.overlapSeconds) {
    return [
      `${config.file}: External Secrets refreshes the database Secret every ` +
        `${formatDuration(facts.refreshSeconds)}, not within the ${overlap} the previous ` +
        "credentials keep working after a rotation: refresh more often",
    ];
  }
  return [];
}

/** The rotation in a sentence, for the report and `npm run check`. */
export function describeRotation(facts: CredentialRotationFacts): string {
  const refresh =
    facts.refreshSeconds === undefined
      ? "no External Secrets refresh"
      : `External Secrets refreshes the pods' Secret every ${formatDuration(facts.refreshSeconds)}`;
  return (
    `Secrets Manager rotates the app's database password every ` +
    `${formatDuration(facts.rotationSeconds)} (alternating users: the previous credentials work ` +
    `${formatDuration(facts.overlapSeconds)} more); ${refresh}; a pod whose login is refused ` +
    "restarts to read the current ones; RDS rotates the master password, which no pod holds"
  );
}
