/** Every generated document, path (relative to the project) to content. */
import { listStacks, loadStack } from "../config";
import { renderConfigurationReference } from "../config/reference";
import { assess } from "./assess";
import { renderReport } from "./report";

export function generatedDocuments(root: string): Map<string, string> {
  const documents = new Map<string, string>();
  for (const stack of listStacks(root)) {
    documents.set(`docs/dr/${stack}.md`, renderReport(assess(loadStack(stack, root))));
  }
  documents.set("docs/configuration.md", renderConfigurationReference());
  return documents;
}
