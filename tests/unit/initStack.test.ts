// `npm run init-stack` without the Pulumi CLI: a fake `pulumi`, first on PATH,
// records each call's argv (NUL-separated) and stdin. The tests assert the exact sequence, that
// every secret reaches pulumi on stdin and never in argv or our output, and that anything missing
// is exit 2, naming it, before pulumi runs at all.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { helpText, parseCommand, UsageError } from "../../scripts/lib/args";
import { INIT_STACK_SPEC, initStack } from "../../scripts/lib/initStack";
import { PROJECT_ROOT } from "../../lib/stackFiles";
import { STACK_SECRETS } from "../../lib/stackSecrets";
import { cleanedTempDirs } from "../helpers/tempDirs";

const TSX = path.join(PROJECT_ROOT, "node_modules", ".bin", "tsx");
const SECRETS = {
  VEZA_SLACK_WEBHOOK_URL: "https://hooks.slack.com/services/T0/B0/s3cr3t-slack",
  VEZA_PAGERDUTY_ROUTING_KEY: "pd-routing-key-s3cr3t",
  VEZA_HEARTBEAT_WEBHOOK_URL: "https://hc-ping.com/s3cr3t-uuid",
};
const tempDir = cleanedTempDirs();

interface Fake {
  env: NodeJS.ProcessEnv;
  calls: () => Array<{ argv: string[]; stdin: string; env?: string }>;
}

/**
 * A fake pulumi: `stack select` exits FAKE_SELECT_STATUS (1: no such stack), `config set` fails
 * when FAKE_CONFIG_FAIL is set, anything else succeeds.
 */
function fakePulumi(extraEnv: NodeJS.ProcessEnv = {}): Fake {
  const bin = tempDir("veza-fakepulumi-");
  const log = tempDir("veza-fakelog-");
  fs.writeFileSync(
    path.join(bin, "pulumi"),
    [
      "#!/bin/sh",
      // Shell builtins only, besides cat: each call stays cheap.
      `i=0; read i < '${log}'/n; echo $((i + 1)) > '${log}'/n`,
      `for a in "$@"; do printf '%s\\0' "$a"; done > '${log}'/$i.argv`,
      `cat > '${log}'/$i.stdin`,
      `printf '%s' "\${VEZA_SLACK_WEBHOOK_URL-}\${VEZA_PAGERDUTY_ROUTING_KEY-}\${VEZA_HEARTBEAT_WEBHOOK_URL-}\${VEZA_SSH_PRIVATE_KEY-}" > '${log}'/$i.env`,
      'if [ "$1 $2" = "stack select" ]; then exit "${FAKE_SELECT_STATUS:-0}"; fi',
      'if [ "$1" = config ] && [ -n "$FAKE_CONFIG_FAIL" ]; then echo "error: passphrase must be set" >&2; exit 255; fi',
      "exit 0",
      "",
    ].join("\n"),
    { mode: 0o755 },
  );
  return {
    env: { PATH: `${bin}${path.delimiter}/usr/bin${path.delimiter}/bin`, PULUMI_CONFIG_PASSPHRASE: "pass", ...extraEnv },
    calls: () => {
      const files = fs
        .readdirSync(log)
        .filter((f) => f.endsWith(".argv"))
        .sort((a, b) => parseInt(a, 10) - parseInt(b, 10));
      return files.map((f) => ({
        argv: fs.readFileSync(path.join(log, f), "utf8").split("\0").slice(0, -1),
        stdin: fs.readFileSync(path.join(log, f.replace(".argv", ".stdin")), "utf8"),
        // The VEZA_* secret variables as pulumi saw them: always empty.
        ...(fs.readFileSync(path.join(log, f.replace(".argv", ".env")), "utf8") ? { env: "leaked" } : {}),
      }));
    },
  };
}

