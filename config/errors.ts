/** One bad setting: which key, what it should have been, what was there. */
export interface ConfigProblem {
  readonly key: string;
  readonly message: string;
}

/**
 * Every problem of one stack file at once, so a user fixes them in one pass.
 * Each line names the file, the key, what was expected and what was found.
 */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    const count =
      problems.length === 1 ? "1 invalid setting" : `${problems.length} invalid settings`;
    super(
      `${file}: ${count}:\n${problems.map((p) => `  ${file}: ${p.key}: ${p.message}`).join("\n")}`,
    );
    this.name = "ConfigError";
  }
}

/** How a value found in a stack file is shown in an error. */
export function describeFound(value: unknown): string {
  if (value === undefined) return "nothing (the key is missing)";
  if (typeof value === "string") return JSON.stringify(value);
  if (value !== null && typeof value === "object" && "secure" in value)
    return "an encrypted secret";
  return JSON.stringify(value);
}
