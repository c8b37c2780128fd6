// `npm run init-stack`: the documented sequence that makes a team's stack, run with the user's
// own pulumi:
//   pulumi stack select <org>/<stack>            (an existing stack is kept as it is)
//   pulumi stack init <org>/<stack> --secrets-provider <provider>   (when select finds none)
//   pulumi config set --secret --stack <org>/<stack> <key>          (the value on stdin)
// Secret values come from environment variables or a prompt without echo, and only ever reach
// pulumi on stdin: never its argv (visible in `ps`), never our output. Everything missing is
// reported before pulumi runs, so a half-made stack is not left behind by a missing variable.

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import YAML from "yaml";
import { EXIT_FINDING, EXIT_OK, STACK_OPTION, UsageError, type CommandSpec, type ParsedCommand } from "./args";
import { choosePulumi } from "./pulumiWrapper";
import { PROJECT_ROOT, projectName, readStackConfigFile } from "../../lib/stackFiles";
import { requiredSecretKeys, secureKeysInFile, STACK_SECRETS, type SecretSpec } from "../../lib/stackSecrets";

export const INIT_STACK_SPEC: CommandSpec = {
  name: "init-stack",
  invocation: "npm run init-stack --",
  summary: "Creates (or selects) the stack with your pulumi and sets its secrets with `pulumi config set --secret`, values on stdin.",
  options: {
    stack: { ...STACK_OPTION, default: "prod" },
    org: { type: "string", value: "<org>", description: "the Pulumi Cloud organization: the stack is <org>/<name> (default: your default org, or `organization` on a DIY backend)" },
    "secrets-provider": {
      type: "string",
      value: "<provider>",
      default: "passphrase",
      description: "for a new stack, passed to `pulumi stack init --secrets-provider`: passphrase, default, awskms://..., azurekeyvault://..., gcpkms://..., hashivault://...",
    },
    "non-interactive": { type: "boolean", description: "never prompt: a secret not in the environment or the stack file is an error (CI)" },
    existing: { type: "boolean", description: "only select: a stack that does not exist is an error, never created (CI, so that a PR cannot create one)" },
  },
  finding: "a pulumi command failed (its output is shown)",
  notes: [
    "secrets, each read from its environment variable, else prompted without echo in a terminal:",
    ...STACK_SECRETS.map((s) => `  ${s.key.padEnd(20)} ${s.env.padEnd(27)} ${s.what}`),
    "a secret already encrypted in Pulumi.<name>.yaml is kept unless its variable is set.",
    "the passphrase provider needs PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE: pulumi runs without a terminal here.",
  ],
};

const ORG = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
const PROVIDER = /^(passphrase|default|(awskms|azurekeyvault|gcpkms|hashivault):\/\/\S+)$/;

export interface InitStackIo {
  env: NodeJS.ProcessEnv;
  out: (line: string) => void;
  /** Asks for a secret without echo; undefined when there is no terminal to ask in. */
  prompt?: (question: string) => Promise<string>;
  root?: string;
}

interface SecretPlan {
  /** Values to set, in STACK_SECRETS order. */
  set: Array<{ spec: SecretSpec; value: string; from: string }>;
  kept: SecretSpec[];
  missingRequired: SecretSpec[];
  missingOptional: SecretSpec[];
}

function checkOptions(values: ParsedCommand["values"]): { org?: string; provider: string } {
  const org = values.org as string | undefined;
  if (org !== undefined && !ORG.test(org)) throw new UsageError(`--org ${JSON.stringify(org)}: allowed a Pulumi organization name (letters, digits, ., _, -; no slash)`);
  const provider = values["secrets-provider"] as string;
  if (!PROVIDER.test(provider)) {
    throw new UsageError(`--secrets-provider ${JSON.stringify(provider)}: allowed passphrase, default, or a URL awskms://, azurekeyvault://, gcpkms://, hashivault://`);
  }
  return { org, provider };
}

type StackFileDoc = { config?: Record<string, unknown>; encryptionsalt?: unknown; secretsprovider?: unknown };

/**
 * The secrets provider the stack file records: an encryptionsalt means passphrase, otherwise
 * `secretsprovider` (a KMS URL); undefined when the file records none (a new stack, or one on
 * the Pulumi Cloud default provider).
 */
export function fileSecretsProvider(doc: StackFileDoc): string | undefined {
  if (typeof doc.encryptionsalt === "string" && doc.encryptionsalt !== "") return "passphrase";
  return typeof doc.secretsprovider === "string" && doc.secretsprovider !== "" ? doc.secretsprovider : undefined;
}

async function planSecrets(stack: string, io: InitStackIo, interactive: boolean): Promise<SecretPlan & { required: string[]; doc: StackFileDoc }> {
  const root = io.root ?? PROJECT_ROOT;
  const file = readStackConfigFile(stack, root);
  const required: string[] = requiredSecretKeys(file.raw);
  const doc = (YAML.parse(fs.readFileSync(path.join(root, `Pulumi.${stack}.yaml`), "utf8")) ?? {}) as StackFileDoc;
  const inFile = secureKeysInFile(doc.config, projectName(root));
  const plan: SecretPlan = { set: [], kept: [], missingRequired: [], missingOptional: [] };
  for (const spec of STACK_SECRETS) {
    const fromEnv = io.env[spec.env];
    if (fromEnv) {
      plan.set.push({ spec, value: fromEnv, from: spec.env });
      continue;
    }
    if (inFile.includes(spec.key)) {
      plan.kept.push(spec);
      continue;
    }
    const isRequired = required.includes(spec.key);
    if (interactive && io.prompt) {
      const value = await io.prompt(`${spec.key} (${spec.what})${isRequired ? "" : ", Enter to skip"}: `);
      if (value) {
        plan.set.push({ spec, value, from: "prompt" });
        continue;
      }
    }
    (isRequired ? plan.missingRequired : plan.missingOptional).push(spec);
  }
  return { ...plan, required, doc };
}

