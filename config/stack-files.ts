/**
 * Stack files on disk: `Pulumi.<stack>.yaml` beside `Pulumi.yaml`. cdk8s reads them here;
 * the Pulumi program gets the same values through Pulumi's config (see infra/).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { ConfigError } from "./errors";
import { parseStackConfig } from "./parse";
import type { PraConfig } from "./types";

const STACK_FILE = /^Pulumi\.([A-Za-z0-9_.-]+)\.ya?ml$/;

/** The repository root: the folder holding Pulumi.yaml. */
export const PROJECT_ROOT = join(__dirname, "..");

export function stackFileName(stack: string): string {
  return `Pulumi.${stack}.yaml`;
}

/** The names of every stack with a file in `root`, sorted. */
export function listStacks(root: string = PROJECT_ROOT): string[] {
  return readdirSync(root)
    .map((name) => STACK_FILE.exec(name)?.[1])
    .filter((stack): stack is string => stack !== undefined)
    .sort();
}

/** The raw `config:` map of a stack file, keys as written (`pra:rpo`). */
export function readStackValues(
  stack: string,
  root: string = PROJECT_ROOT,
): Record<string, unknown> {
  const file = stackFileName(stack);
  const path = join(root, file);
  if (!existsSync(path)) {
    throw new ConfigError(file, [
      { key: "(file)", message: `expected a stack file at ${path}; found nothing` },
    ]);
  }
  let document: unknown;
  try {
    document = parseYaml(readFileSync(path, "utf8"));
  } catch (error) {
    throw new ConfigError(file, [
      {
        key: "(file)",
        message: `expected valid YAML; ${error instanceof Error ? error.message : String(error)}`,
      },
    ]);
  }
  const config: unknown =
    (typeof document === "object" && document !== null && "config" in document
      ? document.config
      : undefined) ?? {};
  if (!isSettingsMap(config)) {
    throw new ConfigError(file, [
      { key: "config", message: `expected a map of settings; found ${JSON.stringify(config)}` },
    ]);
  }
  return config;
}

function isSettingsMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function loadStack(stack: string, root: string = PROJECT_ROOT): PraConfig {
  return parseStackConfig({
    stack,
    file: stackFileName(stack),
    values: readStackValues(stack, root),
  });
}
