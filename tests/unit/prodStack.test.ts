// The shipped prod stack: no undecryptable `secure:` placeholder, comments
// naming each secret to set; synth/policy/plan-diff read the missing required secrets as
// placeholders (the plan is the one the old placeholders gave), while the program under the
// engine, which really lacks them, refuses the stack naming each key.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import YAML from "yaml";
import { readRawConfig } from "../../components/validation/load";
import { SECRET_KEYS, StackConfigError, requireValidStackConfig } from "../../components/validation/validate";
import { PROJECT_ROOT, readStackConfigFile, secretPlaceholder } from "../../lib/stackFiles";
import { STACK_SECRETS } from "../../lib/stackSecrets";

const PROD_FILE = path.join(PROJECT_ROOT, "Pulumi.prod.yaml");
const REQUIRED = ["slackWebhookUrl", "pagerdutyRoutingKey", "heartbeatWebhookUrl"];

/** Every `secure:` value anywhere in a parsed YAML document, by path. */
function securePaths(node: unknown, at = ""): string[] {
  if (Array.isArray(node)) return node.flatMap((item, i) => securePaths(item, `${at}[${i}]`));
  if (node && typeof node === "object") {
    return Object.entries(node).flatMap(([key, value]) => (key === "secure" ? [at] : securePaths(value, at ? `${at}.${key}` : key)));
  }
  return [];
}

describe("Pulumi.prod.yaml as shipped", () => {
  const text = fs.readFileSync(PROD_FILE, "utf8");

  it("holds no secure: value and no encryptionsalt (each team's provider encrypts its own)", () => {
    const doc = YAML.parse(text) as Record<string, unknown>;
    expect(securePaths(doc)).toEqual([]);
    expect(Object.keys(doc)).toEqual(["config"]);
    expect(text).not.toMatch(/REPLACE/);
  });

  it("names every secret, its environment variable and the init-stack command in its comments", () => {
    const comments = text
      .split("\n")
      .filter((line) => line.startsWith("#"))
      .join("\n");
    expect(comments).toMatch(/npm run init-stack -- --stack prod/);
    for (const secret of STACK_SECRETS) expect(comments).toMatch(new RegExp(`^#\\s+${secret.key}\\s+${secret.env}\\s+(required|optional)`, "m"));
    expect(STACK_SECRETS.map((s) => s.key).sort()).toEqual([...SECRET_KEYS].sort());
  });

  it("reads the required secrets it lacks as secret placeholders, so synth and policy see the same plan as before", () => {
    const file = readStackConfigFile("prod");
    expect(file.unsetSecretKeys).toEqual(REQUIRED);
    expect(file.secretKeys).toEqual(REQUIRED);
    for (const key of REQUIRED) expect(file.raw[key]).toBe(secretPlaceholder(key));
    expect(() => requireValidStackConfig(file.raw)).not.toThrow();
    expect(readStackConfigFile("dev").unsetSecretKeys).toEqual([]);
  });

  it("under the engine, without the secrets, the program refuses the stack naming each key and the command that sets it", () => {
    // What the engine hands the program: plain values, objects as JSON, no secrets.
    const doc = YAML.parse(text) as { config: Record<string, unknown> };
    const all = Object.fromEntries(Object.entries(doc.config).map(([key, value]) => [key, typeof value === "string" ? value : JSON.stringify(value)]));
    let error: unknown;
    try {
      requireValidStackConfig(readRawConfig("veza-redis", all));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StackConfigError);
    const problems = (error as StackConfigError).problems;
    expect(problems.map((p) => p.key)).toEqual(REQUIRED);
    for (const p of problems) expect(p.allowed).toContain(`pulumi config set --secret ${p.key}`);
    // With them set (decrypted by the engine), it passes.
    expect(() =>
      requireValidStackConfig(
        readRawConfig("veza-redis", {
          ...all,
          "veza-redis:slackWebhookUrl": "https://hooks.example/x",
          "veza-redis:pagerdutyRoutingKey": "k",
          "veza-redis:heartbeatWebhookUrl": "https://hc.example/p",
        }),
      ),
    ).not.toThrow();
  });

  it("once init-stack has set them (secure: values in the file), none is read as unset", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "veza-prodstack-"));
    try {
      fs.copyFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), path.join(root, "Pulumi.yaml"));
      const secure = REQUIRED.map((key) => `  veza-redis:${key}:\n    secure: v1:AAAA${key}`).join("\n");
      fs.writeFileSync(path.join(root, "Pulumi.prod.yaml"), `encryptionsalt: v1:salt\n${text.trimEnd()}\n${secure}\n`);
      const file = readStackConfigFile("prod", root);
      expect(file.unsetSecretKeys).toEqual([]);
      expect(file.secretKeys).toEqual(REQUIRED);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
