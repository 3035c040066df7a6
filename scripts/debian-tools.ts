/**
 * The Prometheus and Alertmanager binaries the tests and the drill run for real, from Debian's
 * `prometheus` (prometheus, promtool) and `prometheus-alertmanager` (amtool) packages, and the
 * `chromium` that renders the Mermaid diagrams in the tests. They are system packages, not npm
 * ones: `.ci/run` installs them when missing, as it does PostgreSQL.
 */
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

const PACKAGES = {
  prometheus: "prometheus",
  promtool: "prometheus",
  amtool: "prometheus-alertmanager",
  "prometheus-alertmanager": "prometheus-alertmanager",
  chromium: "chromium",
} as const;

export type DebianTool = keyof typeof PACKAGES;

/** The tool's path on PATH; throws, naming the package to install, when it is not there. */
export function debianTool(tool: DebianTool): string {
  for (const dir of (process.env.PATH ?? "").split(delimiter).filter(Boolean)) {
    const candidate = join(dir, tool);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  throw new Error(
    `${tool} is not installed: install Debian's ${PACKAGES[tool]} package ` +
      `(apt-get install ${PACKAGES[tool]}; bash .ci/run installs it when missing)`,
  );
}
