// npm run policy -- --stack <name> [--config <key>=<value> ...]
// The policy pack's policies, in-process over the synth plan: one line per violation
// (<level> <policy> <resource>: <message>), exit 1 on a mandatory one.
import { formatProblem } from "../components/config/reader";
import { parseArgs } from "./lib/args";
import { formatViolation, runPolicies, type Violation } from "./lib/policyRunner";
import { projectName } from "./lib/stackFiles";
import { synthesize } from "./lib/synth";

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2), { stack: "dev" });
  // The pack is the second gate: even when the program's own validation would refuse this
  // config, show what the policies catch in what it would declare.
  const outcome = await synthesize(args.stack, args.config, { bypassValidation: true });
  if (!outcome.ok) {
    process.stderr.write(`policy: stack ${args.stack}: invalid config, nothing to check:\n${outcome.problems.map((p) => `  - ${formatProblem(p)}`).join("\n")}\n`);
    return 2;
  }
  const violations: Violation[] = (outcome.bypassedProblems ?? []).map((problem) => ({
    policy: "stack-config-valid",
    level: "mandatory",
    resource: "stack",
    message: `${formatProblem(problem)} (pulumi up refuses this config before declaring anything)`,
  }));
  violations.push(...(await runPolicies(outcome.result.unmasked, projectName(), args.stack)));
  for (const violation of violations) process.stdout.write(`${formatViolation(violation)}\n`);
  const mandatory = violations.filter((v) => v.level === "mandatory").length;
  process.stdout.write(`policy: stack ${args.stack}: ${outcome.result.unmasked.length} resources, ${mandatory} mandatory and ${violations.length - mandatory} advisory violations\n`);
  return mandatory > 0 ? 1 : 0;
}

main().then((code) => process.exit(code), (error: unknown) => {
  process.stderr.write(`policy: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
