/**
 * pra:apiAccessCidrs opens both clusters' API endpoints to the named ranges, and to nothing else:
 * the failover runbook reaches the DR cluster from where it reaches the primary.
 */
import { z } from "zod";
import { inputOf } from "./assertions";
import { type Evaluation, evaluateProgram, pulumiConfigOf } from "./harness";

let run: Evaluation;
beforeAll(async () => {
  run = await evaluateProgram(
    "prod",
    pulumiConfigOf("prod", { "pra:apiAccessCidrs": JSON.stringify(["203.0.113.0/24"]) }),
  );
});

test("both clusters are public towards the named range only, and stay private inside", () => {
  const clusters = run.mocks.ofType("aws:eks/cluster:Cluster");
  expect(clusters.map((c) => c.region).sort()).toEqual(["eu-central-1", "eu-west-3"]);
  for (const cluster of clusters) {
    expect(inputOf(cluster, "vpcConfig", z.looseObject({}))).toMatchObject({
      endpointPrivateAccess: true,
      endpointPublicAccess: true,
      publicAccessCidrs: ["203.0.113.0/24"],
    });
  }
});
