/**
 * Mermaid's own renderer (@mermaid-js/mermaid-cli) on the project's diagrams, in Debian's
 * chromium: what GitHub shows, not the project's idea of Mermaid's grammar. mermaid-cli is an
 * ES module that jest's module system cannot load, so the rendering runs in one separate process
 * (test/support/mermaid-render.ts) with one browser for the whole batch: starting Chromium is
 * most of the cost, a diagram takes a fraction of a second.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";

export const MERMAID_RENDERER = join(__dirname, "mermaid-render.ts");

/** One diagram's outcome: the SVG Mermaid drew, or the error it reported. */
export type MermaidRendering =
  | { readonly ok: true; readonly svg: string }
  | { readonly ok: false; readonly error: string };

export function isMermaidRendering(value: unknown): value is MermaidRendering {
  if (typeof value !== "object" || value === null) return false;
  if ("svg" in value) return "ok" in value && value.ok === true && typeof value.svg === "string";
  return "ok" in value && value.ok === false && "error" in value && typeof value.error === "string";
}

/** Renders every definition to SVG, in order, with one browser; one outcome each. */
export function renderMermaid(definitions: readonly string[]): MermaidRendering[] {
  const run = spawnSync(process.execPath, ["--require", "tsx/cjs", MERMAID_RENDERER], {
    input: JSON.stringify(definitions),
    encoding: "utf8",
    timeout: 120_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  if (run.error) throw run.error;
  if (run.status !== 0)
    throw new Error(`the Mermaid renderer exited with ${run.status}:\n${run.stderr}`);
  const renderings: unknown = JSON.parse(run.stdout);
  if (!Array.isArray(renderings) || !renderings.every(isMermaidRendering))
    throw new Error(`the Mermaid renderer printed something else:\n${run.stdout.slice(0, 2000)}`);
  return renderings;
}
