/**
 * Stack files read the way Pulumi reads them (config/stack-files.ts): what `cdk8s synth` and
 * `npm run check` see is what `pulumi up` deploys, or the file is refused.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { ConfigError, loadStack, PROJECT_ROOT, readStackValues } from "../../config";
import { NAMESPACE } from "../../config/parse";

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "pra-stack-file-"));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function write(text: string): void {
  writeFileSync(join(root, "Pulumi.t.yaml"), text);
}

function problemsOf(read: () => unknown): string[] {
  try {
    read();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map((problem) => `${problem.key}: ${problem.message}`);
  }
  throw new Error("expected the stack file to be refused");
}

const LAB = "config:\n  pra:topology: lab\n";

test("keys without a namespace get the project's, as Pulumi gives them (the project is pra)", () => {
  const project: unknown = parseYaml(readFileSync(join(PROJECT_ROOT, "Pulumi.yaml"), "utf8"));
  expect(project).toMatchObject({ name: NAMESPACE });
  write(`${LAB}  rto: 20m\n`);
  expect(loadStack("t", root).objectives.rtoSeconds).toBe(1200);
});

describe("settings that would silently take their default are refused, with the key meant", () => {
  test("a namespace in the wrong case", () => {
    write(`${LAB}  Pra:rpo: 5m\n`);
    expect(problemsOf(() => loadStack("t", root))).toEqual([
      "Pra:rpo: expected a key in the pra: namespace, which is case-sensitive; did you mean " +
        "pra:rpo? (as written, it is not a pra setting and the default would apply)",
    ]);
  });

  test("a dot instead of the colon", () => {
    write(`${LAB}  pra.rto: 20m\n`);
    expect(problemsOf(() => loadStack("t", root))).toEqual([
      "pra:pra.rto: unknown setting; did you mean pra:rto?",
    ]);
  });

  test("a pra: key outside config:", () => {
    write(`${LAB}pra:retention: 2h\n`);
    expect(problemsOf(() => loadStack("t", root))).toEqual([
      "pra:retention: expected under config: (Pulumi reads settings only there and ignores " +
        "this one, so the default would apply); found it at the top level of the file",
    ]);
  });

  test("other providers' namespaces pass", () => {
    write(`${LAB}  kubernetes:context: k3d-pra\n  aws:region: eu-west-3\n`);
    expect(loadStack("t", root).topology).toBe("lab");
  });

  test("every problem of the file at once, the settings' own included", () => {
    write(`${LAB}  Pra:rpo: 5m\n  pra:dataVolumeSize: "0"\npra:rto: 1h\n`);
    expect(problemsOf(() => loadStack("t", root)).map((line) => line.split(": ")[0])).toEqual([
      "pra:rto",
      "Pra:rpo",
      "pra:dataVolumeSize",
    ]);
  });
});

describe("merge keys are read as Pulumi's YAML reader (gopkg.in/yaml.v2) reads them", () => {
  const BASE = "base: &base\n  pra:rpo: 5m\n  pra:retention: 2h\n";

  test("a merged map's keys are settings", () => {
    write(`${BASE}${LAB}  <<: *base\n  pra:rto: 20m\n`);
    expect(loadStack("t", root).objectives).toMatchObject({
      rpoSeconds: 300,
      rtoSeconds: 1200,
      retentionSeconds: 7200,
    });
  });

  test("a sequence of merged maps too", () => {
    write(`${BASE}more: &more\n  pra:rto: 20m\n${LAB}  <<: [*base, *more]\n`);
    expect(loadStack("t", root).objectives).toMatchObject({ rpoSeconds: 300, rtoSeconds: 1200 });
  });

  test.each([
    ["before the merge", `${BASE}${LAB}  pra:rpo: 3m\n  <<: *base\n`],
    ["after the merge", `${BASE}${LAB}  <<: *base\n  pra:rpo: 3m\n`],
  ])(
    "a key set both by a merge and explicitly (%s) is refused: the readers disagree",
    (_, text) => {
      write(text);
      expect(problemsOf(() => readStackValues("t", root))).toEqual([
        expect.stringMatching(/^pra:rpo: expected once; found it both in a merged map \(<<\)/),
      ]);
    },
  );
});

describe("scalars become the text Pulumi hands the program", () => {
  test('an unquoted version is read as Pulumi reads it, 1.35 as "1.35"', () => {
    write(
      "config:\n  aws:region: eu-west-3\n  pra:topology: target\n  pra:drRegion: eu-central-1\n" +
        "  pra:kubernetesVersion: 1.35\n  pra:dbEngineVersion: 17\n  pra:replicas: 4\n",
    );
    const config = loadStack("t", root);
    if (config.topology !== "target") throw new Error("expected a target");
    expect(config.cluster.kubernetesVersion).toBe("1.35");
    expect(config.database.engineVersion).toBe("17");
    expect(config.app.replicas).toBe(4);
  });

  test.each([
    ["1.30", "1.3"],
    ["010", "10"],
  ])("a number YAML does not keep as written (%s) is refused with its quoted spelling", (n, as) => {
    write(`${LAB}  pra:image: pra-app:0.1.0\n  pra:backupKeepLast: ${n}\n`);
    expect(problemsOf(() => readStackValues("t", root))).toEqual([
      `pra:backupKeepLast: expected "${n}" in quotes: unquoted, YAML reads a number (${as} ` +
        "here) and Pulumi passes the program that number's text, not what was written",
    ]);
  });

  test("an empty value is the empty string Pulumi reads, and refused", () => {
    write(`${LAB}  pra:rpo:\n`);
    expect(problemsOf(() => loadStack("t", root))).toEqual([
      'pra:rpo: expected a duration such as 90s, 5m, 1h30m or 7d (the recovery point objective); found ""',
    ]);
  });
});
