/** Small statistics and timing helpers shared by the benchmark suites. */
import { type SpawnSyncOptions, spawnSync } from "node:child_process";

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Nearest-rank percentile of `values` (p from 0 to 100). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error("no samples");
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

/** Wall time in seconds of one run of `command`; throws when it fails. */
export function timeCommand(
  command: string,
  args: readonly string[],
  options: SpawnSyncOptions = {},
): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(command, args, { stdio: "ignore", ...options });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(" ")} exited with ${result.status}`);
  return seconds;
}

/** Median wall time of `runs` runs, in seconds. */
export function medianTime(
  runs: number,
  command: string,
  args: readonly string[],
  options?: SpawnSyncOptions,
): number {
  return median(Array.from({ length: runs }, () => timeCommand(command, args, options)));
}

export function formatSeconds(seconds: number): string {
  return seconds < 1 ? `${(seconds * 1000).toFixed(1)} ms` : `${seconds.toFixed(2)} s`;
}

/** One line of a benchmark table: a measurement, its baseline, the ratio, and the target. */
export function reportRow(name: string, value: number, baseline: number, target: number): string {
  const ratio = value / baseline;
  const verdict = ratio <= target ? "ok" : "OVER TARGET";
  return (
    `${name}: ${formatSeconds(value)} vs ${formatSeconds(baseline)} baseline = ` +
    `${ratio.toFixed(2)}x (target <= ${target}x) ${verdict}`
  );
}
