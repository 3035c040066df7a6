/**
 * `npm run synth` for every stack, against the same command on an empty cdk8s app: the floor,
 * what the cdk8s CLI itself costs. Median of RUNS runs each, interleaved so that load on the
 * machine falls on both alike. Target: at most 1.5x the floor.
 */
import { copyFileSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatSeconds, median, reportRow, timeCommand } from "./stats";

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const ROOT = join(__dirname, "..");

const empty = mkdtempSync(join(tmpdir(), "pra-bench-empty-"));
symlinkSync(join(ROOT, "node_modules"), join(empty, "node_modules"));
copyFileSync(join(ROOT, "package.json"), join(empty, "package.json"));
writeFileSync(join(empty, "main.js"), 'const { App } = require("cdk8s");\nnew App().synth();\n');
writeFileSync(join(empty, "cdk8s.yaml"), "language: typescript\napp: node main.js\noutput: dist\n");

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
