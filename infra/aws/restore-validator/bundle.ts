/** The restore-test validator's code, bundled from this folder's handler.ts (../lambda-bundle.ts). */
import type * as pulumi from "@pulumi/pulumi";
import { lambdaBundle, lambdaCode } from "../lambda-bundle";

export const restoreValidatorBundle = (): string => lambdaBundle(__dirname, "restore validator");
export const restoreValidatorCode = (): pulumi.asset.AssetArchive =>
  lambdaCode(__dirname, "restore validator");
