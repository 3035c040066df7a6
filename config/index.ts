export { cloudNames, subnetPlan, VPC_CIDRS } from "./cloud-names";
export { formatDuration, parseDuration } from "./duration";
export { ConfigError, type ConfigProblem } from "./errors";
export { parseStackConfig, type StackValues } from "./parse";
export { quantityBytes } from "./quantity";
export { SCENARIO_IDS, type ScenarioId } from "./scenarios";
export {
  FASTEST_TIMING,
  longestGapSeconds,
  type Timing,
  timingFor,
  timingWithin,
} from "./schedule";
export { DR_STRATEGIES, TOPOLOGIES, type Topology } from "./settings";
export { listStacks, loadStack, PROJECT_ROOT, readStackValues, stackFileName } from "./stack-files";
export * from "./target-design";
export type * from "./types";
