/**
 * The app's image in the DR region: ECR replicates the primary region's repository there, so the
 * DR cluster pulls from its own region's registry (config/dr-design.ts rewrites the failover
 * manifests' image) and a region loss does not take the image with it. The destination
 * repository is created by the first replicated push.
 *
 * An account's registry has one replication configuration per region: this resource owns the
 * primary region's. An account that already replicates other repositories lists them here.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface ImageReplicationArgs {
  /** The repository's name (`pra-app`), replicated by exact prefix. */
  readonly repository: string;
  /** The account the image lives in, from its name: it must be the stack's. */
  readonly imageAccount: string;
  readonly accountId: pulumi.Input<string>;
  readonly drRegion: string;
}

export class ImageReplication extends pulumi.ComponentResource {
  constructor(name: string, args: ImageReplicationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pra:aws:ImageReplication", name, {}, opts);
    new aws.ecr.ReplicationConfiguration(
      `${name}-registry`,
      {
        replicationConfiguration: {
          rules: [
            {
              destinations: [
                {
                  region: args.drRegion,
                  registryId: pulumi.output(args.accountId).apply((account) => {
                    if (account !== args.imageAccount)
                      throw new Error(
                        `the image is in account ${args.imageAccount}'s registry, the stack deploys to ` +
                          `${account}: replicate it from there, or push it to ${account}'s registry`,
                      );
                    return account;
                  }),
                },
              ],
              repositoryFilters: [{ filter: args.repository, filterType: "PREFIX_MATCH" }],
            },
          ],
        },
      },
      { parent: this },
    );
    this.registerOutputs({});
  }
}
