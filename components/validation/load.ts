import * as pulumi from "@pulumi/pulumi";
import { requireValidStackConfig, StackConfigError } from "./validate";
import { broughtCaProblems } from "./tlsFiles";
import { setOwn, type RawObject } from "../config/reader";
import type { StackConfig } from "../config/types";

/**
 * Reads this project's keys from the Pulumi config. Objects arrive as JSON strings, scalars as
 * plain strings (what `pulumi config set` stores); unknown keys in the namespace are kept so
 * the validator can name them.
 */
export function readRawConfig(project: string, all: Record<string, string>): RawObject {
  const raw: RawObject = {};
  const prefix = `${project}:`;
  for (const [fullKey, text] of Object.entries(all)) {
    if (!fullKey.startsWith(prefix)) continue;
    // An own property even for a key named __proto__: the validator names it instead of it
    // silently replacing raw's prototype (which hid sections behind inherited values).
    setOwn(raw, fullKey.slice(prefix.length), parseConfigText(text));
  }
  return raw;
}

function parseConfigText(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    try {
      return JSON.parse(trimmed);
    } catch {
      return text;
    }
  }
  return text;
}

export interface StackSecrets {
  slackWebhookUrl?: pulumi.Output<string>;
  pagerdutyRoutingKey?: pulumi.Output<string>;
  /** The dead man's switch: an outside service that pages when Watchdog stops arriving. */
  heartbeatWebhookUrl?: pulumi.Output<string>;
  sshPrivateKey?: pulumi.Output<string>;
}

/** The validated config of the running stack; throws listing every problem before anything is declared. */
export function loadStackConfig(): { config: StackConfig; secrets: StackSecrets } {
  const project = pulumi.getProject();
  const config = requireValidStackConfig(readRawConfig(project, pulumi.runtime.allConfig()));
  // A brought CA's files, read here: a bad one stops `preview` and `up` before anything is declared.
  const fileProblems = broughtCaProblems(config.tls);
  if (fileProblems.length > 0) throw new StackConfigError(fileProblems);
  return { config, secrets: readStackSecrets() };
}

export function readStackSecrets(): StackSecrets {
  const pulumiConfig = new pulumi.Config();
  return {
    slackWebhookUrl: pulumiConfig.getSecret("slackWebhookUrl"),
    pagerdutyRoutingKey: pulumiConfig.getSecret("pagerdutyRoutingKey"),
    heartbeatWebhookUrl: pulumiConfig.getSecret("heartbeatWebhookUrl"),
    sshPrivateKey: pulumiConfig.getSecret("sshPrivateKey"),
  };
}
