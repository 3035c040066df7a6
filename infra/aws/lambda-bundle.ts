/**
 * A Lambda function's code as the runtime runs it, built when the Pulumi program runs: esbuild
 * bundles a folder's handler.ts and what it imports into one CommonJS file (types stripped; `tsc`
 * checks them in `npm test`). The AWS SDK v3 clients stay outside the bundle: the Lambda Node.js
 * runtime provides them. A dependency the runtime lacks (pg, the PostgreSQL client the restore
 * validator and the database bootstrap connect with) is bundled in. Used by the restore-test
 * validator (restore-validator/) and the database bootstrap (database-bootstrap/).
 */
import * as pulumi from "@pulumi/pulumi";
import { buildSync } from "esbuild";
import { VALIDATOR_RUNTIME } from "./restore-validator/settings";

/**
 * The bundled JavaScript of `<folder>/handler.ts` (deterministic: the same sources give the same
 * text, so no diff). `what` names the function in the error a broken build gives.
 */
export function lambdaBundle(folder: string, what: string): string {
  const result = buildSync({
    entryPoints: ["handler.ts"],
    // Paths in the bundle's comments are relative to the function's folder, whatever the cwd.
    absWorkingDir: folder,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: VALIDATOR_RUNTIME.esbuildTarget,
    // pg-native is pg's optional native binding, loaded only when asked for: never here.
    external: ["@aws-sdk/*", "pg-native"],
    legalComments: "none",
    charset: "utf8",
    write: false,
    logLevel: "silent",
  });
  const [file, ...others] = result.outputFiles;
  if (!file || others.length > 0) throw new Error(`${what}: expected one bundled file`);
  return file.text;
}

/** The function's code: the bundle as index.js. */
export function lambdaCode(folder: string, what: string): pulumi.asset.AssetArchive {
  return new pulumi.asset.AssetArchive({
    "index.js": new pulumi.asset.StringAsset(lambdaBundle(folder, what)),
  });
}
