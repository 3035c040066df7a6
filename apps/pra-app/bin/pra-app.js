#!/usr/bin/env node
// The `pra-app` command. The image ships the compiled dist/ and no src/; a repository checkout has
// src/ and runs it through tsx, so `npx pra-app` never runs a stale build.

const { existsSync } = require("node:fs");
const { join } = require("node:path");

const source = join(__dirname, "..", "src", "main.ts");
if (existsSync(source)) {
  require("tsx/cjs");
  require(source);
} else {
  // Node 22+ keeps compiled code under TMPDIR, so that every CronJob run starts faster.
  require("node:module").enableCompileCache?.();
  require(join(__dirname, "..", "dist", "main.js"));
}
