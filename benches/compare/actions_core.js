// What a JavaScript action costs before it does anything: a Node.js process
// loading @actions/core (installed by scripts/install-actions-core into
// target/actions-core). Run by dsops-bench as `node actions_core.js ROOT`.
"use strict";
const path = require("path");
const root = process.argv[2] || path.join(__dirname, "..", "..");
require(path.join(root, "target", "actions-core", "node_modules", "@actions", "core"));
