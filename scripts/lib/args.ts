// The one command-line parser every script uses (node:util parseArgs), and the exit contract:
// 0 ok, 1 a finding (a violation, a failed drill), 2 a usage or config error, in one line on
// stderr, never a stack trace (VEZA_DEBUG=1 prints it).
//   --help                 a usage line per option, exit 0
//   --stack prod | --stack=prod
//   a mistyped flag        an error naming the valid ones
//   --stack <unknown>      an error naming the stacks there are (Pulumi.<name>.yaml)
//   --config <bad>         an error unless key=value with a key path `pulumi config set --path` takes
import * as fs from "node:fs";
import { parseArgs as nodeParseArgs } from "node:util";
import { FORBIDDEN_KEY_ALLOWED, isForbiddenKey } from "../../components/config/reader";
import { stackNames } from "../../lib/stackFiles";

export const EXIT_OK = 0;
export const EXIT_FINDING = 1;
export const EXIT_USAGE = 2;

/** A usage or config error: one line on stderr, exit 2. */
export class UsageError extends Error {}

export interface OptionSpec {
  type: "string" | "boolean";
  /** Repeatable: the values are collected in order. */
  multiple?: boolean;
  short?: string;
  /** The value's placeholder in the usage line, e.g. "<name>". */
  value?: string;
  description: string;
  default?: string;
  required?: boolean;
}

export interface CommandSpec {
  /** The script's name, the prefix of every message: "synth". */
  name: string;
  /** How it is run, e.g. "npm run synth --". */
  invocation: string;
  /** One sentence on what it does. */
  summary: string;
  options: Record<string, OptionSpec>;
  /** Positional arguments (none unless given). */
  positionals?: { name: string; description: string; min: number; max: number };
  /** What exit 1 means for this command; omitted when it has no findings. */
  finding?: string;
  /**
   * Keep every argument that is not one of `options`, in order, for another program (the
   * pulumi wrapper hands them to pulumi) instead of refusing it.
   */
  passThrough?: { to: string };
  /** Extra lines after the options in --help. */
  notes?: string[];
}

export type OptionValue = string | string[] | boolean | undefined;

export interface ParsedCommand {
  help: boolean;
  values: Record<string, OptionValue>;
  positionals: string[];
  /** With `passThrough`: the other arguments, verbatim and in order. */
  passThrough: string[];
}

export const STACK_OPTION: OptionSpec = { type: "string", value: "<name>", default: "dev", description: "the stack: Pulumi.<name>.yaml" };
export const CONFIG_OPTION: OptionSpec = {
  type: "string",
  multiple: true,
  value: "<key>=<value>",
  description: "a config override, as `pulumi config set --path` would apply it (repeatable): incident=redis-down, hosts[1].address=10.0.0.2",
};
export const APPLIED_OPTION: OptionSpec = {
  type: "string",
  value: "<file>",
  description:
    "the stack's outputs as its last `up` left them (`pulumi stack output --json > applied.json`; secrets stay masked): the credential rotation is checked against its credentialRotation; without it the stack counts as new",
};

/** The JSON object of `pulumi stack output --json`; a usage error naming the file otherwise. */
export function readAppliedOutputs(file: string | undefined): Record<string, unknown> | undefined {
  if (file === undefined) return undefined;
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new UsageError(`--applied ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`--applied ${file}: not JSON; expected the output of \`pulumi stack output --json\``);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new UsageError(`--applied ${file}: expected a JSON object of stack outputs (\`pulumi stack output --json\`)`);
  return parsed as Record<string, unknown>;
}

export const HELP_OPTION: OptionSpec = { type: "boolean", short: "h", description: "this help" };

function flagName(name: string, spec: OptionSpec): string {
  return spec.type === "string" ? `--${name} ${spec.value ?? "<value>"}` : `--${name}`;
}

function allOptions(spec: CommandSpec): Record<string, OptionSpec> {
  return { ...spec.options, help: HELP_OPTION };
}

