/** The database bootstrap's code, bundled from this folder's handler.ts (../lambda-bundle.ts). */
import type * as pulumi from "@pulumi/pulumi";
import { lambdaCode } from "../lambda-bundle";

export const databaseBootstrapCode = (): pulumi.asset.AssetArchive =>
  lambdaCode(__dirname, "database bootstrap");