async function run(argv: string[], env: NodeJS.ProcessEnv, options: { root?: string; prompt?: (q: string) => Promise<string> } = {}) {
  const lines: string[] = [];
  const code = await initStack(parseCommand(INIT_STACK_SPEC, argv, options.root), { env, out: (line) => lines.push(line), prompt: options.prompt, root: options.root });
  return { code, output: lines.join("\n") };
}

const setSecret = (stack: string, key: string) => ["config", "set", "--secret", "--stack", stack, key];

function expectNoSecretLeaked(fake: Fake, output: string, values: string[]): void {
  for (const value of values) {
    for (const call of fake.calls()) for (const arg of call.argv) expect(arg).not.toContain(value);
    expect(output).not.toContain(value);
  }
}

describe("init-stack", () => {
  it("a new stack: select (none), init with the passphrase provider, then each required secret on stdin (not in argv, not in pulumi's environment)", async () => {
    const fake = fakePulumi({ ...SECRETS, FAKE_SELECT_STATUS: "1" });
    const { code, output } = await run(["--stack", "prod", "--org", "acme", "--non-interactive"], fake.env);
    expect(code).toBe(0);
    expect(fake.calls()).toEqual([
      { argv: ["stack", "select", "acme/prod"], stdin: "" },
      { argv: ["stack", "init", "acme/prod", "--secrets-provider", "passphrase"], stdin: "" },
      { argv: setSecret("acme/prod", "slackWebhookUrl"), stdin: SECRETS.VEZA_SLACK_WEBHOOK_URL },
      { argv: setSecret("acme/prod", "pagerdutyRoutingKey"), stdin: SECRETS.VEZA_PAGERDUTY_ROUTING_KEY },
      { argv: setSecret("acme/prod", "heartbeatWebhookUrl"), stdin: SECRETS.VEZA_HEARTBEAT_WEBHOOK_URL },
    ]);
    expectNoSecretLeaked(fake, output, Object.values(SECRETS));
    expect(output).toMatch(/^init-stack: using .*\/pulumi: the first pulumi on PATH outside node_modules/m);
    expect(output).toMatch(/^init-stack: created stack acme\/prod with secrets provider passphrase$/m);
    expect(output).toMatch(/^init-stack: still unset: sshPrivateKey \(optional: .*set VEZA_SSH_PRIVATE_KEY/m);
    expect(output).toMatch(
      /every required secret \(slackWebhookUrl, pagerdutyRoutingKey, heartbeatWebhookUrl\).*commit Pulumi\.prod\.yaml.*pulumi preview --stack acme\/prod --policy-pack policy --diff$/m,
    );
  });

  it("an existing stack is selected, not re-created; a multi-line SSH key reaches stdin byte for byte", async () => {
    const key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n";
    const fake = fakePulumi({ ...SECRETS, VEZA_SSH_PRIVATE_KEY: key });
    const { code, output } = await run(["--stack=prod", "--non-interactive"], fake.env);
    expect(code).toBe(0);
    expect(fake.calls().map((c) => c.argv)).toEqual([
      ["stack", "select", "prod"],
      setSecret("prod", "slackWebhookUrl"),
      setSecret("prod", "pagerdutyRoutingKey"),
      setSecret("prod", "heartbeatWebhookUrl"),
      setSecret("prod", "sshPrivateKey"),
    ]);
    expect(fake.calls()[4].stdin).toBe(key);
    expectNoSecretLeaked(fake, output, [...Object.values(SECRETS), "b3BlbnNzaC1rZXktdjEAAAAA"]);
    expect(output).toMatch(/stack prod exists, selected/);
  });

  it("passes --secrets-provider through to stack init verbatim; a KMS provider needs no passphrase", async () => {
    const fake = fakePulumi({ ...SECRETS, FAKE_SELECT_STATUS: "1", PULUMI_CONFIG_PASSPHRASE: undefined });
    const provider = "awskms://alias/veza-prod?region=eu-west-3";
    const { code } = await run(["--secrets-provider", provider, "--non-interactive"], fake.env);
    expect(code).toBe(0);
    expect(fake.calls()[1].argv).toEqual(["stack", "init", "prod", "--secrets-provider", provider]);
  });

  it("--existing: a missing stack is exit 1 and never created", async () => {
    const fake = fakePulumi({ ...SECRETS, FAKE_SELECT_STATUS: "1" });
    const { code, output } = await run(["--org", "acme", "--existing", "--non-interactive"], fake.env);
    expect(code).toBe(1);
    expect(fake.calls().map((c) => c.argv)).toEqual([["stack", "select", "acme/prod"]]);
    expect(output).toMatch(/stack acme\/prod does not exist, and --existing forbids creating it/);
  });

  it("a missing environment variable: exit 2 naming it and the key, before pulumi runs", async () => {
    const fake = fakePulumi({ ...SECRETS, VEZA_PAGERDUTY_ROUTING_KEY: "" });
    const attempt = run(["--non-interactive"], fake.env);
    await expect(attempt).rejects.toThrow(UsageError);
    await expect(attempt).rejects.toThrow(/^stack prod requires VEZA_PAGERDUTY_ROUTING_KEY \(pagerdutyRoutingKey: .*\): set it in the environment.*nothing was run$/);
    expect(fake.calls()).toEqual([]);
  });

  it("the passphrase provider without PULUMI_CONFIG_PASSPHRASE(_FILE): exit 2 naming both, before pulumi runs", async () => {
    const fake = fakePulumi({ ...SECRETS, PULUMI_CONFIG_PASSPHRASE: undefined });
    await expect(run(["--non-interactive"], fake.env)).rejects.toThrow(/^the passphrase secrets provider needs PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE .*nothing was run$/);
    expect(fake.calls()).toEqual([]);
  });

  it("the passphrase check follows the provider the stack file records, not the --secrets-provider default", async () => {
    const root = tempDir("veza-initroot-");
    fs.copyFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), path.join(root, "Pulumi.yaml"));
    const prod = fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.prod.yaml"), "utf8");
    const fake = fakePulumi({ ...SECRETS, PULUMI_CONFIG_PASSPHRASE: undefined });
    fs.writeFileSync(path.join(root, "Pulumi.prod.yaml"), `secretsprovider: awskms://alias/veza?region=eu-west-3\nencryptedkey: AQICAHg\n${prod}`);
    expect((await run(["--non-interactive"], fake.env, { root })).code).toBe(0);
    fs.writeFileSync(path.join(root, "Pulumi.prod.yaml"), `encryptionsalt: v1:salt\n${prod}`);
    await expect(run(["--non-interactive", "--existing", "--secrets-provider", "default"], fake.env, { root })).rejects.toThrow(/passphrase secrets provider needs PULUMI_CONFIG_PASSPHRASE/);
    // Nothing recorded and --existing: the stack's provider is unknown here, so pulumi decides.
    expect((await run(["--non-interactive", "--existing"], fake.env)).code).toBe(0);
  });

  it.each([
    [["--org", "acme/team"], /^--org "acme\/team": allowed a Pulumi organization name/],
    [["--secrets-provider", "vault"], /^--secrets-provider "vault": allowed passphrase, default, or a URL awskms:\/\//],
  ])("refuses %j naming the value and what is allowed", async (argv, message) => {
    const fake = fakePulumi(SECRETS);
    await expect(run([...argv, "--non-interactive"], fake.env)).rejects.toThrow(message);
    expect(fake.calls()).toEqual([]);
  });

  it("a failing pulumi command: exit 1 with its message, nothing after it runs", async () => {
    const fake = fakePulumi({ ...SECRETS, FAKE_CONFIG_FAIL: "1" });
    const { code, output } = await run(["--non-interactive"], fake.env);
    expect(code).toBe(1);
    expect(fake.calls()).toHaveLength(2);
    expect(output).toMatch(/^init-stack: pulumi config set --secret --stack prod slackWebhookUrl failed: error: passphrase must be set$/m);
  });

  it("keeps secrets already encrypted in the stack file, and prompts (never echoing) for the rest in a terminal", async () => {
    const root = tempDir("veza-initroot-");
    fs.copyFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), path.join(root, "Pulumi.yaml"));
    const prod = fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.prod.yaml"), "utf8");
    fs.writeFileSync(path.join(root, "Pulumi.prod.yaml"), `encryptionsalt: v1:salt\n${prod.trimEnd()}\n  veza-redis:slackWebhookUrl:\n    secure: v1:AAAA\n`);
    const fake = fakePulumi({ VEZA_HEARTBEAT_WEBHOOK_URL: SECRETS.VEZA_HEARTBEAT_WEBHOOK_URL });
    const asked: string[] = [];
    const prompt = async (question: string) => {
      asked.push(question);
      return question.startsWith("pagerdutyRoutingKey") ? "typed-key" : "";
    };
    const { code, output } = await run([], fake.env, { root, prompt });
    expect(code).toBe(0);
    expect(asked.map((q) => q.split(" ")[0])).toEqual(["pagerdutyRoutingKey", "sshPrivateKey"]);
    expect(fake.calls()).toEqual([
      { argv: ["stack", "select", "prod"], stdin: "" },
      { argv: setSecret("prod", "pagerdutyRoutingKey"), stdin: "typed-key" },
      { argv: setSecret("prod", "heartbeatWebhookUrl"), stdin: SECRETS.VEZA_HEARTBEAT_WEBHOOK_URL },
    ]);
    expect(output).toMatch(/^init-stack: kept slackWebhookUrl \(already encrypted in Pulumi\.prod\.yaml\)$/m);
    expect(output).toMatch(/^init-stack: set pagerdutyRoutingKey \(secret, from prompt\)$/m);
    expectNoSecretLeaked(fake, output, ["typed-key"]);
  });

  it("dev requires no secret: the stack is made and nothing is set; an empty passphrase counts as set, as for pulumi", async () => {
    const fake = fakePulumi({ PULUMI_CONFIG_PASSPHRASE: "" });
    const { code } = await run(["--stack", "dev", "--non-interactive"], fake.env);
    expect(code).toBe(0);
    expect(fake.calls().map((c) => c.argv)).toEqual([["stack", "select", "dev"]]);
  });

  it("--help: a usage line, a line per option and one per secret with its variable", () => {
    const help = helpText(INIT_STACK_SPEC);
    expect(help).toMatch(/^usage: npm run init-stack -- \[--stack <name>\] \[--org <org>\] \[--secrets-provider <provider>\] \[--non-interactive\] \[--existing\]$/m);
    for (const option of ["--stack", "--org", "--secrets-provider", "--non-interactive", "--existing", "-h, --help"]) expect(help).toMatch(new RegExp(`^  ${option}\\b`, "m"));
    for (const secret of STACK_SECRETS) expect(help).toMatch(new RegExp(`^  ${secret.key} +${secret.env} `, "m"));
  });

  it("as `npm run init-stack` runs it: a missing variable is exit 2 in one line on stderr", () => {
    const fake = fakePulumi({ ...SECRETS, VEZA_SLACK_WEBHOOK_URL: undefined });
    const script = path.join(PROJECT_ROOT, "scripts", "init-stack.ts");
    const env = { ...fake.env, PATH: `${fake.env.PATH}${path.delimiter}${path.dirname(process.execPath)}` };
    const result = spawnSync(TSX, [script, "--stack", "prod"], { cwd: PROJECT_ROOT, encoding: "utf8", env, input: "" });
    expect(result.status).toBe(2);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(/^init-stack: stack prod requires VEZA_SLACK_WEBHOOK_URL \(slackWebhookUrl: /);
    expect(fake.calls()).toEqual([]);
  });
});
