/**
 * `npm run image`: the image is built under the name the stack's manifests pull (pra:image), for
 * the lab loaded into the local cluster, for a target pushed to its ECR repository for both
 * amd64 and arm64 (staging's Graviton nodes are arm64), from the base the Dockerfile pins by
 * digest. The steps are a pure function of the stack; no Docker daemon is needed here.
 */
import { loadStack } from "../../config";
import { dockerfileBase, imageSteps } from "../../scripts/build-image";
import { REPO_ROOT } from "../support/pra-app";

const lines = (stack: string, load: "kind" | "k3d" | "none" = "kind") =>
  imageSteps(loadStack(stack, REPO_ROOT), load, "pra").map((step) => [
    ...(step.stdinFrom ? [...step.stdinFrom, "|"] : []),
    ...step.argv,
  ]);

test("the lab: docker build tagged pra:image, then loaded into the local cluster", () => {
  const lab = loadStack("lab", REPO_ROOT);
  expect(lines("lab")).toEqual([
    ["docker", "build", "-f", "apps/pra-app/Dockerfile", "-t", lab.image, "."],
    ["kind", "load", "docker-image", lab.image, "--name", "pra"],
  ]);
  expect(lines("lab", "k3d")[1]).toEqual(["k3d", "image", "import", lab.image, "-c", "pra"]);
  expect(lines("lab", "none")).toHaveLength(1);
});

test.each(["staging", "prod"])(
  "%s: logged in to its ECR registry, built for amd64 and arm64, pushed as pra:image",
  (stack) => {
    const config = loadStack(stack, REPO_ROOT);
    const [login, build, ...more] = lines(stack);
    expect(more).toEqual([]);
    const registry = config.image.split("/")[0];
    expect(login).toEqual([
      "aws",
      "ecr",
      "get-login-password",
      "--region",
      registry?.split(".")[3],
      "|",
      "docker",
      "login",
      "--username",
      "AWS",
      "--password-stdin",
      registry,
    ]);
    expect(build?.slice(0, 6)).toEqual([
      "docker",
      "buildx",
      "build",
      "--platform",
      "linux/amd64,linux/arm64",
      "--push",
    ]);
    expect(build?.slice(-3)).toEqual(["-t", config.image, "."]);
  },
);

// No step overrides the Dockerfile's pinned base (a --build-arg NODE_IMAGE would).
test.each(["lab", "staging", "prod"])("%s: the build uses the Dockerfile's own base", (stack) => {
  expect(lines(stack).flat().join(" ")).not.toContain("NODE_IMAGE");
});

test("the Dockerfile pins a Node 22 bookworm-slim base by its image index digest", () => {
  expect(dockerfileBase(REPO_ROOT)).toMatch(
    /^node:22\.\d+\.\d+-bookworm-slim@sha256:[a-f0-9]{64}$/,
  );
});
