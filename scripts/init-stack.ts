// npm run init-stack -- [--stack prod] [--org <org>] [--secrets-provider <provider>] [--non-interactive]
import { EXIT_OK, parseOrHelp, runMain } from "./lib/args";
import { INIT_STACK_SPEC, initStack, promptHidden } from "./lib/initStack";

async function main(): Promise<number> {
  const args = parseOrHelp(INIT_STACK_SPEC);
  if (!args) return EXIT_OK;
  return initStack(args, {
    env: process.env,
    out: (line) => process.stdout.write(`${line}\n`),
    prompt: process.stdin.isTTY ? promptHidden : undefined,
  });
}

runMain("init-stack", main);
