/** Assertions shared by the stack test files: each looks a resource's inputs up in the recording. */
import { z } from "zod";
import type { RecordedResource, RecordingMocks } from "./harness";

export const KEY = "aws:kms/key:Key";

/** The customer-managed key (a recorded kms Key) whose ARN is `keyArn`; fails when it is not one. */
export function customerKey(mocks: RecordingMocks, keyArn: unknown): RecordedResource {
  const key = mocks.byIdOrArn(keyArn);
  if (!key || key.type !== KEY)
    throw new Error(`${String(keyArn)} is not the ARN of a customer-managed key`);
  return key;
}

/** Asserts `keyArn` is a customer-managed key of `region` with rotation on. */
export function expectRotatingKeyIn(mocks: RecordingMocks, keyArn: unknown, region: string): void {
  const key = customerKey(mocks, keyArn);
  expect(key.region).toBe(region);
  expect(key.inputs.enableKeyRotation).toBe(true);
}

/** The region input of the aws provider a resource was given. */
export function providerRegion(mocks: RecordingMocks, resource: RecordedResource): unknown {
  const provider = mocks.providerOf(resource);
  expect(provider?.type).toBe("pulumi:providers:aws");
  return provider?.inputs.region;
}

export function zoneOfSubnet(mocks: RecordingMocks, subnetId: unknown): string {
  const subnet = mocks.byIdOrArn(subnetId);
  expect(subnet?.type).toBe("aws:ec2/subnet:Subnet");
  return String(subnet!.inputs.availabilityZone);
}

/**
 * The JSON documents the program writes into inputs (policies, kubeconfigs, event patterns),
 * read through schemas: a document of another shape fails the test here, with zod's message.
 * The objects are loose so that a field nobody expects (a kubeconfig `token`) stays visible.
 */
const PolicyDocument = z.looseObject({ Statement: z.array(z.record(z.string(), z.unknown())) });
const Kubeconfig = z.looseObject({
  "current-context": z.string(),
  clusters: z.array(z.looseObject({ cluster: z.looseObject({ server: z.string() }) })),
  users: z.array(
    z.looseObject({
      user: z.looseObject({
        exec: z.looseObject({ args: z.array(z.string()) }).optional(),
      }),
    }),
  ),
});
const JsonObject = z.record(z.string(), z.unknown());

/**
 * A recorded resource's input (or output state), read through a schema instead of a cast: an
 * input of another shape fails the test here, naming the resource and zod's findings.
 */
export function inputOf<S extends z.ZodType>(
  resource: RecordedResource,
  key: string,
  schema: S,
): z.output<S> {
  return parsed(resource, `input ${key}`, resource.inputs[key], schema);
}

export function stateOf<S extends z.ZodType>(
  resource: RecordedResource,
  key: string,
  schema: S,
): z.output<S> {
  return parsed(resource, `output ${key}`, resource.state[key], schema);
}

function parsed<S extends z.ZodType>(
  resource: RecordedResource,
  what: string,
  value: unknown,
  schema: S,
): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success)
    throw new Error(`${resource.type} ${resource.name}: ${what}: ${result.error.message}`);
  return result.data;
}

/** Shapes the stack tests read inputs as. */
export const shapes = {
  strings: z.array(z.string()),
  stringMap: z.record(z.string(), z.string()),
  object: z.record(z.string(), z.unknown()),
  objects: z.array(z.record(z.string(), z.unknown())),
  metadata: z.looseObject({ name: z.string().optional() }),
};

/** Parses a JSON policy document given as an input string. */
export function doc(text: unknown): z.infer<typeof PolicyDocument> {
  return PolicyDocument.parse(JSON.parse(String(text)));
}

/** Parses a kubeconfig given as JSON (a provider input, a stack output). */
export function kubeconfigOf(text: unknown): z.infer<typeof Kubeconfig> {
  return Kubeconfig.parse(JSON.parse(String(text)));
}

/** Parses a JSON object given as a string (an event pattern, a secret's value). */
export function jsonObject(text: unknown): Record<string, unknown> {
  return JsonObject.parse(JSON.parse(String(text)));
}
