/**
 * Every Mermaid diagram the project publishes (the generated docs/dr/<stack>.md from
 * dr/diagram.ts, and any block in README.md or docs/) is rendered by Mermaid's own renderer in
 * Debian's chromium, as GitHub would: each must render, and the SVG must draw what the design
 * relies on: the backup, restore, replication and alert flows on labelled arrows between the
 * right nodes, and the lab's single-node risk tied to both claims. A broken diagram is reported
 * as failing, so the check can fail.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { alertReceiverOf } from "../../charts/alertmanager-config";
import { loadStack } from "../../config";
import { generatedDocuments } from "../../dr/documents";
import { renderMermaid, type MermaidRendering } from "../support/mermaid";
import { REPO_ROOT } from "../support/pra-app";

const generated = generatedDocuments(REPO_ROOT);

/** The published markdown: README.md and docs/ as committed, the generated documents as generated. */
function publishedMarkdown(): Map<string, string> {
  const markdown = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".md"))
        markdown.set(relative(REPO_ROOT, path), readFileSync(path, "utf8"));
    }
  };
  markdown.set("README.md", readFileSync(join(REPO_ROOT, "README.md"), "utf8"));
  walk(join(REPO_ROOT, "docs"));
  for (const [path, text] of generated) markdown.set(path, text);
  return markdown;
}

const diagrams = [...publishedMarkdown()].flatMap(([path, text]) =>
  [...text.matchAll(/^```mermaid\n([\s\S]*?)^```$/gm)].map(([, definition = ""], index) => ({
    name: `${path} #${index + 1}`,
    definition,
    /** Written by dr/diagram.ts, in the lines `declared` reads; a hand-written one need only render. */
    generated: generated.has(path),
  })),
);

/** A label with an unescaped quote: what a stack value with a quote would do to a generated label. */
const BROKEN = 'flowchart TB\n  rds[("the "primary" database")] -- "replication: async" --> drDb';

let renderings = new Map<string, MermaidRendering>();
let broken: MermaidRendering | undefined;

beforeAll(() => {
  // One renderer process and one browser for every diagram and the broken one.
  const outcomes = renderMermaid([...diagrams.map((d) => d.definition), BROKEN]);
  renderings = new Map(diagrams.map((d, i) => [d.name, outcomes[i] ?? missing(d.name)]));
  broken = outcomes[diagrams.length];
}, 120_000);

function missing(name: string): never {
  throw new Error(`no rendering for ${name}`);
}

/** A node as drawn: its text, its CSS classes and its shape's style (a subgraph: its title). */
interface DrawnNode {
  readonly text: string;
  readonly classes: string;
  readonly style: string;
}

/** What a rendered SVG draws: nodes and subgraphs with their text, links with their label. */
interface Drawn {
  /** By the id the definition gives the node or subgraph. */
  readonly nodes: Map<string, DrawnNode>;
  /** Mermaid's link ids (`L_<from>_<to>_<n>`) to the label drawn on the link. */
  readonly links: Map<string, string>;
}

function drawn(name: string): Drawn {
  const rendering = renderings.get(name);
  if (rendering === undefined || !rendering.ok)
    throw new Error(`${name} did not render: ${rendering?.error ?? "no rendering"}`);
  const svg = rendering.svg;
  const nodes: Drawn["nodes"] = new Map();
  const nodeGroups = svg.matchAll(
    /<g class="node ([^"]*)" id="[^"]*-flowchart-(\w+)-\d+"[^>]*>([\s\S]*?)<foreignObject[^>]*>([\s\S]*?)<\/foreignObject>/g,
  );
  for (const [, classes = "", id = "", shape = "", label = ""] of nodeGroups) {
    const style = /<[^>]*class="[^"]*label-container[^"]*"[^>]*style="([^"]*)"/.exec(shape)?.[1];
    nodes.set(id, { text: textOf(label), classes, style: style ?? "" });
  }
  const clusters = svg.matchAll(
    /<g class="cluster[^"]*" id="[^"]*?-(\w+)"[^>]*>[\s\S]*?<foreignObject[^>]*>([\s\S]*?)<\/foreignObject>/g,
  );
  for (const [, id = "", title = ""] of clusters)
    nodes.set(id, { text: textOf(title), classes: "", style: "" });
  const links = new Map<string, string>();
  for (const [, id = ""] of svg.matchAll(
    /<path [^>]*class="[^"]*flowchart-link[^"]*"[^>]*data-id="(L_\w+)"/g,
  ))
    links.set(id, "");
  const labels = svg.matchAll(
    /<g class="label" data-id="(L_\w+)"[^>]*>[\s\S]*?<foreignObject[^>]*>([\s\S]*?)<\/foreignObject>/g,
  );
  for (const [, id = "", label = ""] of labels) if (links.has(id)) links.set(id, textOf(label));
  return { nodes, links };
}

