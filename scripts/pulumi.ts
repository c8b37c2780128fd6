// npm run up / npm run preview: `pulumi up` / `pulumi preview --diff` on a stack (default dev),
// on the local file backend unless the user is already logged in to a backend.
// The CLI is the user's own `pulumi` on PATH, else the pinned `pulumi` npm launcher, which
// downloads the CLI of its version on first use.

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT, stackNames } from "./lib/stackFiles";

const STATE_DIR = path.join(PROJECT_ROOT, ".pulumi-state");

function fail(message: string): never {
  process.stderr.write(`\n${message}\n`);
  process.exit(1);
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, capture = false) {
  return spawnSync(cmd, args, { cwd: PROJECT_ROOT, env, stdio: capture ? "pipe" : "inherit", encoding: "utf8" });
}

function findPulumi(env: NodeJS.ProcessEnv): string {
  const onPath = spawnSync("sh", ["-c", "command -v pulumi"], { encoding: "utf8" }).stdout.trim();
  const launcher = path.join(PROJECT_ROOT, "node_modules", ".bin", "pulumi");
  const candidate = onPath && !onPath.includes("node_modules") ? onPath : launcher;
  if (!fs.existsSync(candidate)) fail("The Pulumi CLI launcher is missing: run `npm ci` first.");
  const probe = run(candidate, ["version"], env, true);
  if (probe.status !== 0) {
    fail([
      "The Pulumi CLI is not available here.",
      `  ${candidate} version -> ${(probe.stderr || probe.stdout || "").trim().split("\n").pop()}`,
      "The `pulumi` npm package fetches the CLI binary on first use, and that download failed",
      "(no internet, or a proxy blocks get.pulumi.com). Install the CLI yourself and retry:",
      "  curl -fsSL https://get.pulumi.com | sh      # or: brew install pulumi/tap/pulumi",
      "Everything else works offline: npm run synth, npm run policy, npm run plan-diff, npm test.",
    ].join("\n"));
  }
  return candidate;
}

function requireDocker(): void {
  const probe = spawnSync("docker", ["version", "--format", "{{.Server.Version}}"], { encoding: "utf8" });
  if (probe.error) fail("Docker is not installed: the dev stack runs its containers on the local Docker daemon.\n  Install Docker Engine (https://docs.docker.com/engine/install/) or Docker Desktop, then retry.");
  if (probe.status !== 0) fail(`The Docker daemon is not reachable: ${(probe.stderr || "").trim()}\n  Start it (sudo systemctl start docker, or open Docker Desktop) and make sure your user may use it.`);
}

function main(): void {
  const [verb, ...rest] = process.argv.slice(2);
  if (verb !== "up" && verb !== "preview") fail("usage: tsx scripts/pulumi.ts up|preview [--stack <name>] [pulumi flags...]");
  let stack = "dev";
  const passThrough: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === "--stack") stack = rest[++i];
    else passThrough.push(rest[i]);
  }
  if (!stackNames().includes(stack)) fail(`No stack file Pulumi.${stack}.yaml; stacks here: ${stackNames().join(", ")}`);

  const env: NodeJS.ProcessEnv = { ...process.env };
  requireDocker();
  const pulumi = findPulumi(env);
  const loggedIn = run(pulumi, ["whoami"], env, true).status === 0;
  if (!loggedIn || env.PULUMI_BACKEND_URL?.startsWith("file://")) {
    fs.mkdirSync(STATE_DIR, { recursive: true });
    env.PULUMI_BACKEND_URL ??= `file://${STATE_DIR}`;
    // The file backend encrypts secrets with a passphrase; an empty one is fine for dev only.
    if (env.PULUMI_CONFIG_PASSPHRASE === undefined && env.PULUMI_CONFIG_PASSPHRASE_FILE === undefined) {
      if (stack !== "dev") fail(`Set PULUMI_CONFIG_PASSPHRASE (or _FILE) to the passphrase of stack ${stack}.`);
      env.PULUMI_CONFIG_PASSPHRASE = "";
    }
    process.stderr.write(`Using the local file backend at ${env.PULUMI_BACKEND_URL}\n`);
  }
  const selected = run(pulumi, ["stack", "select", stack], env, true);
  if (selected.status !== 0) {
    const created = run(pulumi, ["stack", "init", stack, "--secrets-provider", "passphrase"], env);
    if (created.status !== 0) fail(`Could not create stack ${stack}.`);
  }
  const args = verb === "up" ? ["up", "--stack", stack, ...passThrough] : ["preview", "--diff", "--stack", stack, ...passThrough];
  const result = run(pulumi, args, env);
  process.exit(result.status ?? 1);
}

main();
