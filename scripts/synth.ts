// npm run synth -- --stack <name> [--config <key>=<value> ...] [--applied <file>] --out <dir>
// The arguments and the config are checked before anything heavy loads: a usage or config error
// costs no @pulumi/pulumi (scripts/lib/synth.ts is imported only once they pass).
import { formatProblem, type ConfigProblem } from "../components/config/reader";
import { APPLIED_OPTION, CONFIG_OPTION, EXIT_OK, EXIT_USAGE, parseOrHelp, readAppliedOutputs, runMain, STACK_OPTION, type CommandSpec } from "./lib/args";
import { configProblems } from "./lib/configPrecheck";

const SPEC: CommandSpec = {
  name: "synth",
  invocation: "npm run synth --",
  summary: "The program under Pulumi mocks, offline: writes <dir>/plan.json and files/<container>/<path> for every uploaded file.",
  options: {
    stack: STACK_OPTION,
    config: CONFIG_OPTION,
    applied: APPLIED_OPTION,
    out: { type: "string", value: "<dir>", required: true, description: "where plan.json and files/ are written" },
  },
};

function refuse(stack: string, problems: ConfigProblem[]): number {
  process.stderr.write(`synth: stack ${stack}: invalid config, nothing written: ${problems.map(formatProblem).join("; ")}\n`);
  return EXIT_USAGE;
}

async function main(): Promise<number> {
  const args = parseOrHelp(SPEC);
  if (!args) return EXIT_OK;
  const stack = args.values.stack as string;
  const out = args.values.out as string;
  const config = args.values.config as string[];
  const appliedOutputs = readAppliedOutputs(args.values.applied as string | undefined);
  const problems = configProblems(stack, config, { appliedOutputs });
  if (problems) return refuse(stack, problems);
  const { synthesize, unsetSecretsNote, writeSynthOutput } = await import("./lib/synth");
  const outcome = await synthesize(stack, config, { appliedOutputs });
  if (!outcome.ok) return refuse(stack, outcome.problems);
  const written = writeSynthOutput(outcome.result, out);
  const resources = outcome.result.plan.resources;
  process.stdout.write(`synth: stack ${stack}: ${resources.length} resources (${resources.filter((r) => r.custom).length} custom), ${written.length - 1} files -> ${out}\n`);
  process.stdout.write(unsetSecretsNote("synth", stack, outcome.unsetSecretKeys));
  return EXIT_OK;
}

runMain("synth", main);
