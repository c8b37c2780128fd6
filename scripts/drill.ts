// npm run drill -- --stack <name> [--scenario <name>] [--repeat N] [--short] [--json <file>] [--update-readme]
// Stands the stack's Redis and Sentinel topology up as real processes on 127.0.0.1 (the program's
// own renderers, only placement differs), runs the runbook's fault scenarios, prints a figures
// table, and cleans up every process, temp dir, cgroup and mount it made.
import * as fs from "node:fs";
import * as path from "node:path";
import { requireValidStackConfig } from "../components/config/validate";
import { parseArgs } from "./lib/args";
import { formatTable, machineDescription, runScenario, selectScenarios, summarize } from "./lib/drills";
import type { DrillResult } from "./lib/drills/types";
import { PROJECT_ROOT, readStackConfigFile } from "./lib/stackFiles";

const README_BEGIN = "<!-- drill-results:begin -->";
const README_END = "<!-- drill-results:end -->";

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2), { stack: "dev" }, [], ["short", "update-readme"]);
  const config = requireValidStackConfig(readStackConfigFile(args.stack).raw);
  const scenarios = selectScenarios(args.scenario ? String(args.scenario).split(",") : undefined);
  const repeat = Number(args.repeat ?? 1);
  if (!Number.isInteger(repeat) || repeat < 1 || repeat > 10) throw new Error(`--repeat ${String(args.repeat)}: allowed 1..10`);
  const short = args.short === true;
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const summaries: Array<DrillResult & { runs: number }> = [];
  for (const scenario of scenarios) {
    const runs: DrillResult[] = [];
    for (let i = 1; i <= repeat; i++) {
      log(`drill: ${scenario.name}${repeat > 1 ? ` run ${i}/${repeat}` : ""} (${scenario.runbook}) ...`);
      const result = await runScenario(scenario, { config, short, log });
      log(`drill: ${scenario.name}: ${result.passed ? "pass" : "FAIL"} in ${result.durationS} s  ${Object.entries(result.figures).map(([k, v]) => `${k}=${v}`).join(" ")}${result.failures.length ? `\n  ${result.failures.join("\n  ")}` : ""}`);
      runs.push(result);
    }
    summaries.push(summarize(runs));
  }
  const machine = machineDescription();
  const table = formatTable(summaries);
  log(`\nDrill results, stack ${args.stack}${short ? " (short)" : ""}, ${new Date().toISOString()}, on ${machine}\n\n${table}`);
  if (args.json) fs.writeFileSync(String(args.json), `${JSON.stringify({ stack: args.stack, short, machine, date: new Date().toISOString(), results: summaries }, null, 2)}\n`);
  if (args["update-readme"]) {
    const readmePath = path.join(PROJECT_ROOT, "README.md");
    const readme = fs.readFileSync(readmePath, "utf8");
    const start = readme.indexOf(README_BEGIN);
    const end = readme.indexOf(README_END);
    if (start < 0 || end < start) throw new Error(`README.md has no ${README_BEGIN} ... ${README_END} section`);
    const section = `${README_BEGIN}\nMeasured by \`npm run drill -- --stack ${args.stack}${repeat > 1 ? ` --repeat ${repeat}` : ""}${args.scenario ? ` --scenario ${String(args.scenario)}` : ""}\` on ${new Date().toISOString().slice(0, 10)}, ${machine}.\n\n${table}\n`;
    fs.writeFileSync(readmePath, readme.slice(0, start) + section + readme.slice(end));
    log("drill: README.md updated");
  }
  return summaries.every((s) => s.passed) ? 0 : 1;
}

main().then((code) => process.exit(code), (error: unknown) => {
  process.stderr.write(`drill: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
});
