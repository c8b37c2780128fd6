// npm run rotate -- --stack <name> --user <name|all> [--applied <file>]
// Walks an operator through a credential rotation (add -> switch -> retire): reads the stack's
// credentials config, prints each user's next step, what it changes live, the `pulumi config set`
// lines that declare it, and the plan-diff of that change (offline). Changes nothing itself.
// Exit 0; 1 when the declared step is not applied yet (--applied: run `up` first); 2 on a usage
// or config error (e.g. a retire while credentials.<user>.external lags).
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { requireValidStackConfig } from "../components/validation/validate";
import { APPLIED_OPTION, EXIT_FINDING, EXIT_OK, parseOrHelp, readAppliedOutputs, runMain, STACK_OPTION, UsageError, type CommandSpec } from "./lib/args";
import { configOverrides, describeSteps, describeUnapplied, nextSteps, parseUsers, unappliedSteps } from "./lib/rotate";
import { recordedFromOutputs, RotationOrderError } from "../components/redis/rotation";
import { PROJECT_ROOT, readStackConfigFile } from "../lib/stackFiles";

const SPEC: CommandSpec = {
  name: "rotate",
  invocation: "npm run rotate --",
  summary: "The next credential rotation step (add, switch, retire) for a user or all of them: what it changes live, the config to set, and its plan-diff.",
  finding: "the declared step is not applied yet (with --applied): run up first",
  options: {
    stack: STACK_OPTION,
    user: {
      type: "string",
      value: "<name|all>",
      required: true,
      description: "the credential to rotate (admin, app, replication, sentinel, exporter, health, handoff, sentinelClients, sentinelPeer, sentinelFailover, sentinelAdmin) or all",
    },
    applied: APPLIED_OPTION,
  },
};

function main(): number {
  const args = parseOrHelp(SPEC);
  if (!args) return EXIT_OK;
  const stack = args.values.stack as string;
  let users;
  try {
    users = parseUsers(args.values.user as string);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const config = requireValidStackConfig(readStackConfigFile(stack).raw);
  // With the stack's outputs: a declared step not applied yet comes first (one step per `up`).
  const applied = readAppliedOutputs(args.values.applied as string | undefined);
  if (applied) {
    let recorded;
    try {
      recorded = recordedFromOutputs(applied);
    } catch (error) {
      if (error instanceof RotationOrderError) throw new UsageError(error.message.replace(/\n\s*/g, " "));
      throw error;
    }
    const pending = unappliedSteps(config.credentials, recorded, users);
    if (pending.length > 0) {
      process.stdout.write(`${describeUnapplied(stack, pending).join("\n")}\n`);
      return EXIT_FINDING;
    }
  }
  const steps = nextSteps(config.credentials, users);
  process.stdout.write(`${describeSteps(stack, steps).join("\n")}\n\n`);
  // The plan-diff of exactly that change, in its own process (the Pulumi runtime is process-global).
  const diff = spawnSync(
    process.execPath,
    [
      ...process.execArgv,
      path.join(__dirname, "plan-diff.ts"),
      "--stack",
      stack,
      ...configOverrides(steps).flatMap((o) => ["--config", o]),
      ...(args.values.applied ? ["--applied", args.values.applied as string] : []),
    ],
    { cwd: PROJECT_ROOT, encoding: "utf8" },
  );
  if (diff.status !== 0) throw new UsageError(diff.stderr.trim().replace(/^plan-diff: /, ""));
  process.stdout.write(diff.stdout);
  return EXIT_OK;
}

runMain("rotate", main);
