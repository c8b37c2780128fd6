// npm run plan-diff -- --stack <name> --config <key>=<value> ... [--applied <file>]
// Synthesizes the stack with and without the changes (each in its own process: the Pulumi
// runtime is process-global), prints what the engine will do to each resource (replace, update in
// place, create, delete) and in which order. Exit 0; 2 on a usage or config error, in one line.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { APPLIED_OPTION, CONFIG_OPTION, EXIT_OK, parseOrHelp, readAppliedOutputs, runMain, STACK_OPTION, UsageError, type CommandSpec } from "./lib/args";
import { engineOrder, formatEngineOrder } from "../lib/engineOrder";
import { diffPlans, formatPlanDiff } from "../lib/planDiff";
import { PROJECT_ROOT } from "../lib/stackFiles";
import type { Plan } from "./lib/synth";

const SPEC: CommandSpec = {
  name: "plan-diff",
  invocation: "npm run plan-diff --",
  summary: "What the config change does to each resource (+- replace, ~ update in place, + create, - delete) and the order pulumi up runs it in, offline.",
  options: { stack: STACK_OPTION, config: { ...CONFIG_OPTION, required: true, description: `the change to review: ${CONFIG_OPTION.description}` }, applied: APPLIED_OPTION },
};

/** One synth child (the Pulumi runtime is process-global); resolves when it has exited. */
function runSynth(stack: string, overrides: string[], outDir: string, applied: string | undefined): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [...process.execArgv, path.join(__dirname, "synth.ts"), "--stack", stack, ...overrides.flatMap((o) => ["--config", o]), ...(applied ? ["--applied", applied] : []), "--out", outDir],
      {
        cwd: PROJECT_ROOT,
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", () => resolve({ status: null, stderr }));
    child.on("close", (status) => resolve({ status, stderr }));
  });
}

function planOf(result: { status: number | null; stderr: string }, stack: string, overrides: string[], outDir: string): Plan {
  if (result.status !== 0) {
    // synth says what is wrong in one line: "synth: stack <name>: ...".
    const problem = result.stderr.trim().replace(/^synth: (stack \S+: )?/, "");
    throw new UsageError(`stack ${stack}${overrides.length > 0 ? ` with ${overrides.join(" ")}` : ""}: ${problem}`);
  }
  return JSON.parse(fs.readFileSync(path.join(outDir, "plan.json"), "utf8")) as Plan;
}

async function main(): Promise<number> {
  const args = parseOrHelp(SPEC);
  if (!args) return EXIT_OK;
  const stack = args.values.stack as string;
  const config = args.values.config as string[];
  const applied = args.values.applied as string | undefined;
  // Read here too: a bad file is one usage error, not two children failing.
  readAppliedOutputs(applied);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "veza-plan-diff-"));
  try {
    // Both synths at once (one per core); the stack's own problem, if any, is still the one reported.
    const [beforeDir, afterDir] = [path.join(work, "before"), path.join(work, "after")];
    const [beforeRun, afterRun] = await Promise.all([runSynth(stack, [], beforeDir, applied), runSynth(stack, config, afterDir, applied)]);
    const before = planOf(beforeRun, stack, [], beforeDir);
    const after = planOf(afterRun, stack, config, afterDir);
    const diff = diffPlans(before, after);
    process.stdout.write(`plan-diff: stack ${stack}, ${config.join(" ")}\n${formatPlanDiff(diff)}\n\n${formatEngineOrder(engineOrder(diff, before, after))}\n`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  return EXIT_OK;
}

runMain("plan-diff", main);
