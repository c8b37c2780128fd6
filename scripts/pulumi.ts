// npm run up / npm run preview: `pulumi up` / `pulumi preview --diff` on a stack (default dev),
// on the local file backend unless the user is already logged in to a backend.
// The CLI is the user's own `pulumi` on PATH (outside node_modules), else the pinned `pulumi` npm
// launcher, which downloads the CLI of its version on first use. Only --stack/-s and --help are
// the wrapper's; every other argument goes to pulumi. The decisions: scripts/lib/pulumiWrapper.ts.

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { EXIT_OK, helpText, runMain, UsageError } from "./lib/args";
import { chooseBackend, choosePulumi, localDockerHosts, namesPolicyPack, onMissingStack, parseWrapperArgs, POLICY_PACK_DIR, pulumiArgs, WRAPPER_SPEC } from "./lib/pulumiWrapper";
import { PROJECT_ROOT, readStackConfigFile } from "../lib/stackFiles";
import { validateStackConfig } from "../components/validation/validate";
import { broughtCaProblems } from "../components/validation/tlsFiles";
import { formatProblem } from "../components/config/reader";

const STATE_DIR = path.join(PROJECT_ROOT, ".pulumi-state");

/** A missing prerequisite: the message (several lines: what to install) and exit 2. */
function fail(message: string): never {
  process.stderr.write(`\n${message}\n`);
  process.exit(2);
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, capture = false) {
  return spawnSync(cmd, args, { cwd: PROJECT_ROOT, env, stdio: capture ? "pipe" : "inherit", encoding: "utf8" });
}

function findPulumi(env: NodeJS.ProcessEnv): string {
  const choice = choosePulumi(env.PATH, PROJECT_ROOT);
  if (!fs.existsSync(choice.path)) fail("The Pulumi CLI launcher is missing: run `npm ci` first, or install the Pulumi CLI (https://www.pulumi.com/docs/install/).");
  process.stderr.write(`pulumi: using ${choice.path}: ${choice.reason}\n`);
  const probe = run(choice.path, ["version"], env, true);
  if (probe.status !== 0) {
    fail(
      [
        "The Pulumi CLI is not available here.",
        `  ${choice.path} version -> ${(probe.stderr || probe.stdout || probe.error?.message || "").trim().split("\n").pop()}`,
        ...(choice.launcher
          ? [
              "The `pulumi` npm package fetches the CLI binary on first use, and that download failed",
              "(no internet, or a proxy blocks get.pulumi.com). Install the CLI yourself, put it on your PATH and retry:",
            ]
          : ["Fix or remove that CLI, or install a working one:"]),
        "  curl -fsSL https://get.pulumi.com | sh      # or: brew install pulumi/tap/pulumi",
        "Everything else works offline: npm run synth, npm run policy, npm run plan-diff, npm test.",
      ].join("\n"),
    );
  }
  return choice.path;
}

/** The stack's unix:// hosts run on this machine's Docker daemon: it must answer there. */
function requireDocker(sockets: string[], stack: string): void {
  for (const socket of sockets) {
    const probe = spawnSync("docker", ["--host", socket, "version", "--format", "{{.Server.Version}}"], { encoding: "utf8" });
    if (probe.error)
      fail(
        `Docker is not installed: stack ${stack} runs containers on the local Docker daemon (${socket}).\n  Install Docker Engine (https://docs.docker.com/engine/install/) or Docker Desktop, then retry.`,
      );
    if (probe.status !== 0)
      fail(`The Docker daemon at ${socket} is not reachable: ${(probe.stderr || "").trim()}\n  Start it (sudo systemctl start docker, or open Docker Desktop) and make sure your user may use it.`);
  }
}

function main(): number {
  const args = parseWrapperArgs(process.argv.slice(2));
  if (args.help) {
    process.stdout.write(helpText(WRAPPER_SPEC));
    return EXIT_OK;
  }
  const { verb, stack, passThrough } = args;
  const env: NodeJS.ProcessEnv = { ...process.env };
  let raw: Record<string, unknown>;
  try {
    raw = readStackConfigFile(stack).raw;
  } catch (error) {
    throw new UsageError(`Pulumi.${stack}.yaml: ${(error as Error).message}`);
  }
  // The config and a brought CA's files, offline, before Docker and the CLI: the program refuses
  // the same (and the rotation order, which needs the stack's outputs) once pulumi runs it.
  const validation = validateStackConfig(raw);
  const problems = validation.ok ? broughtCaProblems(validation.config.tls) : validation.problems;
  if (problems.length > 0) fail(`Pulumi.${stack}.yaml: nothing was previewed or applied:\n${problems.map((p) => `  - ${formatProblem(p)}`).join("\n")}`);
  const hosts = raw.hosts;
  requireDocker(localDockerHosts(hosts), stack);
  // The pack runs from its own install; without it pulumi fails after the preview has started.
  if (!namesPolicyPack(passThrough) && !fs.existsSync(path.join(PROJECT_ROOT, POLICY_PACK_DIR, "node_modules", "@pulumi", "policy"))) {
    fail(`The policy pack's dependencies are not installed: run (cd ${POLICY_PACK_DIR} && npm ci), then retry.`);
  }
  const pulumi = findPulumi(env);
  const whoami = run(pulumi, ["whoami"], env, true);
  const backend = chooseBackend(stack, { ok: whoami.status === 0, output: `${whoami.stdout ?? ""}${whoami.stderr ?? ""}` }, env);
  if (backend.kind === "project-file" || env.PULUMI_BACKEND_URL?.startsWith("file://")) {
    fs.mkdirSync(STATE_DIR, { recursive: true });
    env.PULUMI_BACKEND_URL ??= `file://${STATE_DIR}`;
    // The file backend encrypts secrets with a passphrase; an empty one is fine for dev only.
    if (env.PULUMI_CONFIG_PASSPHRASE === undefined && env.PULUMI_CONFIG_PASSPHRASE_FILE === undefined) {
      if (stack !== "dev") throw new UsageError(`set PULUMI_CONFIG_PASSPHRASE (or _FILE) to the passphrase of stack ${stack}`);
      env.PULUMI_CONFIG_PASSPHRASE = "";
    }
    process.stderr.write(`Using the local file backend at ${env.PULUMI_BACKEND_URL}\n`);
  }
  const selected = run(pulumi, ["stack", "select", stack], env, true);
  if (selected.status !== 0 && onMissingStack(stack, backend, `${selected.stdout ?? ""}${selected.stderr ?? ""}`) === "create") {
    const created = run(pulumi, ["stack", "init", stack, "--secrets-provider", "passphrase"], env);
    if (created.status !== 0) throw new UsageError(`could not create stack ${stack} (pulumi stack init failed, above)`);
  }
  const result = run(pulumi, pulumiArgs(verb, stack, passThrough), env);
  return result.status ?? 1;
}

runMain("pulumi", main);
