/**
 * The DR check: a stack's declared objectives against the recovery its design provides, for
 * every scenario the stack declares (pra:drScenarios). cdk8s synth, the Pulumi program and
 * `npm run check` all stop on a violation, with the same message.
 */
import { type PreparedStack, prepareStack } from "../charts/stacks";
import { formatDuration, type PraConfig, type ScenarioId } from "../config";
import { type DesignFacts, factsOf } from "./facts";
import { labRecoveries } from "./lab-scenarios";
import type { Bound, Recovery } from "./recovery";
import { targetRecoveries } from "./target-scenarios";

export interface Violation {
  readonly scenario: ScenarioId;
  readonly message: string;
}

export interface Assessment {
  readonly config: PraConfig;
  readonly facts: DesignFacts;
  /** Every scenario, declared or not, in the order of SCENARIO_IDS. */
  readonly recoveries: readonly Recovery[];
  readonly violations: readonly Violation[];
}

/** Checks `config` against the objects its charts synthesize (prepared once by the caller, or here). */
export function assess(
  config: PraConfig,
  objects: PreparedStack["objects"] = prepareStack(config).objects,
): Assessment {
  const facts = factsOf(config, objects.synced, objects.ops);
  const recoveries =
    facts.topology === "lab" && config.topology === "lab"
      ? labRecoveries(facts, config)
      : facts.topology === "target" && config.topology === "target"
        ? targetRecoveries(facts, config)
        : [];
  const declared = new Set(config.objectives.scenarios);
  const violations = recoveries
    .filter((recovery) => declared.has(recovery.scenario))
    .flatMap((recovery) => violationsOf(config, recovery));
  return { config, facts, recoveries, violations };
}

function violationsOf(config: PraConfig, recovery: Recovery): Violation[] {
  const check = (
    what: "RPO" | "RTO",
    key: "pra:rpo" | "pra:rto",
    declared: number,
    achievable: Bound,
  ) => {
    if ("seconds" in achievable && achievable.seconds <= declared) return [];
    const found =
      "seconds" in achievable
        ? `achievable ${formatDuration(achievable.seconds)}`
        : `none: ${achievable.none}`;
    return [
      {
        scenario: recovery.scenario,
        message:
          `${config.file}: ${recovery.scenario}: ${what} declared ${formatDuration(declared)} (${key}), ${found}. ` +
          `How: ${recovery.mechanism}; ${recovery.basis.join("; ")}. ` +
          `Fix: ${recovery.fix}, or remove ${recovery.scenario} from pra:drScenarios.`,
      },
    ];
  };
  return [
    ...check("RPO", "pra:rpo", config.objectives.rpoSeconds, recovery.rpo),
    ...check("RTO", "pra:rto", config.objectives.rtoSeconds, recovery.rto),
  ];
}

export class ObjectivesNotMetError extends Error {
  constructor(readonly violations: readonly Violation[]) {
    super(
      `the declared objectives cannot be met:\n${violations.map((v) => `  ${v.message}`).join("\n")}`,
    );
    this.name = "ObjectivesNotMetError";
  }
}

/** Throws ObjectivesNotMetError listing every violation; returns the assessment otherwise. */
export function assertObjectivesMet(
  config: PraConfig,
  objects?: PreparedStack["objects"],
): Assessment {
  const assessment = assess(config, objects);
  if (assessment.violations.length > 0) throw new ObjectivesNotMetError(assessment.violations);
  return assessment;
}
