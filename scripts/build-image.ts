/**
 * `npm run image -- --stack <stack> [--load kind|k3d|none] [--cluster <name>] [--dry-run]`: builds
 * the app's image under the name the stack runs (`pra:image`), so what the manifests pull is what
 * was built:
 * - a lab stack: `docker build` for this machine's platform, then loaded into the local cluster
 *   (`kind load docker-image`, `k3d image import`): nothing is pushed;
 * - a target stack: `docker buildx` for linux/amd64 and linux/arm64 (staging's Graviton nodes are
 *   arm64, prod's x86), pushed to the ECR repository pra:image names (the stack output
 *   `imageRepository`), after `aws ecr get-login-password`.
 * Either way the base is the one the Dockerfile pins by its multi-platform index digest (its
 * `ARG NODE_IMAGE=` default, printed before the build): no build argument overrides it, so every
 * build of a commit starts from the same content whichever machine runs it.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadStack, type PraConfig } from "../config";
import { ecrImage } from "../config/dr-design";
import { defineCommand, EXIT_FAILED, EXIT_OK, runCommand, stackName, UsageError } from "./cli";

const DOCKERFILE = "apps/pra-app/Dockerfile";
const PLATFORMS = "linux/amd64,linux/arm64";
const LOADERS = ["kind", "k3d", "none"] as const;
type Loader = (typeof LOADERS)[number];

const command = defineCommand({
  name: "npm run image",
  synopsis: "-- --stack <stack> [--load kind|k3d|none] [--cluster <name>] [--dry-run]",
  details: [
    "Builds pra:image from apps/pra-app/Dockerfile: for a lab stack for this machine, loaded into",
    "the kind (default) or k3d cluster --cluster (default pra); for a target stack for amd64 and",
    "arm64, pushed to its ECR repository. --dry-run prints the commands and runs nothing.",
  ],
  options: {
    stack: { type: "string" },
    load: { type: "string", default: "kind" },
    cluster: { type: "string", default: "pra" },
    "dry-run": { type: "boolean" },
  },
});

/** The base image the Dockerfile names (its `ARG NODE_IMAGE=` default): one source. */
export function dockerfileBase(root: string = process.cwd()): string {
  const match = /^ARG NODE_IMAGE=(\S+)$/m.exec(readFileSync(join(root, DOCKERFILE), "utf8"));
  if (!match?.[1]) throw new Error(`${DOCKERFILE} has no ARG NODE_IMAGE=<image> line`);
  return match[1];
}

type Step = { readonly argv: readonly string[]; readonly stdinFrom?: readonly string[] };

/** The commands, in order. */
export function imageSteps(config: PraConfig, load: Loader, cluster: string): Step[] {
  const build = ["-f", DOCKERFILE, "-t", config.image, "."];
  if (config.topology === "lab") {
    const loadStep: Step[] =
      load === "kind"
        ? [{ argv: ["kind", "load", "docker-image", config.image, "--name", cluster] }]
        : load === "k3d"
          ? [{ argv: ["k3d", "image", "import", config.image, "-c", cluster] }]
          : [];
    return [{ argv: ["docker", "build", ...build] }, ...loadStep];
  }
  const ecr = ecrImage(config.image);
  if (!ecr)
    throw new UsageError(
      `${config.file}: pra:image ${config.image} is not in ECR: push it with your registry's tools`,
    );
  const registry = `${ecr.account}.dkr.ecr.${ecr.region}.amazonaws.com`;
  return [
    {
      argv: ["docker", "login", "--username", "AWS", "--password-stdin", registry],
      stdinFrom: ["aws", "ecr", "get-login-password", "--region", ecr.region],
    },
    { argv: ["docker", "buildx", "build", "--platform", PLATFORMS, "--push", ...build] },
  ];
}

const shell = (argv: readonly string[]) =>
  argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`)).join(" ");

function runStep(step: Step): boolean {
  const input = step.stdinFrom
    ? spawnSync(step.stdinFrom[0] ?? "", step.stdinFrom.slice(1), {
        stdio: ["ignore", "pipe", "inherit"],
      })
    : undefined;
  if (input && input.status !== 0) return false;
  const result = spawnSync(step.argv[0] ?? "", step.argv.slice(1), {
    stdio: [input ? "pipe" : "inherit", "inherit", "inherit"],
    ...(input ? { input: input.stdout } : {}),
  });
  if (result.error) console.error(`${result.error.message} (is ${step.argv[0]} installed?)`);
  return result.status === 0;
}

// Run as a command only, not when a test imports imageSteps.
if (require.main === module)
  runCommand(command, ({ values }) => {
    const config = loadStack(stackName(values.stack), process.cwd());
    const load = LOADERS.find((l) => l === values.load);
    if (load === undefined)
      throw new UsageError(`--load ${values.load}: expected one of ${LOADERS.join(", ")}`);
    const steps = imageSteps(config, load, values.cluster);
    console.log(`# base image: ${dockerfileBase()}`);
    if (values["dry-run"]) {
      for (const step of steps)
        console.log(
          step.stdinFrom ? `${shell(step.stdinFrom)} | ${shell(step.argv)}` : shell(step.argv),
        );
      return EXIT_OK;
    }
    for (const step of steps) {
      console.log(`$ ${step.stdinFrom ? `${shell(step.stdinFrom)} | ` : ""}${shell(step.argv)}`);
      if (!runStep(step)) return EXIT_FAILED;
    }
    console.log(`built ${config.image}`);
    return EXIT_OK;
  });
