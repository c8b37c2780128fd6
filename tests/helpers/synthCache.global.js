// jest globalSetup / globalTeardown: one directory per `jest` run where tests/helpers/synth.ts
// keeps each synth's outcome by its arguments, so the test files that synthesize the same stack
// with the same config (most take plain dev or prod) run the program once per run, not once each.
// The code cannot change during a run; the directory is removed at its end.
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

module.exports = async function setup() {
  process.env.VEZA_SYNTH_CACHE = fs.mkdtempSync(path.join(os.tmpdir(), "veza-synth-cache-"));
};

module.exports.teardown = async function teardown() {
  if (process.env.VEZA_SYNTH_CACHE) fs.rmSync(process.env.VEZA_SYNTH_CACHE, { recursive: true, force: true });
};
