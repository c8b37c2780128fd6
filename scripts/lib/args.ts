// The shared command-line shape: --stack <name>, repeated --config <key>=<value>, and named options.
export interface CommonArgs {
  stack: string;
  config: string[];
  out?: string;
  json?: string;
  scenario?: string;
  [option: string]: string | string[] | boolean | undefined;
}

export function parseArgs(argv: string[], defaults: { stack: string }, required: string[] = [], flags: string[] = []): CommonArgs {
  const args: CommonArgs = { stack: defaults.stack, config: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("--")) throw new Error(`unexpected argument ${JSON.stringify(arg)}`);
    const name = arg.slice(2);
    if (flags.includes(name)) {
      args[name] = true;
      continue;
    }
    const value = argv[++i];
    if (value === undefined || value.startsWith("--")) throw new Error(`${arg} needs a value`);
    if (name === "config") args.config.push(value);
    else args[name] = value;
  }
  for (const name of required) if (args[name] === undefined) throw new Error(`--${name} is required`);
  return args;
}
