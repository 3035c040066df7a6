/**
 * Puppeteer's configuration (read by its install step and at launch). Only the npm registry and
 * Debian's packages are reachable here and in CI, so Puppeteer must not download a Chrome of its
 * own: the tests that render Mermaid diagrams drive Debian's chromium (/usr/bin/chromium,
 * installed by .ci/run) instead.
 * @type {import("puppeteer").Configuration}
 */
module.exports = {
  skipDownload: true,
};
