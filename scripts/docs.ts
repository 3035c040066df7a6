/**
 * `npm run docs [-- --check]`: writes the generated documents, docs/dr/<stack>.md for every stack
 * file and docs/configuration.md. `--check` writes nothing and exits 1 when a committed file
 * differs (CI runs it, so the documents never drift from the stack files and the code).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { generatedDocuments } from "../dr/documents";
import { defineCommand, EXIT_FAILED, EXIT_OK, runCommand } from "./cli";

const command = defineCommand({
  name: "npm run docs",
  synopsis: "[-- --check]",
  details: [
    "Writes docs/dr/<stack>.md and docs/configuration.md from the stack files and the code.",
    "  --check   writes nothing; exit 1 when a committed document is out of date",
  ],
  options: { check: { type: "boolean" } },
});

runCommand(command, ({ values }) => {
  let stale = 0;
  for (const [path, text] of generatedDocuments(process.cwd())) {
    const file = join(process.cwd(), path);
    const current = existsSync(file) ? readFileSync(file, "utf8") : undefined;
    if (current === text) continue;
    if (values.check) {
      console.error(`${path} is out of date: run npm run docs`);
      stale++;
    } else {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, text);
      console.log(`wrote ${path}`);
    }
  }
  return stale > 0 ? EXIT_FAILED : EXIT_OK;
});
