/**
 * Renders Mermaid diagrams to SVG with mermaid-cli's node API in one browser: reads a JSON array
 * of definitions on stdin, prints a JSON array of outcomes (test/support/mermaid.ts's
 * MermaidRendering) on stdout. A diagram Mermaid rejects is an outcome, not a crash, so one
 * broken diagram does not hide the others. Run by test/support/mermaid.ts.
 */
import { readFileSync } from "node:fs";
import { renderMermaid } from "@mermaid-js/mermaid-cli";
import puppeteer from "puppeteer";
import { debianTool } from "../../scripts/debian-tools";
import type { MermaidRendering } from "./mermaid";

async function main(): Promise<void> {
  const input: unknown = JSON.parse(readFileSync(0, "utf8"));
  if (!Array.isArray(input) || !input.every((d) => typeof d === "string"))
    throw new Error("expected a JSON array of Mermaid definitions on stdin");
  // Puppeteer downloads no browser here (.puppeteerrc.cjs): Debian's chromium draws the diagrams.
  const browser = await puppeteer.launch({
    executablePath: debianTool("chromium"),
    // The tests run as root (here and in CI's container), and Chromium refuses to start as root
    // with its sandbox ("Running as root without --no-sandbox is not supported"). Acceptable in
    // a test: the pages load only mermaid-cli's local renderer and the project's own diagrams.
    args: ["--no-sandbox"],
  });
  try {
    // A page each, at once: each page spends most of its time loading Mermaid's bundle.
    const outcomes = await Promise.all(
      input.map(async (definition: string): Promise<MermaidRendering> => {
        try {
          const { data } = await renderMermaid(browser, definition, "svg");
          return { ok: true, svg: Buffer.from(data).toString("utf8") };
        } catch (error) {
          return { ok: false, error: error instanceof Error ? error.message : String(error) };
        }
      }),
    );
    process.stdout.write(JSON.stringify(outcomes));
  } finally {
    await browser.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
