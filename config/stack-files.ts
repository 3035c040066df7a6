/**
 * Stack files on disk: `Pulumi.<stack>.yaml` beside `Pulumi.yaml`. cdk8s reads them here;
 * the Pulumi program gets the same values through Pulumi's config (see infra/).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type Document, isScalar, parseDocument, parse as parseYaml, visit } from "yaml";
import { ConfigError, type ConfigProblem } from "./errors";
import { NAMESPACE, parseStackConfig } from "./parse";
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

/**
 * The top-level fields of a stack file Pulumi reads (`ProjectStack` in Pulumi's
 * sdk/go/common/workspace/project.go); it ignores any other key.
 */
const STACK_FILE_FIELDS = new Set([
  "config",
  "environment",
  "secretsprovider",
  "encryptedkey",
  "encryptionsalt",
]);

/**
 * The `config:` map of a stack file as the Pulumi program will see it, keys namespaced
 * (`pra:rpo`). Pulumi reads stack files with Go's gopkg.in/yaml.v2
 * (sdk/go/common/encoding/marshal.go), into plain values that it marshals back to text
 * (sdk/go/common/workspace/loaders.go), so this reads them the same way:
 *
 * - merge keys (`<<: *base`) are honoured, as yaml.v2 does; a key set both by a merge and
 *   explicitly (or by two merged maps) is refused, because yaml.v2 lets whichever comes last in
 *   the file win while YAML's merge specification (and this package's YAML reader) lets the
 *   explicit key win: the two tools would deploy different settings;
 * - a key without a namespace (`rto:`) gets the project's, as Pulumi gives it (`pra:rto`);
 * - scalars become the text Pulumi hands the program (`1.35` the number becomes `"1.35"`,
 *   `true` becomes `"true"`), so the schemas see one spelling whichever tool read the file;
 *   a number whose text YAML does not keep (`1.30` is 1.3, `010` is 10 or 8) is refused with
 *   the quoted spelling to write instead;
 * - a `pra:` setting outside `config:`, which Pulumi ignores, is refused.
 */
export function readStackValues(
  stack: string,
  root: string = PROJECT_ROOT,
): Record<string, unknown> {
  const { file, values, problems } = readStackFile(stack, root);
  if (problems.length > 0) throw new ConfigError(file, problems);
  return values;
}

function readStackFile(
  stack: string,
  root: string,
): { file: string; values: Record<string, unknown>; problems: ConfigProblem[] } {
  const file = stackFileName(stack);
  const path = join(root, file);
  if (!existsSync(path)) {
    throw new ConfigError(file, [
      { key: "(file)", message: `expected a stack file at ${path}; found nothing` },
    ]);
  }
  const text = readFileSync(path, "utf8");
  let merged: unknown;
  let literal: unknown;
  let document: Document.Parsed;
  try {
    document = parseDocument(text, { merge: true });
    if (document.errors.length > 0) throw document.errors[0]!;
    merged = document.toJS();
    // The same text with `<<` kept as a key, to see what each merge brings.
    literal = parseYaml(text, { merge: false });
  } catch (error) {
    throw new ConfigError(file, [
      {
        key: "(file)",
        message: `expected valid YAML; ${error instanceof Error ? error.message : String(error)}`,
      },
    ]);
  }
  const problems: ConfigProblem[] = [
    ...keysOutsideConfig(merged),
    ...mergeConflicts(configOf(literal)),
    ...numbersNotAsWritten(document),
  ];
  const config = configOf(merged);
  if (!isSettingsMap(config)) {
    throw new ConfigError(file, [
      { key: "config", message: `expected a map of settings; found ${JSON.stringify(config)}` },
    ]);
  }
  const values = Object.fromEntries(
    Object.entries(config).map(([key, value]) => [
      key.includes(":") ? key : `${NAMESPACE}:${key}`,
      asPulumiReads(value),
    ]),
  );
  return { file, values, problems };
}

function configOf(document: unknown): unknown {
  return (
    (typeof document === "object" && document !== null && "config" in document
      ? document.config
      : undefined) ?? {}
  );
}

function isSettingsMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A scalar as the text Pulumi gives the program; lists and maps stay (the schemas read both). */
function asPulumiReads(value: unknown): unknown {
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  // Pulumi reads an empty value as "" (and warns that it may become null one day).
  if (value === null) return "";
  return value;
}

function keysOutsideConfig(document: unknown): ConfigProblem[] {
  if (!isSettingsMap(document)) return [];
  return Object.keys(document)
    .filter((key) => !STACK_FILE_FIELDS.has(key) && looksLikeSetting(key))
    .map((key) => ({
      key,
      message:
        "expected under config: (Pulumi reads settings only there and ignores this one, so " +
        "the default would apply); found it at the top level of the file",
    }));
}

/** `pra:rpo`, `Pra:rpo`, `pra.rto`: a key meant as one of this project's settings. */
function looksLikeSetting(key: string): boolean {
  return new RegExp(`^${NAMESPACE}[^a-z0-9]`, "i").test(key);
}

function mergeConflicts(config: unknown): ConfigProblem[] {
  if (!isSettingsMap(config) || !("<<" in config)) return [];
  const sources: unknown[] = Array.isArray(config["<<"]) ? config["<<"] : [config["<<"]];
  const setBy = new Map<string, number>();
  for (const key of Object.keys(config)) if (key !== "<<") setBy.set(key, 1);
  for (const source of sources) {
    if (!isSettingsMap(source)) continue;
    for (const key of Object.keys(source)) setBy.set(key, (setBy.get(key) ?? 0) + 1);
  }
  return [...setBy]
    .filter(([, times]) => times > 1)
    .map(([key]) => ({
      key,
      message:
        "expected once; found it both in a merged map (<<) and beside it, where Pulumi's YAML " +
        "reader keeps whichever comes last in the file and YAML's merge rules keep the explicit " +
        "one: set it in one place",
    }));
}

function numbersNotAsWritten(document: Document.Parsed): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  visit(document, {
    Pair(_, pair) {
      const { key, value } = pair;
      if (!isScalar(key) || !isScalar(value) || typeof value.value !== "number") return;
      const written = value.source;
      if (written === undefined || written === String(value.value)) return;
      problems.push({
        key: String(key.value),
        message:
          `expected "${written}" in quotes: unquoted, YAML reads a number (${String(value.value)} ` +
          `here) and Pulumi passes the program that number's text, not what was written`,
      });
    },
  });
  return problems;
}

export function loadStack(stack: string, root: string = PROJECT_ROOT): PraConfig {
  const { file, values, problems } = readStackFile(stack, root);
  if (problems.length === 0) return parseStackConfig({ stack, file, values });
  // Report the settings' own problems too, so one pass fixes the file.
  try {
    parseStackConfig({ stack, file, values });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const flagged = new Set(problems.map((problem) => problem.key));
    problems.push(...error.problems.filter((problem) => !flagged.has(problem.key)));
  }
  throw new ConfigError(file, problems);
}
