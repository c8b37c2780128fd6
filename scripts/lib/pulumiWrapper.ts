// The decisions of `npm run up` / `npm run preview` (scripts/pulumi.ts), as pure functions:
// which arguments are the wrapper's and which go to pulumi, which `pulumi` to run, and whether
// the stack needs a local Docker daemon.
import * as fs from "node:fs";
import * as path from "node:path";
import { parseCommand, STACK_OPTION, UsageError, type CommandSpec } from "./args";

export type Verb = "up" | "preview";

export const WRAPPER_SPEC: CommandSpec = {
  name: "pulumi",
  invocation: "npm run up|preview --",
  summary: "`pulumi up` / `pulumi preview --diff` on a stack, on the local file backend unless you are logged in to one.",
  options: { stack: { ...STACK_OPTION, short: "s" } },
  passThrough: { to: "pulumi" },
  notes: [
    "Only --stack/-s and --help/-h are the wrapper's; every other argument goes to pulumi unchanged and in order",
    "  (npm run up -- --stack prod --yes --target <urn>); pulumi's own flags: pulumi up --help.",
    "The CLI: the first `pulumi` on PATH outside node_modules, else the pinned npm launcher (node_modules/.bin/pulumi).",
    "A local Docker daemon is required only when a host of the stack is a unix:// socket.",
    "Loads the policy pack (--policy-pack policy; install it with (cd policy && npm ci)) unless you give",
    "  --policy-pack yourself: at up it also enforces the policies a preview cannot decide (docs/policy-pack.md).",
    "Once pulumi runs, the wrapper exits with pulumi's exit code.",
  ],
};

export interface WrapperArgs {
  help: boolean;
  verb: Verb;
  stack: string;
  /** Pulumi's own arguments, verbatim. */
  passThrough: string[];
}

/** `up|preview [wrapper options and pulumi flags...]`; throws UsageError (exit 2). */
export function parseWrapperArgs(argv: string[], root?: string): WrapperArgs {
  const [verb, ...rest] = argv;
  if (verb !== "up" && verb !== "preview")
    throw new UsageError(`the first argument is up or preview, not ${JSON.stringify(verb ?? "")}: tsx scripts/pulumi.ts up|preview [--stack <name>] [pulumi flags ...]`);
  const parsed = parseCommand(WRAPPER_SPEC, rest, root);
  return { help: parsed.help, verb, stack: (parsed.values.stack as string | undefined) ?? "dev", passThrough: parsed.passThrough };
}

/** The repo's policy pack, relative to the project root (pulumi runs there). */
export const POLICY_PACK_DIR = "policy";

/** Whether the user named a policy pack among pulumi's flags. */
export function namesPolicyPack(passThrough: string[]): boolean {
  return passThrough.some((arg) => arg === "--policy-pack" || arg.startsWith("--policy-pack="));
}

/**
 * The pulumi command line the wrapper runs: with the repo's pack unless the user names one. At
 * `up` the engine analyzes each resource again on its resolved inputs before changing it, and a
 * mandatory violation stops it there: what enforces the policies a preview could not decide.
 */
export function pulumiArgs(verb: Verb, stack: string, passThrough: string[]): string[] {
  const pack = namesPolicyPack(passThrough) ? [] : ["--policy-pack", POLICY_PACK_DIR];
  return verb === "up" ? ["up", "--stack", stack, ...pack, ...passThrough] : ["preview", "--diff", "--stack", stack, ...pack, ...passThrough];
}

/** Whether a directory is inside a node_modules directory (node_modules/.bin, a package's bin). */
export function insideNodeModules(dir: string): boolean {
  return path.resolve(dir).split(path.sep).includes("node_modules");
}

