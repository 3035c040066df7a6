/**
 * The whole program as a function of the stack's settings: the lab deploys its charts into a
 * kube context and declares no AWS resource; the target declares the production architecture
 * and deploys its charts into its EKS cluster. index.ts exports the result as stack outputs.
 */
import type { PraConfig } from "../config";
import { assertObjectivesMet } from "../dr/assess";
import { loadConfig, loadKubernetesContext } from "./config";
import { deployLab } from "./deploy-lab";
import type { StackOutputs } from "./outputs";

/** Settings outside the `pra:` namespace, which config/ does not read. */
export interface ProgramOptions {
  /** `kubernetes:context`: the lab's kubeconfig context. @default the kubeconfig's current context */
  readonly kubeContext?: string;
}

export function program(config: PraConfig, options: ProgramOptions = {}): StackOutputs {
  // The declared recovery objectives must hold for the design about to be deployed
  // (dr/assess.ts); like a bad setting, a broken objective stops before anything is declared.
  assertObjectivesMet(config);
  if (config.topology === "lab") return deployLab(config, options);
  // Loaded only for the target: the lab must not pay for loading @pulumi/aws. A synchronous
  // require, typed by the module it loads: import() would go through Node's ESM loader, which
  // tsx's CommonJS hook (the benchmark, the scripts) does not serve.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy load, see above
  const { deployTarget } = require("./deploy-target") as typeof import("./deploy-target");
  return deployTarget(config);
}

/**
 * The program as `pulumi up` runs it: the settings read from the stack's Pulumi config (refused
 * before anything is declared when they make no sense), then `program`.
 */
export function runStack(): StackOutputs {
  const kubeContext = loadKubernetesContext();
  return program(loadConfig(), kubeContext ? { kubeContext } : {});
}
