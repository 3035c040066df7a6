/**
 * How long the Pulumi program takes to evaluate under mocks, per stack: a fresh process each
 * run (module loading included, as `pulumi preview` would pay it), median of 5. The whole
 * program: the AWS side, and the charts (synthesized in-process by cdk8s) deployed through
 * ChartDeployment with their add-ons, in the lab too.
 * Target: under 3 s per stack. `npm run bench -- pulumi` runs only this suite.
 *
 * PRA_BENCH_NO_SOURCE_MAPS=1 turns off Node's source maps (which tsx turns on) in the measured
 * processes: the Pulumi SDK formats a stack trace for every resource and internal promise, and
 * mapping those frames is a large share of the program's time.
 */
import { spawnSync } from "node:child_process";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { listStacks } from "../config";
import { evaluateProgram, pulumiConfigOf, RecordingMocks } from "../test/infra/harness";
import { formatSeconds, median } from "./stats";

const RUNS = 5;
const TARGET_SECONDS = 3;
/** Pseudo-stack: the same process (tsx, @pulumi/pulumi, config, mocks) without the program. */
const FLOOR = "(no program)";

async function child(stack: string): Promise<void> {
  if (process.env.PRA_BENCH_NO_SOURCE_MAPS === "1") process.setSourceMapsEnabled(false);
  const start = performance.now();
  const config = pulumiConfigOf(stack === FLOOR ? "lab" : stack);
  const mocks = new RecordingMocks(config["aws:region"] ?? "us-east-1");
  if (stack === FLOOR) {
    pulumi.runtime.setAllConfig(config);
    await pulumi.runtime.setMocks(mocks, "pra", stack, false);
  } else {
    // As the tests evaluate it: through infra/index.ts in a Pulumi stack, every registration
    // recorded with its parent and dependencies, the outputs resolved.
    await evaluateProgram(stack, config, mocks);
  }
  // Process start to the last registration, and the program alone (declaring + registering).
  console.log(
    JSON.stringify({
      resources: mocks.resources.length,
      processMs: performance.now(),
      programMs: performance.now() - start,
    }),
  );
}

/** What a measured process prints last. */
const Report = z.object({ resources: z.number(), programMs: z.number() });

function main(): void {
  let over = 0;
  for (const stack of [FLOOR, ...listStacks()]) {
    const programMs: number[] = [];
    let resources = 0;
    const samples = Array.from({ length: RUNS }, () => {
      const start = process.hrtime.bigint();
      const result = spawnSync(
        process.execPath,
        ["--require", "tsx/cjs", __filename, "--child", stack],
        {
          encoding: "utf8",
        },
      );
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      if (result.status !== 0) throw new Error(`stack ${stack}: ${result.stderr}`);
      const report = Report.parse(JSON.parse(result.stdout.trim().split("\n").pop() ?? ""));
      programMs.push(report.programMs / 1000);
      resources = report.resources;
      return seconds;
    });
    const value = median(samples);
    if (stack === FLOOR) {
      console.log(
        `floor: tsx + @pulumi/pulumi + config + mocks, no program: ` +
          `median ${formatSeconds(value)} per fresh process`,
      );
      continue;
    }
    const verdict = value <= TARGET_SECONDS ? "ok" : "OVER TARGET";
    if (value > TARGET_SECONDS) over++;
    console.log(
      `pulumi program, stack ${stack} (${resources} resources): ` +
        `median ${formatSeconds(value)} per fresh process ` +
        `(min ${formatSeconds(Math.min(...samples))}, max ${formatSeconds(Math.max(...samples))}; ` +
        `target <= ${TARGET_SECONDS} s) ${verdict}; ` +
        `of which the program itself (declare + register under mocks): ` +
        `median ${formatSeconds(median(programMs))}`,
    );
  }
  process.exit(over > 0 ? 1 : 0);
}

if (process.argv[2] === "--child") {
  child(process.argv[3]!).catch((error) => {
    console.error(error);
    process.exit(1);
  });
} else {
  main();
}
