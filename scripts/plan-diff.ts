// npm run plan-diff -- --stack <name> --config <key>=<value> ...
// Synthesizes the stack with and without the changes (each in its own process: the Pulumi
// runtime is process-global) and prints what changes per resource. Exit 0; 2 on invalid config.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "./lib/args";
import { diffPlans, formatPlanDiff } from "./lib/planDiff";
import { PROJECT_ROOT } from "./lib/stackFiles";
import type { Plan } from "./lib/synth";

function synthPlan(stack: string, overrides: string[], outDir: string): Plan {
  const result = spawnSync(process.execPath, [...process.execArgv, path.join(__dirname, "synth.ts"), "--stack", stack, ...overrides.flatMap((o) => ["--config", o]), "--out", outDir], {
    cwd: PROJECT_ROOT,
    encoding: "utf8",
  });
  if (result.status !== 0) {
    process.stderr.write(result.stderr);
    process.exit(2);
  }
  return JSON.parse(fs.readFileSync(path.join(outDir, "plan.json"), "utf8")) as Plan;
}

function main(): void {
  const args = parseArgs(process.argv.slice(2), { stack: "dev" });
  if (args.config.length === 0) throw new Error("give the change to review: --config <key>=<value> (e.g. --config incident=redis-down)");
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "veza-plan-diff-"));
  try {
    const before = synthPlan(args.stack, [], path.join(work, "before"));
    const after = synthPlan(args.stack, args.config, path.join(work, "after"));
    process.stdout.write(`plan-diff: stack ${args.stack}, ${args.config.join(" ")}\n${formatPlanDiff(diffPlans(before, after))}\n`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

try {
  main();
} catch (error) {
  process.stderr.write(`plan-diff: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
}
