// npm run policy -- --stack <name> [--config <key>=<value> ...] [--applied <file>] [--policy-config <file>]
// The policy pack's policies, in-process over the synth plan: one line per violation
// (<level> <policy> <resource>: <message>), exit 1 on a mandatory one.
// The arguments and the config are checked before anything heavy loads: a usage or config error
// costs no @pulumi/pulumi (the synth and the pack are imported only once they pass).
import { formatProblem, type ConfigProblem } from "../components/config/reader";
import * as fs from "node:fs";
import { APPLIED_OPTION, CONFIG_OPTION, EXIT_FINDING, EXIT_OK, EXIT_USAGE, parseOrHelp, readAppliedOutputs, runMain, STACK_OPTION, UsageError, type CommandSpec } from "./lib/args";
import { configProblems } from "./lib/configPrecheck";
import type { Violation } from "./lib/policyRunner";
import { projectName } from "../lib/stackFiles";

const SPEC: CommandSpec = {
  name: "policy",
  invocation: "npm run policy --",
  summary: "The policy pack in-process over the synth plan: one line per violation, <level> <policy> <resource>: <message>.",
  options: {
    stack: STACK_OPTION,
    config: CONFIG_OPTION,
    applied: APPLIED_OPTION,
    "policy-config": {
      type: "string",
      value: "<file>",
      description: 'the pack\'s settings, the JSON file `pulumi up --policy-pack-config` takes: {"sentinel-quorum-and-spread": {"minimumSentinels": 5}}',
    },
  },
  finding: "a mandatory violation",
};

/** The --policy-config file, checked against the policies' settings before anything is synthesized. */
async function readPolicyConfig(file: string | undefined): Promise<unknown> {
  if (file === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (error) {
    throw new UsageError(`--policy-config ${file}: ${error instanceof SyntaxError ? "not JSON" : `cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`}`);
  }
  const { resolvePolicyConfig } = await import("./lib/policyConfig");
  const { policies } = await import("../policy/policies");
  try {
    resolvePolicyConfig(parsed, policies);
  } catch (error) {
    throw new UsageError(`--policy-config ${file}: ${(error as Error).message.replace(/^policy config: /, "")}`);
  }
  return parsed;
}

function refuse(stack: string, problems: ConfigProblem[]): number {
  process.stderr.write(`policy: stack ${stack}: invalid config, nothing to check: ${problems.map(formatProblem).join("; ")}\n`);
  return EXIT_USAGE;
}

async function main(): Promise<number> {
  const args = parseOrHelp(SPEC);
  if (!args) return EXIT_OK;
  const stack = args.values.stack as string;
  const config = args.values.config as string[];
  // The pack is the second gate: even when the program's own validation would refuse this
  // config, show what the policies catch in what it would declare.
  const appliedOutputs = readAppliedOutputs(args.values.applied as string | undefined);
  const policyConfig = await readPolicyConfig(args.values["policy-config"] as string | undefined);
  const problems = configProblems(stack, config, { bypassValidation: true, appliedOutputs });
  if (problems) return refuse(stack, problems);
  // Both load before synthesize() sets the mocks, as the static imports did.
  const { synthesize, unsetSecretsNote } = await import("./lib/synth");
  const { formatViolation, runPolicies } = await import("./lib/policyRunner");
  const outcome = await synthesize(stack, config, { bypassValidation: true, appliedOutputs });
  if (!outcome.ok) return refuse(stack, outcome.problems);
  const violations: Violation[] = (outcome.bypassedProblems ?? []).map((problem) => ({
    policy: "stack-config-valid",
    level: "mandatory",
    resource: "stack",
    message: `${formatProblem(problem)} (pulumi up refuses this config before declaring anything)`,
  }));
  violations.push(...(await runPolicies(outcome.result.unmasked, projectName(), stack, undefined, policyConfig)));
  for (const violation of violations) process.stdout.write(`${formatViolation(violation)}\n`);
  const mandatory = violations.filter((v) => v.level === "mandatory").length;
  process.stdout.write(`policy: stack ${stack}: ${outcome.result.unmasked.length} resources, ${mandatory} mandatory and ${violations.length - mandatory} advisory violations\n`);
  process.stdout.write(unsetSecretsNote("policy", stack, outcome.unsetSecretKeys));
  return mandatory > 0 ? EXIT_FINDING : EXIT_OK;
}

runMain("policy", main);
