// npm run plan-diff -- --stack <name> --config <key>=<value> ...
// Synthesizes the stack with and without the changes (each in its own process: the Pulumi
// runtime is process-global), prints what the engine will do to each resource (replace, update in
// place, create, delete) and in which order. Exit 0; 2 on a usage or config error, in one line.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "./lib/args";
import { engineOrder, formatEngineOrder } from "./lib/engineOrder";
import { diffPlans, formatPlanDiff } from "./lib/planDiff";
import { PROJECT_ROOT } from "./lib/stackFiles";
import type { Plan } from "./lib/synth";

const USAGE = "usage: npm run plan-diff -- [--stack <name>] --config <key>=<value> [--config ...]";

class UsageError extends Error {}

function synthPlan(stack: string, overrides: string[], outDir: string): Plan {
  const result = spawnSync(process.execPath, [...process.execArgv, path.join(__dirname, "synth.ts"), "--stack", stack, ...overrides.flatMap((o) => ["--config", o]), "--out", outDir], {
    cwd: PROJECT_ROOT,
    encoding: "utf8",
  });
  if (result.status !== 0) {
    // synth lists one problem per line; the contract here is one line.
    const problems = result.stderr.split("\n").map((l) => l.trim().replace(/^- /, "")).filter((l) => l && !l.endsWith("nothing written:"));
    throw new UsageError(`stack ${stack}${overrides.length > 0 ? ` with ${overrides.join(" ")}` : ""}: ${problems.join("; ").replace(/^synth: /, "")}`);
  }
  return JSON.parse(fs.readFileSync(path.join(outDir, "plan.json"), "utf8")) as Plan;
}

function main(): void {
  const argv = process.argv.slice(2);
  if (argv.includes("--help")) {
    process.stdout.write(`${USAGE}\nWhat the config change does to each resource (+- replace, ~ update in place, + create, - delete) and the order pulumi up runs it in.\n`);
    return;
  }
  let args;
  try {
    args = parseArgs(argv, { stack: "dev" });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}; ${USAGE}`);
  }
  const unknown = Object.keys(args).filter((k) => k !== "stack" && k !== "config");
  if (unknown.length > 0) throw new UsageError(`unknown option ${unknown.map((k) => `--${k}`).join(", ")}; ${USAGE}`);
  if (args.config.length === 0) throw new UsageError("give the change to review: --config <key>=<value> (e.g. --config incident=redis-down)");
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "veza-plan-diff-"));
  try {
    const before = synthPlan(args.stack, [], path.join(work, "before"));
    const after = synthPlan(args.stack, args.config, path.join(work, "after"));
    const diff = diffPlans(before, after);
    process.stdout.write(`plan-diff: stack ${args.stack}, ${args.config.join(" ")}\n${formatPlanDiff(diff)}\n\n${formatEngineOrder(engineOrder(diff, before, after))}\n`);
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