export function usageLine(spec: CommandSpec): string {
  const parts = Object.entries(spec.options).map(([name, option]) => {
    const flag = `${flagName(name, option)}${option.multiple ? " ..." : ""}`;
    return option.required ? flag : `[${flag}]`;
  });
  if (spec.positionals) parts.push(spec.positionals.min > 0 ? spec.positionals.name : `[${spec.positionals.name}]`);
  if (spec.passThrough) parts.push(`[${spec.passThrough.to} flags ...]`);
  return `usage: ${spec.invocation} ${parts.join(" ")}`;
}

export function helpText(spec: CommandSpec): string {
  const rows: Array<[string, string]> = Object.entries(allOptions(spec)).map(([name, option]) => {
    const details = [option.required ? "required" : "", option.default !== undefined ? `default ${option.default}` : ""].filter(Boolean).join(", ");
    const flag = `${option.short ? `-${option.short}, ` : ""}${flagName(name, option)}`;
    return [flag, `${option.description}${details ? ` (${details})` : ""}`];
  });
  if (spec.positionals) rows.unshift([spec.positionals.name, spec.positionals.description]);
  const width = Math.max(...rows.map(([flag]) => flag.length));
  const exit = `exit: 0 ok${spec.finding ? `, 1 ${spec.finding}` : ""}, 2 a usage or config error (one line on stderr)`;
  return [usageLine(spec), spec.summary, ...rows.map(([flag, description]) => `  ${flag.padEnd(width)}  ${description}`), ...(spec.notes ?? []), exit, ""].join("\n");
}

function validOptions(spec: CommandSpec): string {
  return Object.keys(allOptions(spec))
    .map((name) => `--${name}`)
    .join(", ");
}

/** `key=value` with a key path `pulumi config set --path` takes (optionally `namespace:`). */
const CONFIG_KEY = /^(?:[A-Za-z][\w-]*:)?[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*|\[\d+\])*$/;

export function checkConfigOverride(override: string): void {
  const eq = override.indexOf("=");
  const example = "e.g. --config incident=redis-down or --config redis.memoryLimitMiB=1024";
  if (eq < 0) throw new UsageError(`--config ${JSON.stringify(override)}: expected <key>=<value>, ${example}`);
  const key = override.slice(0, eq);
  if (key === "") throw new UsageError(`--config ${JSON.stringify(override)}: the key before "=" is empty, ${example}`);
  if (!CONFIG_KEY.test(key)) throw new UsageError(`--config ${JSON.stringify(override)}: ${JSON.stringify(key)} is not a config key path (name, a.b, list[0].name), ${example}`);
  const forbidden = key
    .replace(/^[A-Za-z][\w-]*:/, "")
    .split(/[.[\]]/)
    .find(isForbiddenKey);
  if (forbidden !== undefined) throw new UsageError(`invalid config key ${JSON.stringify(key)}: ${JSON.stringify(forbidden)} in the key path; allowed: ${FORBIDDEN_KEY_ALLOWED}`);
}

export function checkStack(stack: string, root?: string): void {
  const stacks = stackNames(root);
  if (!stacks.includes(stack)) throw new UsageError(`unknown stack ${JSON.stringify(stack)}: no Pulumi.${stack}.yaml; stacks here: ${stacks.join(", ") || "none"}`);
}

/**
 * Parses argv against the spec. Throws UsageError (exit 2) on an unknown option, a missing or
 * stray value, a missing required option, an unknown --stack or a malformed --config.
 */
