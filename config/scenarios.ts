/**
 * The failures a stack can declare its objectives for (`pra:drScenarios`). What each one means
 * and how each topology recovers from it is modelled in dr/.
 */
export const SCENARIO_IDS = [
  "pod-crash",
  "node-loss",
  "data-volume-loss",
  "backup-volume-loss",
  "both-volumes-loss",
  "zone-loss",
  "region-loss",
  "operator-error",
  "backups-deleted",
] as const;

export type ScenarioId = (typeof SCENARIO_IDS)[number];