/** Runs the sequence; returns the exit code (0 ok, 1 a pulumi command failed) or throws UsageError (2). */
export async function initStack(args: ParsedCommand, io: InitStackIo): Promise<number> {
  const stack = args.values.stack as string;
  const { org, provider } = checkOptions(args.values);
  const interactive = args.values["non-interactive"] !== true && io.prompt !== undefined;
  const plan = await planSecrets(stack, io, interactive);

  if (plan.missingRequired.length > 0) {
    const names = plan.missingRequired.map((s) => `${s.env} (${s.key}: ${s.what})`).join(", ");
    throw new UsageError(
      `stack ${stack} requires ${names}: set ${plan.missingRequired.length === 1 ? "it" : "them"} in the environment${interactive ? "" : ", or run in a terminal without --non-interactive to be prompted"}; nothing was run`,
    );
  }
  // pulumi reads the value from stdin, so it cannot also prompt for the passphrase there.
  // The provider that will encrypt: the file's, else --secrets-provider for a stack we may create.
  // pulumi runs with stdin a pipe, so it cannot prompt for a passphrase.
  const existing = args.values.existing === true;
  const encryptingProvider = fileSecretsProvider(plan.doc) ?? (existing ? undefined : provider);
  // Set but empty counts, as for pulumi (an empty passphrase is its choice to allow).
  if (encryptingProvider === "passphrase" && io.env.PULUMI_CONFIG_PASSPHRASE === undefined && io.env.PULUMI_CONFIG_PASSPHRASE_FILE === undefined) {
    throw new UsageError(
      "the passphrase secrets provider needs PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE in the environment (pulumi runs here without a terminal, so it cannot prompt for it); nothing was run",
    );
  }

  const root = io.root ?? PROJECT_ROOT;
  const pulumi = choosePulumi(io.env.PATH, root);
  io.out(`init-stack: using ${pulumi.path}: ${pulumi.reason}`);
  const name = org ? `${org}/${stack}` : stack;
  // pulumi gets each secret on stdin only: the VEZA_* variables are not passed on to it (or its plugins).
  const pulumiEnv = Object.fromEntries(Object.entries(io.env).filter(([name]) => !STACK_SECRETS.some((spec) => spec.env === name)));
  const run = (argv: string[], input?: string) => {
    const result = spawnSync(pulumi.path, argv, { cwd: root, env: pulumiEnv, input: input ?? "", encoding: "utf8" });
    return { status: result.error ? null : result.status, output: `${result.stdout ?? ""}${result.stderr ?? ""}`.trim() || String(result.error ?? "") };
  };
  const fail = (argv: string[], output: string) => {
    io.out(`init-stack: pulumi ${argv.join(" ")} failed: ${output.split("\n").slice(-3).join(" | ")}`);
    return EXIT_FINDING;
  };

  const select = ["stack", "select", name];
  if (run(select).status === 0) {
    io.out(`init-stack: stack ${name} exists, selected (its secrets provider is kept; --secrets-provider applies only to a new stack)`);
  } else if (existing) {
    return fail(select, `stack ${name} does not exist, and --existing forbids creating it; create it once with npm run init-stack -- --stack ${stack}${org ? ` --org ${org}` : ""}`);
  } else {
    const init = ["stack", "init", name, "--secrets-provider", provider];
    const result = run(init);
    if (result.status !== 0) return fail(init, result.output);
    io.out(`init-stack: created stack ${name} with secrets provider ${provider}`);
  }

  for (const { spec, value, from } of plan.set) {
    const set = ["config", "set", "--secret", "--stack", name, spec.key];
    const result = run(set, value);
    if (result.status !== 0) return fail(set, result.output);
    io.out(`init-stack: set ${spec.key} (secret, from ${from})`);
  }
  for (const spec of plan.kept) io.out(`init-stack: kept ${spec.key} (already encrypted in Pulumi.${stack}.yaml)`);
  for (const spec of plan.missingOptional) io.out(`init-stack: still unset: ${spec.key} (optional: ${spec.what}; set ${spec.env} and run again)`);
  io.out(
    `init-stack: stack ${name} has every required secret (${plan.required.join(", ") || "none required"}). Next: commit Pulumi.${stack}.yaml (its encryptionsalt and secure: values are ciphertext), then (cd policy && npm ci) && pulumi preview --stack ${name} --policy-pack policy --diff`,
  );
  return EXIT_OK;
}

/** Reads a line from a terminal without echoing it. */
export function promptHidden(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(question);
    stdin.setRawMode(true);
    stdin.resume();
    let value = "";
    const done = (error?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.removeListener("data", onData);
      process.stderr.write("\n");
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: Buffer) => {
      for (const char of chunk.toString("utf8")) {
        if (char === "\r" || char === "\n") return done();
        if (char === "\u0003") return done(new UsageError("interrupted; nothing more was run"));
        if (char === "\u007f" || char === "\b") value = value.slice(0, -1);
        else value += char;
      }
    };
    stdin.on("data", onData);
  });
}
