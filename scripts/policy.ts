// npm run policy -- --stack <name> [--config <key>=<value> ...]
// The policy pack's policies, in-process over the synth plan: one line per violation
// (<level> <policy> <resource>: <message>), exit 1 on a mandatory one.
import { formatProblem } from "../components/config/reader";
import { CONFIG_OPTION, EXIT_FINDING, EXIT_OK, EXIT_USAGE, parseOrHelp, runMain, STACK_OPTION, type CommandSpec } from "./lib/args";
import { formatViolation, runPolicies, type Violation } from "./lib/policyRunner";
import { projectName } from "./lib/stackFiles";
import { synthesize, unsetSecretsNote } from "./lib/synth";

const SPEC: CommandSpec = {
  name: "policy",
  invocation: "npm run policy --",
  summary: "The policy pack in-process over the synth plan: one line per violation, <level> <policy> <resource>: <message>.",
  options: { stack: STACK_OPTION, config: CONFIG_OPTION },
  finding: "a mandatory violation",
};

async function main(): Promise<number> {
  const args = parseOrHelp(SPEC);
  if (!args) return EXIT_OK;
  const stack = args.values.stack as string;
  // The pack is the second gate: even when the program's own validation would refuse this
  // config, show what the policies catch in what it would declare.
  const outcome = await synthesize(stack, args.values.config as string[], { bypassValidation: true });
  if (!outcome.ok) {
    process.stderr.write(`policy: stack ${stack}: invalid config, nothing to check: ${outcome.problems.map(formatProblem).join("; ")}\n`);
    return EXIT_USAGE;
  }
  const violations: Violation[] = (outcome.bypassedProblems ?? []).map((problem) => ({
    policy: "stack-config-valid",
    level: "mandatory",
    resource: "stack",
    message: `${formatProblem(problem)} (pulumi up refuses this config before declaring anything)`,
  }));
  violations.push(...(await runPolicies(outcome.result.unmasked, projectName(), stack)));
  for (const violation of violations) process.stdout.write(`${formatViolation(violation)}\n`);
  const mandatory = violations.filter((v) => v.level === "mandatory").length;
  process.stdout.write(`policy: stack ${stack}: ${outcome.result.unmasked.length} resources, ${mandatory} mandatory and ${violations.length - mandatory} advisory violations\n`);
  process.stdout.write(unsetSecretsNote("policy", stack, outcome.unsetSecretKeys));
  return mandatory > 0 ? EXIT_FINDING : EXIT_OK;
}

runMain("policy", main);
