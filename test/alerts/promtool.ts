/**
 * Runs `promtool test rules` on many stacks' rule files in one invocation (promtool starts in a
 * few hundred milliseconds; a stack's cases take less) and reports each test file's verdict.
 */
import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { debianTool } from "../../scripts/debian-tools";
import type { PromtoolTestGroup } from "./rule-cases";

export interface PromtoolSuite {
  /** Names the files; one verdict per suite. */
  readonly name: string;
  /** The rule file's content: `{ groups: [...] }`, as Prometheus loads it. */
  readonly rules: unknown;
  readonly evaluationIntervalSeconds: number;
  readonly tests: readonly PromtoolTestGroup[];
}

export interface PromtoolVerdict {
  readonly passed: boolean;
  /** What promtool printed about this file. */
  readonly output: string;
}

export function runPromtool(suites: readonly PromtoolSuite[]): Map<string, PromtoolVerdict> {
  const promtool = debianTool("promtool");
  const dir = mkdtempSync(join(tmpdir(), "pra-promtool-"));
  try {
    const files = suites.map((suite) => {
      const rulesFile = `${suite.name}.rules.yaml`;
      const testFile = `${suite.name}.test.yaml`;
      writeFileSync(join(dir, rulesFile), stringify(suite.rules));
      writeFileSync(
        join(dir, testFile),
        stringify({
          rule_files: [rulesFile],
          evaluation_interval: `${suite.evaluationIntervalSeconds}s`,
          tests: suite.tests,
        }),
      );
      return testFile;
    });
    // promtool prints "Unit Testing:  <file>" on stdout and a file's failures on stderr: one
    // file for both keeps them in order.
    const log = openSync(join(dir, "promtool.log"), "w");
    try {
      const run = spawnSync(promtool, ["test", "rules", ...files], {
        cwd: dir,
        stdio: ["ignore", log, log],
      });
      if (run.error) throw run.error;
    } finally {
      closeSync(log);
    }
    const output = readFileSync(join(dir, "promtool.log"), "utf8");
    const verdicts = new Map<string, PromtoolVerdict>();
    for (const [index, suite] of suites.entries()) {
      const start = output.indexOf(`Unit Testing:  ${files[index]!}`);
      const next = files
        .map((file) => output.indexOf(`Unit Testing:  ${file}`))
        .filter((at) => at > start)
        .sort((a, b) => a - b)[0];
      const section = start < 0 ? output : output.slice(start, next);
      verdicts.set(suite.name, {
        passed: start >= 0 && /SUCCESS/.test(section) && !/FAILED/.test(section),
        output: section.trim(),
      });
    }
    return verdicts;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
