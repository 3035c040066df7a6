/**
 * Pulumi entry point. Pulumi's Node.js runtime requires this module and, when its CommonJS
 * export is a function, calls it and takes the awaited result as the stack outputs
 * (@pulumi/pulumi cmd/run/run.js). `export =` makes `module.exports` that function, so every
 * key of `StackOutputs` (infra/outputs.ts) is an output without being listed here, and a lab
 * stack has no empty ones.
 */
import { runStack } from "./program";

export = runStack;
