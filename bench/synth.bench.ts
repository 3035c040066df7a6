/**
 * `npm run synth` for every stack, against the same command on an empty cdk8s app: the floor,
 * what starting node with tsx and loading cdk8s costs (npm runs scripts/synth.ts that way).
 * Median of RUNS runs each, interleaved so that load on the machine falls on both alike.
 * Target: at most 1.5x the floor.
 */
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatSeconds, median, reportRow, timeCommand } from "./stats";

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const ROOT = join(__dirname, "..");

const empty = mkdtempSync(join(tmpdir(), "pra-bench-empty-"));
symlinkSync(join(ROOT, "node_modules"), join(empty, "node_modules"));
writeFileSync(
  join(empty, "package.json"),
  JSON.stringify({ scripts: { synth: "node --require tsx/cjs main.js" } }),
);
writeFileSync(join(empty, "main.js"), 'const { App } = require("cdk8s");\nnew App().synth();\n');

const project: number[] = [];
const floor: number[] = [];
try {
  timeCommand("npm", ["run", "synth"], { cwd: ROOT }); // warm the file cache for both
  for (let i = 0; i < RUNS; i++) {
    project.push(timeCommand("npm", ["run", "synth"], { cwd: ROOT }));
    floor.push(timeCommand("npm", ["run", "synth"], { cwd: empty }));
  }
} finally {
  rmSync(empty, { recursive: true, force: true });
}
console.log(
  `npm run synth, every stack, median of ${RUNS} (runs: ${project.map(formatSeconds).join(", ")})`,
);
console.log(`empty cdk8s app, median of ${RUNS} (runs: ${floor.map(formatSeconds).join(", ")})`);
console.log(reportRow("synth all stacks vs empty app", median(project), median(floor), 1.5));
