/**
 * The app's access to PostgreSQL (RDS in the target): DATABASE_URL from a Secret that External
 * Secrets assembles from the Secrets Manager entry the database component writes. No credential
 * is ever in a manifest: the ExternalSecret names where it is, not what it is.
 */
import { ApiObject } from "cdk8s";
import * as kplus from "cdk8s-plus-28";
import { Construct } from "constructs";
import type { ExternalSecretSpec } from "../manifest";
import type { DatabaseAccess } from "./database";
import { TARGET } from "./names";

export interface PostgresAccessProps {
  /** Name of the Secrets Manager entry (JSON with host, port, dbname, username, password). */
  readonly secretsManagerEntry: string;
  /** @default "pra-database" */
  readonly secretName?: string;
  /** @default "aws-secrets-manager" */
  readonly clusterSecretStore?: string;
  /** How often External Secrets re-reads the entry, so a rotated password arrives. @default "1h" */
  readonly refreshInterval?: string;
}

export class PostgresAccess extends Construct implements DatabaseAccess {
  readonly env: Readonly<Record<string, kplus.EnvValue>>;
  readonly mounts: readonly kplus.VolumeMount[] = [];
  readonly singleWriter = false;
  readonly engine = "postgres";
  readonly externalSecret: ApiObject;

  constructor(scope: Construct, id: string, props: PostgresAccessProps) {
    super(scope, id);
    const secretName = props.secretName ?? TARGET.databaseSecret;
    this.externalSecret = new ApiObject(this, "external-secret", {
      apiVersion: "external-secrets.io/v1",
      kind: "ExternalSecret",
      metadata: { name: secretName },
      spec: {
        refreshInterval: props.refreshInterval ?? "1h",
        secretStoreRef: {
          kind: "ClusterSecretStore",
          name: props.clusterSecretStore ?? TARGET.clusterSecretStore,
        },
        target: {
          name: secretName,
          creationPolicy: "Owner",
          template: {
            engineVersion: "v2",
            // verify-full: TLS to RDS, and the server's name checked against the RDS CA bundle.
            data: {
              DATABASE_URL:
                "postgres://{{ .username | urlquery }}:{{ .password | urlquery }}@{{ .host }}:{{ .port }}/{{ .dbname }}" +
                `?sslmode=verify-full&sslrootcert=${TARGET.databaseCaFile}`,
            },
          },
        },
        dataFrom: [{ extract: { key: props.secretsManagerEntry } }],
      } satisfies ExternalSecretSpec,
    });
    const secret = kplus.Secret.fromSecretName(this, "secret", secretName);
    this.env = { DATABASE_URL: kplus.EnvValue.fromSecretValue({ secret, key: "DATABASE_URL" }) };
  }
}