export function parseCommand(spec: CommandSpec, argv: string[], root?: string): ParsedCommand {
  const options = allOptions(spec);
  const config = Object.fromEntries(Object.entries(options).map(([name, option]) => [name, { type: option.type, ...(option.short ? { short: option.short } : {}) }]));
  // Non-strict so that the checks below can word the errors (and keep pass-through arguments);
  // tokens give every argument's position.
  const { tokens } = nodeParseArgs({ args: argv, options: config, strict: false, allowPositionals: true, tokens: true });
  const values: Record<string, OptionValue> = {};
  const positionals: string[] = [];
  const consumed = new Set<number>();
  for (const token of tokens) {
    if (token.kind === "option-terminator") {
      if (!spec.passThrough) consumed.add(token.index);
      continue;
    }
    if (token.kind === "positional") {
      if (spec.passThrough) continue;
      consumed.add(token.index);
      positionals.push(token.value);
      continue;
    }
    const option = Object.prototype.hasOwnProperty.call(options, token.name) ? options[token.name] : undefined;
    if (!option) {
      if (spec.passThrough) continue;
      throw new UsageError(`unknown option ${token.rawName}; valid options: ${validOptions(spec)}`);
    }
    const raw = argv[token.index];
    if (token.rawName.length === 2 && !raw.startsWith(token.rawName)) throw new UsageError(`give ${token.rawName} on its own, not grouped in ${raw}`);
    consumed.add(token.index);
    if (option.type === "boolean") {
      if (token.inlineValue) throw new UsageError(`${token.rawName} takes no value (${raw})`);
      values[token.name] = true;
      continue;
    }
    if (token.value === undefined || (!token.inlineValue && token.value.startsWith("-"))) {
      throw new UsageError(`${token.rawName} needs a value: ${flagName(token.name, option)}`);
    }
    if (!token.inlineValue) consumed.add(token.index + 1);
    if (option.multiple) values[token.name] = [...((values[token.name] as string[] | undefined) ?? []), token.value];
    else if (values[token.name] !== undefined) throw new UsageError(`${token.rawName} given twice`);
    else values[token.name] = token.value;
  }
  const passThrough = spec.passThrough ? argv.filter((_, index) => !consumed.has(index)) : [];
  if (values.help === true) return { help: true, values, positionals, passThrough };

  for (const [name, option] of Object.entries(spec.options)) {
    if (values[name] === undefined && option.multiple) values[name] = [];
    if (values[name] === undefined && option.default !== undefined) values[name] = option.default;
    const value = values[name];
    if (option.required && (value === undefined || (Array.isArray(value) && value.length === 0))) {
      throw new UsageError(`${flagName(name, option)} is required; ${usageLine(spec)}`);
    }
  }
  const { min = 0, max = 0, name: positionalName = "" } = spec.positionals ?? {};
  if (positionals.length > max) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[max])}; ${usageLine(spec)}`);
  if (positionals.length < min) throw new UsageError(`${positionalName} is required; ${usageLine(spec)}`);
  if (spec.options.stack && typeof values.stack === "string") checkStack(values.stack, root);
  if (spec.options.config && Array.isArray(values.config)) values.config.forEach(checkConfigOverride);
  return { help: false, values, positionals, passThrough };
}

/** The error as one line: multi-line messages are joined. */
export function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean)
    .join("; ");
}

/**
 * Runs a script's main and exits with its code (0 or 1). Any error exits 2 in one line on
 * stderr, `<name>: <message>`; VEZA_DEBUG=1 adds the stack trace.
 */
export function runMain(name: string, main: () => number | Promise<number>): void {
  Promise.resolve()
    .then(main)
    .then(
      (code) => process.exit(code),
      (error: unknown) => {
        process.stderr.write(`${name}: ${oneLine(error)}\n`);
        if (process.env.VEZA_DEBUG && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
        process.exit(EXIT_USAGE);
      },
    );
}

/** Parses argv for a script; on --help prints the help and returns undefined (exit 0). */
export function parseOrHelp(spec: CommandSpec, argv: string[] = process.argv.slice(2)): ParsedCommand | undefined {
  const parsed = parseCommand(spec, argv);
  if (parsed.help) {
    process.stdout.write(helpText(spec));
    return undefined;
  }
  return parsed;
}
