/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/tests"],
  testMatch: ["**/*.test.ts"],
  // Type-checking is `npm run typecheck` (whole project, policy/ included); here only transpile.
  transform: { "^.+\\.ts$": ["ts-jest", { diagnostics: false }] },
  testTimeout: 60000,
  // A synth cache per run (tests/helpers/synth.ts): identical synths across files run once.
  globalSetup: "<rootDir>/tests/helpers/synthCache.global.js",
  globalTeardown: "<rootDir>/tests/helpers/synthCache.teardown.js",
  // Drill tests start real processes and measure time: `npm test` runs them alone, one file at a
  // time (--runInBand), after the other layers (which it runs on both cores).
  maxWorkers: 1,
};
