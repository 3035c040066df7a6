/**
 * The validator's code as the Lambda runs it, built when the Pulumi program runs: esbuild
 * bundles handler.ts and what it imports into one CommonJS file (types stripped; `tsc` checks
 * them in `npm test`). The AWS SDK v3 clients stay outside the bundle: the Lambda Node.js
 * runtime provides them. A dependency the runtime lacks (pg, the PostgreSQL client the data
 * check queries the restored instance with) is bundled in.
 */
import * as pulumi from "@pulumi/pulumi";
import { buildSync } from "esbuild";
import { VALIDATOR_RUNTIME } from "./settings";

/** The bundled JavaScript (deterministic: the same sources give the same text, so no diff). */
export function restoreValidatorBundle(): string {
  const result = buildSync({
    entryPoints: ["handler.ts"],
    // Paths in the bundle's comments are relative to this folder, whatever the working directory.
    absWorkingDir: __dirname,
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
  if (!file || others.length > 0) throw new Error("restore validator: expected one bundled file");
  return file.text;
}

/** The function's code: the bundle as index.js. */
export function restoreValidatorCode(): pulumi.asset.AssetArchive {
  return new pulumi.asset.AssetArchive({
    "index.js": new pulumi.asset.StringAsset(restoreValidatorBundle()),
  });
}
