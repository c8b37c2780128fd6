// npm run synth -- --stack <name> [--config <key>=<value> ...] --out <dir>
import { formatProblem } from "../components/config/reader";
import { parseArgs } from "./lib/args";
import { synthesize, writeSynthOutput } from "./lib/synth";

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2), { stack: "dev" }, ["out"]);
  const outcome = await synthesize(args.stack, args.config);
  if (!outcome.ok) {
    process.stderr.write(`synth: stack ${args.stack}: invalid config, nothing written:\n${outcome.problems.map((p) => `  - ${formatProblem(p)}`).join("\n")}\n`);
    return 2;
  }
  const written = writeSynthOutput(outcome.result, args.out!);
  const resources = outcome.result.plan.resources;
  process.stdout.write(`synth: stack ${args.stack}: ${resources.length} resources (${resources.filter((r) => r.custom).length} custom), ${written.length - 1} files -> ${args.out}\n`);
  return 0;
}

main().then((code) => process.exit(code), (error: unknown) => {
  process.stderr.write(`synth: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
