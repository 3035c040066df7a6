/** Assertions shared by the stack test files: each looks a resource's inputs up in the recording. */
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

/** Parses a JSON policy document given as an input string. */
export function doc(text: unknown): { Statement: Array<Record<string, unknown>> } {
  return JSON.parse(String(text));
}
