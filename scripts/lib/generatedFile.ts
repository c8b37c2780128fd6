// The commands that regenerate a checked-in file from the code (config:schema, threat-model,
// failure-modes):
// write it, or with --check only say whether it differs (exit 1), as their tests do.
import * as fs from "node:fs";
import * as path from "node:path";
import { EXIT_FINDING, EXIT_OK, parseOrHelp, runMain, type CommandSpec } from "./args";
import { PROJECT_ROOT } from "../../lib/stackFiles";

export function regenerate(command: string, relativeFile: string, expected: string, check: boolean): number {
  const file = path.join(PROJECT_ROOT, relativeFile);
  const current = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
  if (current === expected) {
    process.stdout.write(`${command}: ${relativeFile} is up to date\n`);
    return EXIT_OK;
  }
  if (check) {
    process.stdout.write(`${command}: ${relativeFile} is ${current === undefined ? "missing" : "stale"}: run npm run ${command}\n`);
    return EXIT_FINDING;
  }
  fs.writeFileSync(file, expected);
  process.stdout.write(`${command}: wrote ${relativeFile}\n`);
  return EXIT_OK;
}

/**
 * The whole command: `npm run <command> [-- --check]` regenerates `relativeFile` (`what` it holds)
 * from `render()`, whose source is `source`.
 */
export function runRegenerateCommand(command: string, relativeFile: string, what: string, source: string, render: () => string): void {
  const spec: CommandSpec = {
    name: command,
    invocation: `npm run ${command} --`,
    summary: `Regenerates ${relativeFile} (${what}) from ${source}.`,
    options: { check: { type: "boolean", description: `change nothing; exit 1 when ${relativeFile} differs` } },
    finding: `${relativeFile} differs (--check)`,
  };
  runMain(command, () => {
    const args = parseOrHelp(spec);
    if (!args) return EXIT_OK;
    return regenerate(command, relativeFile, render(), args.values.check === true);
  });
}
