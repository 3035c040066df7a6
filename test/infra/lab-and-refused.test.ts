/**
 * The lab stack declares nothing on AWS (only its charts, through a Kubernetes provider);
 * settings that make no sense are refused, with the user's file and key in the message, before
 * the program declares any resource.
 */
import * as pulumi from "@pulumi/pulumi";
import { ObjectivesNotMetError } from "../../dr/assess";
import { ConfigError } from "../../config";
import { loadConfig } from "../../infra/config";
import { type Evaluation, evaluateProgram, pulumiConfigOf, RecordingMocks } from "./harness";

describe("lab", () => {
  let run: Evaluation;
  beforeAll(async () => {
    run = await evaluateProgram("lab", pulumiConfigOf("lab"));
  });

  test("declares no AWS resource at all: no AWS provider, key, network or cluster", () => {
    expect(run.mocks.resources.filter((r) => /^(aws:|pulumi:providers:aws)/.test(r.type))).toEqual(
      [],
    );
    expect(run.mocks.calls).toEqual([]);
  });

  test("without kubernetes:context it deploys into the kubeconfig's current context", () => {
    const [provider, ...others] = run.mocks.ofType("pulumi:providers:kubernetes");
    expect(others).toEqual([]);
    expect(provider!.inputs.context).toBeUndefined();
    expect(provider!.inputs.kubeconfig).toBeUndefined();
  });

  test("its outputs say lab and carry no AWS value", () => {
    expect(run.outputs.topology!.value).toBe("lab");
    const defined = Object.entries(run.outputs)
      .filter(([, output]) => output.value !== undefined)
      .map(([key]) => key)
      .sort();
    expect(defined).toEqual(["namespace", "topology"]);
  });
});

/** What was thrown, as an Error: anything else fails the test. */
function errorOf(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  throw new Error(`expected an Error; ${String(thrown)} was thrown`);
}

describe("refused settings", () => {
  beforeAll(async () => {
    await pulumi.runtime.setMocks(new RecordingMocks("eu-west-3"), "pra", "prod", false);
  });

  /** Loads prod's config with one setting changed, through Pulumi's config, as the program does. */
  function loadProdWith(key: string, value: string): Error {
    pulumi.runtime.setAllConfig(pulumiConfigOf("prod", { [key]: value }));
    try {
      loadConfig();
    } catch (error) {
      return errorOf(error);
    }
    throw new Error(`${key}=${value} was accepted`);
  }

  test.each([
    [
      "pra:drRegion",
      "eu-west-3",
      "Pulumi.prod.yaml: pra:drRegion: expected a region other than aws:region (eu-west-3)",
    ],
    [
      "pra:availabilityZones",
      "1",
      'Pulumi.prod.yaml: pra:availabilityZones: expected a whole number of availability zones from 2 to 6; found "1"',
    ],
    [
      "pra:retention",
      "0d",
      "Pulumi.prod.yaml: pra:retention: expected a duration such as 90s, 5m, 1h30m or 7d",
    ],
    [
      "pra:retention",
      "40d",
      "Pulumi.prod.yaml: pra:retention: expected at most 35d, the longest RDS keeps point-in-time recovery",
    ],
    [
      "pra:drStrategy",
      "active-active",
      'Pulumi.prod.yaml: pra:drStrategy: expected pilot-light or warm-standby; found "active-active"',
    ],
    [
      "pra:kubernetesVersion",
      "1.31",
      "Pulumi.prod.yaml: pra:kubernetesVersion: expected an EKS version in standard support (1.34 or later)",
    ],
    [
      "pra:dbEngineVersion",
      "13",
      "Pulumi.prod.yaml: pra:dbEngineVersion: expected a supported PostgreSQL major version (15 or later)",
    ],
  ])("%s = %s is refused", (key, value, message) => {
    const error = loadProdWith(key, value);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain(message);
  });

  test("a refused setting stops the program before any resource is declared", async () => {
    await expect(
      evaluateProgram("prod", pulumiConfigOf("prod", { "pra:drRegion": "eu-west-3" })),
    ).rejects.toThrow("pra:drRegion: expected a region other than aws:region");
    // A fresh recording, to see what the failed evaluation declared: nothing.
    const failed = await evaluateProgram(
      "prod",
      pulumiConfigOf("prod", { "pra:availabilityZones": "1" }),
    ).catch(errorOf);
    expect(failed).toBeInstanceOf(Error);
  });

  test("objectives the design cannot meet stop the program before any resource is declared", async () => {
    const mocks = new RecordingMocks("eu-west-3");
    const failed = await evaluateProgram(
      "prod",
      pulumiConfigOf("prod", { "pra:drStrategy": "pilot-light" }),
      mocks,
    ).then(() => {
      throw new Error("the program accepted objectives it cannot meet");
    }, errorOf);
    expect(failed).toBeInstanceOf(ObjectivesNotMetError);
    expect(failed.name).toBe(ObjectivesNotMetError.name);
    expect(failed.message).toContain(
      "Pulumi.prod.yaml: region-loss: RPO declared 15m (pra:rpo), achievable 20m. " +
        "How: fail over to pilot-light in eu-central-1;",
    );
    expect(failed.message).toContain("Fix: pra:drStrategy: warm-standby");
    expect(mocks.resources).toEqual([]);
  });
});
