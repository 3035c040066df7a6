/**
 * What `cdk8s synth` writes for a stack, read back from the files: synthStack (charts/stacks.ts)
 * into a temporary folder, every YAML document parsed. The reference the deployed objects are
 * compared with, independent of any in-memory synthesis.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { PROMETHEUS_STACK_VALUES_FILE } from "../../charts/addon-values";
import { ACCOUNT_ID_PLACEHOLDER } from "../../charts/alertmanager-config";
import { type Manifest, manifestsFromYaml } from "../../charts/manifest";
import { synthStack } from "../../charts/stacks";
import type { PraConfig } from "../../config";

export interface SynthesizedStack {
  /** dist/<stack>/*.k8s.yaml: what a GitOps tool syncs. */
  readonly synced: Manifest[];
  /** dist/<stack>/ops/: run-once operations, never deployed. */
  readonly ops: Manifest[];
  /**
   * dist/<stack>/addons/kube-prometheus-stack.values.yaml, parsed, with the target's account id
   * placeholder replaced by `accountId` (as docs/deploying.md has a user do); undefined without it.
   */
  readonly prometheusStackValues: unknown;
}

function readManifests(folder: string): Manifest[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder)
    .filter((file) => file.endsWith(".k8s.yaml"))
    .sort()
    .flatMap((file) => manifestsFromYaml(readFileSync(join(folder, file), "utf8"), file));
}

export function synthesized(
  config: PraConfig,
  accountId = ACCOUNT_ID_PLACEHOLDER,
): SynthesizedStack {
  const outdir = mkdtempSync(join(tmpdir(), `pra-synth-${config.stack}-`));
  try {
    synthStack(config, outdir);
    const valuesFile = join(outdir, PROMETHEUS_STACK_VALUES_FILE.primary);
    return {
      synced: readManifests(outdir),
      ops: readManifests(join(outdir, "ops")),
      prometheusStackValues: existsSync(valuesFile)
        ? parseYaml(readFileSync(valuesFile, "utf8").replaceAll(ACCOUNT_ID_PLACEHOLDER, accountId))
        : undefined,
    };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

export const keyOf = (manifest: Manifest) =>
  `${manifest.kind}/${manifest.metadata.namespace ?? ""}/${manifest.metadata.name}`;
