// npm run policy:sync [-- --check]
// Copies the program's modules the policy pack imports (./shared/...) from components/ into
// policy/shared, so that policy/ installs, typechecks and publishes on its own. --check only
// reports the copies that differ (exit 1), as tests/policy/standalone.test.ts does.
import { EXIT_FINDING, EXIT_OK, parseOrHelp, runMain, type CommandSpec } from "./lib/args";
import { sharedDrift, SHARED_DIR, syncSharedFiles, type SharedDrift } from "./lib/policyShared";
import { PROJECT_ROOT } from "../lib/stackFiles";

const SPEC: CommandSpec = {
  name: "policy:sync",
  invocation: "npm run policy:sync --",
  summary: `Regenerates ${SHARED_DIR}/ (the pack's copies of the components/ modules it imports) from components/.`,
  options: { check: { type: "boolean", description: "change nothing; exit 1 when a copy is missing, stale or no longer imported" } },
  finding: "a copy differs (--check)",
};

function describe(drift: SharedDrift, check: boolean): string[] {
  const [missing, stale, extra] = check ? ["missing", "stale", "no longer imported"] : ["created", "updated", "removed"];
  return [...drift.missing.map((f) => `${missing} ${f}`), ...drift.stale.map((f) => `${stale} ${f}`), ...drift.extra.map((f) => `${extra} ${f}`)];
}

function main(): number {
  const args = parseOrHelp(SPEC);
  if (!args) return EXIT_OK;
  const drift = args.values.check ? sharedDrift(PROJECT_ROOT) : syncSharedFiles(PROJECT_ROOT);
  const lines = describe(drift, args.values.check === true);
  for (const line of lines) process.stdout.write(`policy:sync: ${line}\n`);
  if (lines.length === 0) process.stdout.write(`policy:sync: ${SHARED_DIR} matches components/\n`);
  return args.values.check && lines.length > 0 ? EXIT_FINDING : EXIT_OK;
}

runMain("policy:sync", main);
