// npm run drill -- --stack <name> [--scenario <name>] [--repeat N] [--short] [--json <file>] [--update-docs]
// Stands the stack's Redis and Sentinel topology up as real processes on 127.0.0.1 (the program's
// own renderers, only placement differs), runs the runbook's fault scenarios, prints a figures
// table, and cleans up every process, temp dir, cgroup and mount it made.
// The arguments and the stack's config are checked before the drills load (they load
// @pulumi/pulumi through the components): a usage error costs none of it.
import * as fs from "node:fs";
import * as path from "node:path";
import { requireValidStackConfig } from "../components/validation/validate";
import { parseOrHelp, STACK_OPTION, type CommandSpec } from "./lib/args";
import type { Summary } from "../drills";
import { checkScenarioNames, SCENARIO_NAMES } from "../drills/scenarioNames";
import { PROJECT_ROOT, readStackConfigFile } from "../lib/stackFiles";
import type { StoredResults, StoredSummary } from "../drills/report";

const SPEC: CommandSpec = {
  name: "drill",
  invocation: "npm run drill --",
  summary: "The fault drills against real processes on 127.0.0.1 (root: cgroups, tmpfs), then a figures table; cleans up everything it made, also on Ctrl-C.",
  options: {
    stack: STACK_OPTION,
    scenario: { type: "string", value: "<a,b>", description: `the scenarios to run, comma-separated (default all: ${SCENARIO_NAMES.join(", ")})` },
    repeat: { type: "string", value: "<N>", default: "1", description: "runs per scenario, 1..10" },
    short: { type: "boolean", description: "shorter load phases (a quick check; figures not comparable)" },
    json: { type: "string", value: "<file>", description: "also write the figures as JSON" },
    "update-docs": { type: "boolean", description: "merge the figures into docs/drill-results.json and the tables of docs/drills.md (full runs only)" },
  },
  finding: "a failed drill",
};

async function main(): Promise<number> {
  const parsed = parseOrHelp(SPEC);
  if (!parsed) return 0;
  const args = parsed.values as { stack: string; scenario?: string; repeat?: string; short?: boolean; json?: string; "update-docs"?: boolean };
  const config = requireValidStackConfig(readStackConfigFile(args.stack).raw);
  const names = args.scenario ? String(args.scenario).split(",") : undefined;
  checkScenarioNames(names ?? []);
  const repeat = Number(args.repeat ?? 1);
  if (!Number.isInteger(repeat) || repeat < 1 || repeat > 10) throw new Error(`--repeat ${String(args.repeat)}: allowed 1..10`);
  const { formatFigures, formatTable, machineDescription, runScenario, selectScenarios, summarize } = await import("../drills");
  const { drillCodeCommit } = await import("../drills/report");
  // The code measured is the code as loaded, before any scenario runs: later commits must not be
  // credited with it.
  const commit = drillCodeCommit(PROJECT_ROOT);
  const scenarios = selectScenarios(names);
  const short = args.short === true;
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const summaries: Summary[] = [];
  for (const scenario of scenarios) {
    const runs: Awaited<ReturnType<typeof runScenario>>[] = [];
    for (let i = 1; i <= repeat; i++) {
      log(`drill: ${scenario.name}${repeat > 1 ? ` run ${i}/${repeat}` : ""} (${scenario.runbook}) ...`);
      const result = await runScenario(scenario, { stack: args.stack, config, short, log });
      log(
        `drill: ${scenario.name}: ${result.skipped ? `SKIPPED (${result.skipped})` : result.passed ? "pass" : "FAIL"} in ${result.durationS} s  ${formatFigures(result)}${result.failures.length ? `\n  ${result.failures.join("\n  ")}` : ""}`,
      );
      runs.push(result);
    }
    summaries.push(summarize(runs));
  }
  const machine = machineDescription();
  const table = formatTable(summaries);
  log(`\nDrill results, stack ${args.stack}${short ? " (short)" : ""}, ${new Date().toISOString()}, on ${machine}\n\n${table}`);
  if (args.json) fs.writeFileSync(String(args.json), `${JSON.stringify({ stack: args.stack, short, machine, date: new Date().toISOString(), results: summaries }, null, 2)}\n`);
  if (args["update-docs"]) await updateDrillsPage(args.stack, summaries, machine, short, commit);
  return summaries.every((s) => s.passed) ? 0 : 1;
}

/**
 * Merges these results into docs/drill-results.json (latest full figures per scenario, each with
 * the commit of the drill code) and regenerates docs/drills.md's figures and targets from it, so
 * re-running one scenario keeps the others' figures.
 */
async function updateDrillsPage(stack: string, summaries: Summary[], machine: string, short: boolean, commit: string): Promise<void> {
  if (short) throw new Error("--update-docs takes full runs only (drop --short)");
  const { SCENARIOS } = await import("../drills");
  const { DRILLS_PAGE, FIGURES_BEGIN, FIGURES_END, figuresSection, replaceSection, TARGETS_BEGIN, TARGETS_END, targetsSection } = await import("../drills/report");
  const resultsPath = path.join(PROJECT_ROOT, "docs", "drill-results.json");
  const stored = fs.existsSync(resultsPath) ? (JSON.parse(fs.readFileSync(resultsPath, "utf8")) as StoredResults).results : [];
  const measured = (scenario: { stack?: string }) => `${new Date().toISOString().slice(0, 10)}, stack ${scenario.stack ?? stack}, commit ${commit}`;
  // A skipped scenario measured nothing: its stored figures stay.
  const ran = summaries.filter((s) => !s.skipped);
  const merged = SCENARIOS.map((scenario) =>
    ran.find((s) => s.scenario === scenario.name) ? { ...ran.find((s) => s.scenario === scenario.name)!, measured: measured(scenario) } : stored.find((s) => s.scenario === scenario.name),
  ).filter((s): s is StoredSummary => s !== undefined);
  const results: StoredResults = { machine, results: merged };
  fs.writeFileSync(resultsPath, `${JSON.stringify(results, null, 2)}\n`);
  const pagePath = path.join(PROJECT_ROOT, DRILLS_PAGE);
  let page = fs.readFileSync(pagePath, "utf8");
  page = replaceSection(page, FIGURES_BEGIN, FIGURES_END, figuresSection(results));
  page = replaceSection(page, TARGETS_BEGIN, TARGETS_END, targetsSection());
  fs.writeFileSync(pagePath, page);
  process.stdout.write(`drill: ${DRILLS_PAGE} and docs/drill-results.json updated\n`);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`drill: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  },
);
