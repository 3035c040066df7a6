/**
 * The bootstrap function's code, bundled by esbuild when the Pulumi program runs, as the restore
 * validator's is (../restore-validator/bundle.ts): the AWS SDK stays outside (the runtime has
 * it), pg is bundled in.
 */
import * as pulumi from "@pulumi/pulumi";
import { buildSync } from "esbuild";
import { VALIDATOR_RUNTIME } from "../restore-validator/settings";

export function databaseBootstrapBundle(): string {
  const result = buildSync({
    entryPoints: ["handler.ts"],
    absWorkingDir: __dirname,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: VALIDATOR_RUNTIME.esbuildTarget,
    external: ["@aws-sdk/*", "pg-native"],
    legalComments: "none",
    charset: "utf8",
    write: false,
    logLevel: "silent",
  });
  const [file, ...others] = result.outputFiles;
  if (!file || others.length > 0) throw new Error("database bootstrap: expected one bundled file");
  return file.text;
}

export function databaseBootstrapCode(): pulumi.asset.AssetArchive {
  return new pulumi.asset.AssetArchive({
    "index.js": new pulumi.asset.StringAsset(databaseBootstrapBundle()),
  });
}
