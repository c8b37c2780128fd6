// Every script's command line: strict flags through one parser (scripts/lib/args.ts),
// --help, `--flag value` and `--flag=value`, and exit 0 ok / 1 a finding / 2 a usage or config error
// in one line on stderr, never a stack trace.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { checkConfigOverride, helpText, parseCommand, UsageError, type CommandSpec } from "../../scripts/lib/args";
import { runScript } from "../helpers/cli";

/** stderr is exactly one line, `<script>: ...`, with no stack trace. */
function expectOneLine(stderr: string, script: string): string {
  const lines = stderr.trim().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^${script}: `));
  expect(stderr).not.toMatch(/^\s+at /m);
  return lines[0];
}

const VALID_OPTIONS: Record<string, string> = {
  synth: "--stack, --config, --applied, --out, --help",
  policy: "--stack, --config, --applied, --policy-config, --help",
  "plan-diff": "--stack, --config, --applied, --help",
  drill: "--stack, --scenario, --repeat, --short, --json, --update-docs, --help",
  soak: "--runs, --burn-core, --out, --timeout-minutes, --help",
  "aof-repair": "--backup-dir, --help",
  rotate: "--stack, --user, --applied, --help",
  restore: "--stack, --config, --snapshot, --repository, --password-file, --data-dir, --node, --replace-data, --force, --help",
};

describe("the shared parser", () => {
  const spec: CommandSpec = {
    name: "t",
    invocation: "t",
    summary: "a test command",
    options: {
      stack: { type: "string", value: "<name>", default: "dev", description: "s" },
      config: { type: "string", multiple: true, description: "c" },
      short: { type: "boolean", description: "b" },
    },
  };

  it("takes --flag value and --flag=value alike, repeated options in order", () => {
    const a = parseCommand(spec, ["--stack", "prod", "--config", "a=1", "--config=b=2", "--short"]);
    const b = parseCommand(spec, ["--stack=prod", "--config=a=1", "--config", "b=2", "--short"]);
    expect(a.values).toEqual({ stack: "prod", config: ["a=1", "b=2"], short: true });
    expect(b.values).toEqual(a.values);
  });

  it.each([
    [["--stak", "prod"], /^unknown option --stak; valid options: --stack, --config, --short, --help$/],
    [["--stack"], /^--stack needs a value/],
    [["--stack", "--short"], /^--stack needs a value/],
    [["--short=yes"], /^--short takes no value/],
    [["--stack", "dev", "--stack", "prod"], /^--stack given twice$/],
    [["extra"], /^unexpected argument "extra"/],
    [["--stack", "nope"], /^unknown stack "nope": no Pulumi\.nope\.yaml; stacks here: dev, prod$/],
    [["--config", "=x"], /^--config "=x": the key before "=" is empty/],
  ])("refuses %j", (argv, message) => {
    expect(() => parseCommand(spec, argv)).toThrow(UsageError);
    expect(() => parseCommand(spec, argv)).toThrow(message);
  });

  it.each(["=x", "x", "", ".a=1", "a..b=1", "hosts[x]=1", "a b=1"])("refuses --config %j", (override) => {
    expect(() => checkConfigOverride(override)).toThrow(UsageError);
  });

  it.each(["incident=redis-down", "redis.memoryLimitMiB=1024", "hosts[1].address=10.0.0.2", "veza-redis:incident=none", "a=", "a=b=c"])("takes --config %j", (override) => {
    expect(() => checkConfigOverride(override)).not.toThrow();
  });

  it("--help wins over missing required options and lists one line per option", () => {
    expect(parseCommand({ ...spec, options: { ...spec.options, out: { type: "string", required: true, description: "o" } } }, ["--help"]).help).toBe(true);
    const help = helpText(spec);
    expect(help).toMatch(/^usage: t \[--stack <name>\] \[--config <value> \.\.\.\] \[--short\]\n/);
    for (const flag of ["--stack <name>", "--config <value>", "--short", "-h, --help"]) expect(help).toMatch(new RegExp(`^  ${flag.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} `, "m"));
  });
});

describe.each(["synth", "policy", "plan-diff", "drill", "soak", "aof-repair", "rotate", "restore"])("npm run %s", (script) => {
  it("--help: exit 0, a usage line and a line per option", () => {
    const result = runScript(script, ["--help"]);
    expect(result.status).toBe(0);
    expect(result.stderr).toBe("");
    expect(result.stdout).toMatch(new RegExp(`^usage: npm run ${script} -- `));
    for (const option of VALID_OPTIONS[script].split(", ")) expect(result.stdout).toMatch(new RegExp(`^  (-h, )?${option}\\b`, "m"));
    expect(result.stdout).toMatch(/^exit: 0 ok, .*2 a usage or config error/m);
  });

  it("a mistyped flag (--stak prod): exit 2 naming the valid flags", () => {
    const result = runScript(script, ["--stak", "prod", ...(script === "aof-repair" ? ["some.aof"] : [])]);
    expect(result.status).toBe(2);
    expect(expectOneLine(result.stderr, script)).toBe(`${script}: unknown option --stak; valid options: ${VALID_OPTIONS[script]}`);
  });
});

describe.each(["synth", "policy", "plan-diff", "drill"])("npm run %s with a stack", (script) => {
  const extra = script === "synth" ? ["--out", os.tmpdir()] : script === "plan-diff" ? ["--config", "incident=redis-down"] : [];

  it("an unknown stack: exit 2, one line naming the stacks", () => {
    const result = runScript(script, ["--stack", "staging", ...extra]);
    expect(result.status).toBe(2);
    expect(expectOneLine(result.stderr, script)).toBe(`${script}: unknown stack "staging": no Pulumi.staging.yaml; stacks here: dev, prod`);
    expect(result.stdout).toBe("");
  });
});

describe.each(["synth", "policy", "plan-diff"])("npm run %s --config", (script) => {
  const extra = script === "synth" ? ["--out", os.tmpdir()] : [];

  it.each([
    ["=x", /the key before "=" is empty/],
    ["incident", /expected <key>=<value>/],
    ["redis..port=1", /is not a config key path/],
  ])("--config %s: exit 2, one line", (override, message) => {
    const result = runScript(script, ["--stack", "dev", "--config", override, ...extra]);
    expect(result.status).toBe(2);
    expect(expectOneLine(result.stderr, script)).toMatch(message);
  });

  // policy checks a config the validator refuses anyway (the pack is the second gate): a finding.
  if (script !== "policy")
    it("an invalid value (incident=panic): exit 2, one line naming the key and what is allowed", () => {
      const result = runScript(script, ["--stack", "dev", "--config", "incident=panic", ...extra]);
      expect(result.status).toBe(2);
      expect(expectOneLine(result.stderr, script)).toMatch(/invalid config.*incident.*panic/);
    });
});

// Config that could inject or pollute is refused in one line naming the key, exit 2,
// before anything is declared (it crashed synth and policy with exit 1 before). Other bad values
// take the path `incident=panic` shows above.
describe("config that could inject", () => {
  it.each([
    ["synth", "__proto__.enabled=false", /^synth: invalid config key "__proto__\.enabled": "__proto__" in the key path; allowed: a key other than __proto__, constructor, prototype/],
    ["policy", 'redis={"__proto__":{"port":1}}', /^policy: stack dev: invalid config, nothing to check: redis\.__proto__: got \{"port":1\}; allowed: a key other than __proto__/],
  ])("npm run %s -- --stack dev --config %s: exit 2, one line naming the key", (script, override, message) => {
    const result = runScript(script, ["--stack", "dev", "--config", override, ...(script === "synth" ? ["--out", os.tmpdir()] : [])]);
    expect(result.status).toBe(2);
    expect(expectOneLine(result.stderr, script)).toMatch(message);
    expect(result.stdout).toBe("");
  });
});

describe("the =-form", () => {
  it("synth --stack=prod --out=<dir>", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "veza-cli-"));
    const result = runScript("synth", ["--stack=prod", `--out=${dir}`, "--config=incident=redis-down"]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^synth: stack prod: \\d+ resources .*-> ${dir}$`, "m"));
    expect(JSON.parse(fs.readFileSync(path.join(dir, "plan.json"), "utf8")).stack).toBe("prod");
    fs.rmSync(dir, { recursive: true });
  });

  it("policy --stack=prod", () => {
    const result = runScript("policy", ["--stack=prod"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^policy: stack prod: \d+ resources, 0 mandatory/m);
  });

  it("plan-diff --stack=prod --config=incident=redis-down", () => {
    const result = runScript("plan-diff", ["--stack=prod", "--config=incident=redis-down"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^plan-diff: stack prod, incident=redis-down$/m);
  });

  it("drill --stack=prod --repeat=11 and --scenario=nope are read (and refused before anything runs)", () => {
    const repeat = runScript("drill", ["--stack=prod", "--repeat=11"]);
    expect(repeat.status).toBe(2);
    expect(expectOneLine(repeat.stderr, "drill")).toBe("drill: --repeat 11: allowed 1..10");
    const scenario = runScript("drill", ["--stack=prod", "--scenario=nope"]);
    expect(scenario.status).toBe(2);
    expect(expectOneLine(scenario.stderr, "drill")).toMatch(/^drill: unknown scenario "nope"; scenarios: /);
  });
});

describe("npm run aof-repair arguments", () => {
  it.each([
    [[], /^aof-repair: <aof> is required; usage: npm run aof-repair -- \[--backup-dir <dir>\] <aof>$/],
    [["a.aof", "b.aof"], /^aof-repair: unexpected argument "b\.aof"/],
    [["/nonexistent/appendonly.aof.1.incr.aof"], /^aof-repair: \/nonexistent\/appendonly\.aof\.1\.incr\.aof: no such file$/],
  ])("%j: exit 2, one line", (argv, message) => {
    const result = runScript("aof-repair", argv);
    expect(result.status).toBe(2);
    expect(expectOneLine(result.stderr, "aof-repair")).toMatch(message);
  });
});
