/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/tests"],
  testMatch: ["**/*.test.ts"],
  // Type-checking is `npm run typecheck` (whole project, policy/ included); here only transpile.
  transform: { "^.+\\.ts$": ["ts-jest", { diagnostics: false }] },
  testTimeout: 60000,
  // Drill tests start real processes and measure time: `npm test` runs them alone, one file at a
  // time (--runInBand), after the other layers (which it runs on both cores).
  maxWorkers: 1,
};