/** The text of an HTML label as a reader sees it: tags dropped, a line break a space. */
function textOf(html: string): string {
  return html
    .replace(/<br\s*\/?>/g, " ")
    .replace(/<[^>]*>/g, "")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&nbsp;/g, " ")
    .replace(/&amp;/g, "&")
    .replace(/\s+/g, " ")
    .trim();
}

/** The label drawn on the link from `from` to `to`, or undefined when there is no such link. */
function linkLabel(d: Drawn, from: string, to: string): string | undefined {
  const id = [...d.links.keys()].find((key) => new RegExp(`^L_${from}_${to}_\\d+$`).test(key));
  return id === undefined ? undefined : d.links.get(id);
}

/** What the definition declares, as Mermaid's flowchart grammar reads the generated lines. */
function declared(definition: string) {
  const nodes = [
    ...definition.matchAll(
      /^\s*(?:subgraph )?(\w+)(?:\[\(|\(\[|\{\{|\[)"(.*)"(?:\)\]|\]\)|\}\}|\])$/gm,
    ),
  ].map(([, id = "", label = ""]) => ({ id, text: textOf(label) }));
  const links = [
    ...definition.matchAll(/^\s*(\w+) (?:(?:--|-\.) "([^"]*)" (?:-->|\.->)|-->|-\.-) (\w+)$/gm),
  ].map(([, from = "", label = "", to = ""]) => ({ from, label, to }));
  return { nodes, links };
}

test("every stack's report has its diagram", () => {
  const reports = [...generated.keys()].filter((path) => path.startsWith("docs/dr/"));
  expect(reports.sort()).toEqual(["docs/dr/lab.md", "docs/dr/prod.md", "docs/dr/staging.md"]);
  expect(diagrams.filter((d) => d.generated).map((d) => d.name)).toEqual(
    expect.arrayContaining(reports.map((path) => `${path} #1`)),
  );
});