export function isExecutableFile(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

export interface PulumiChoice {
  path: string;
  /** Why this one, for the one line the wrapper prints. */
  reason: string;
  launcher: boolean;
}

export function launcherPath(root: string): string {
  return path.join(root, "node_modules", ".bin", "pulumi");
}

function launcherVersion(root: string): string | undefined {
  try {
    return (JSON.parse(fs.readFileSync(path.join(root, "node_modules", "pulumi", "package.json"), "utf8")) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

/**
 * The user's own `pulumi`: the first one on PATH in a directory outside node_modules (under
 * `npm run`, node_modules/.bin comes first on PATH, so a plain PATH lookup always finds the npm
 * launcher). Else the pinned npm launcher, which downloads the CLI of its version on first use.
 * Empty and relative PATH entries are skipped.
 */
export function choosePulumi(pathEnv: string | undefined, root: string, isExecutable: (file: string) => boolean = isExecutableFile): PulumiChoice {
  for (const dir of (pathEnv ?? "").split(path.delimiter)) {
    if (!dir || !path.isAbsolute(dir) || insideNodeModules(dir)) continue;
    const candidate = path.join(dir, "pulumi");
    if (isExecutable(candidate)) return { path: candidate, reason: `the first pulumi on PATH outside node_modules (${dir})`, launcher: false };
  }
  const version = launcherVersion(root);
  return {
    path: launcherPath(root),
    reason: `no pulumi on PATH outside node_modules, so the pinned npm launcher${version ? ` pulumi@${version}` : ""} (it downloads that CLI version on first use)`,
    launcher: true,
  };
}

/** The distinct local-socket Docker hosts (unix://) the stack declares: those need a local daemon. */
export function localDockerHosts(hosts: unknown): string[] {
  if (!Array.isArray(hosts)) return [];
  const uris = hosts
    .map((host) => (typeof host === "object" && host !== null ? (host as { dockerHost?: unknown }).dockerHost : undefined))
    .filter((uri): uri is string => typeof uri === "string" && uri.startsWith("unix://"));
  return [...new Set(uris)];
}

/**
 * Where the state goes. Logged in (or PULUMI_BACKEND_URL answers): that backend. Not logged in:
 * the project's own file backend, for the dev stack only, which is the README's first run on a
 * fresh machine. Any other stack stops there: a failed login must never put a production stack's
 * state on this machine's disk (the wrapper once created a new prod stack there when
 * `pulumi whoami` failed).
 */
export type Backend = { kind: "project-file" } | { kind: "current" };

export function chooseBackend(stack: string, whoami: { ok: boolean; output: string }, env: NodeJS.ProcessEnv): Backend {
  if (whoami.ok) return { kind: "current" };
  const why = lastLine(whoami.output) || "no answer";
  if (env.PULUMI_BACKEND_URL) {
    throw new UsageError(`stack ${stack}: the backend PULUMI_BACKEND_URL=${env.PULUMI_BACKEND_URL} cannot be reached or logged into (pulumi whoami: ${why}); nothing was run`);
  }
  if (stack !== "dev") {
    throw new UsageError(
      `stack ${stack}: not logged in to a backend (pulumi whoami: ${why}); log in to the stack's backend (pulumi login <url>) and retry, or create the stack with npm run init-stack -- --stack ${stack}. Only dev falls back to the local file backend; nothing was run`,
    );
  }
  return { kind: "project-file" };
}

/**
 * What to do when `pulumi stack select` fails: create only the dev stack on the project's file
 * backend (the README's first `npm run up`); anywhere else creating a stack stays an explicit step.
 */
export function onMissingStack(stack: string, backend: Backend, selectOutput: string): "create" {
  if (backend.kind === "project-file" && stack === "dev") return "create";
  throw new UsageError(
    `stack ${stack} cannot be selected on the current backend (pulumi stack select: ${lastLine(selectOutput) || "no answer"}); create it with npm run init-stack -- --stack ${stack}, then retry; nothing was created`,
  );
}

function lastLine(text: string): string {
  return text.trim().split("\n").pop()?.trim() ?? "";
}
