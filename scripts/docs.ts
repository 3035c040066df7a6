/**
 * `npm run docs`: writes the generated documents, docs/dr/<stack>.md for every stack file and
 * docs/configuration.md. `--check` writes nothing and exits 1 when a committed file differs.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { generatedDocuments } from "../dr/documents";

const { values } = parseArgs({ options: { check: { type: "boolean", default: false } } });
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
process.exitCode = stale > 0 ? 1 : 0;