test.each(diagrams.map((d) => d.name))("%s renders to an SVG", (name) => {
  const rendering = renderings.get(name);
  expect(rendering?.ok === false ? rendering.error : "").toBe("");
  expect(rendering?.ok === true ? rendering.svg : "").toMatch(/^<svg [^>]*role="graphics-document/);
});

test("a broken diagram is reported as failing, with Mermaid's reason", () => {
  expect(broken?.ok).toBe(false);
  expect(broken?.ok === false ? broken.error : "").toMatch(/^Parse error on line 2:/);
});

describe.each(diagrams.filter((d) => d.generated).map((d) => d.name))("%s", (name) => {
  const { definition } = diagrams.find((d) => d.name === name) ?? missing(name);

  test("draws every node with its label and every link between its ends, labelled", () => {
    const d = drawn(name);
    const source = declared(definition);
    expect(source.nodes.length).toBeGreaterThan(0);
    for (const node of source.nodes)
      expect([node.id, d.nodes.get(node.id)?.text]).toEqual([node.id, node.text]);
    for (const link of source.links)
      expect([link.from, link.to, linkLabel(d, link.from, link.to)]).toEqual([
        link.from,
        link.to,
        link.label,
      ]);
    // Nothing drawn that the definition does not declare: an id misspelt on a link would be drawn
    // by Mermaid as a bare node of its own, without an error.
    expect([...d.nodes.keys()].sort()).toEqual(source.nodes.map((n) => n.id).sort());
    expect(d.links.size).toBe(source.links.length);
  });
});

describe("the lab's diagram, as rendered", () => {
  const lab = "docs/dr/lab.md #1";

  test("the backup flow goes from the data to the restore points, the restore flow back", () => {
    const d = drawn(lab);
    const data = "PersistentVolumeClaim_pra_data";
    const points = "PersistentVolumeClaim_pra_backup";
    expect(linkLabel(d, data, "CronJob_sqlite_backup")).toBe("backup: reads");
    expect(linkLabel(d, "CronJob_sqlite_backup", points)).toBe("backup: writes a restore point");
    expect(linkLabel(d, points, "Job_sqlite_restore")).toBe("restore: reads a point");
    expect(linkLabel(d, "Job_sqlite_restore", data)).toBe("restore: writes the database");
    expect(linkLabel(d, points, "CronJob_sqlite_restore_test")).toBe(
      "restore test: checks the newest point",
    );
  });

  test("the alert flow ends at the stack's receiver", () => {
    const d = drawn(lab);
    const receiver = alertReceiverOf(loadStack("lab", REPO_ROOT));
    expect(linkLabel(d, "alerts", "alertmanager")).toBe("alert: fires");
    expect(linkLabel(d, "alertmanager", "pager")).toBe("alert: pages");
    // Pulumi.lab.yaml sends the lab's alerts to a webhook: its host, not its URL's secret path.
    expect(receiver.kind).toBe("webhook");
    if (receiver.kind === "webhook")
      expect(d.nodes.get("pager")?.text).toBe(`webhook ${new URL(receiver.url).host}`);
  });

  test("the single-node risk is drawn in red, tied to both claims", () => {
    const d = drawn(lab);
    const risk = d.nodes.get("risk");
    expect(risk?.text).toMatch(
      /^RISK: pra-data and pra-backup on one node \(.*\): losing the node loses the data and every restore point$/,
    );
    expect(risk?.classes.split(" ")).toContain("risk");
    expect(risk?.style).toContain("fill:#fdd");
    expect(linkLabel(d, "risk", "PersistentVolumeClaim_pra_data")).toBe("");
    expect(linkLabel(d, "risk", "PersistentVolumeClaim_pra_backup")).toBe("");
  });
});

test.each(["prod", "staging"])(
  "%s: the backup, replication, restore and alert flows, as rendered",
  (stack) => {
    const d = drawn(`docs/dr/${stack}.md #1`);
    expect({
      backup: [
        linkLabel(d, "rds", "CronJob_postgres_export"),
        linkLabel(d, "CronJob_postgres_export", "bucket"),
        linkLabel(d, "rds", "vault"),
      ],
      replication: [
        linkLabel(d, "rds", "drDb"),
        linkLabel(d, "bucket", "drBucket"),
        linkLabel(d, "vault", "drVault"),
      ],
      restore: [linkLabel(d, "vault", "rds"), linkLabel(d, "drDb", "drEks")],
      alert: [linkLabel(d, "alerts", "alertmanager"), linkLabel(d, "alertmanager", "pager")],
    }).toEqual({
      backup: ["backup: pg_dump", "backup: exports", "backup: snapshots"],
      replication: [
        expect.stringMatching(/^replication: (async|backups \+ logs)$/),
        expect.stringMatching(/^replication: RTC \d+m$/),
        "replication: copy",
      ],
      restore: ["restore: snapshot or point in time", "restore: failover (promote or restore)"],
      alert: ["alert: fires", "alert: pages"],
    });
    expect(d.nodes.get("dr")?.text).toMatch(/^eu-central-1 \(DR: (warm-standby|pilot-light)\)$/);
  },
);
