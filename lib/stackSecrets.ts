// The stack's secrets: which ones a stack needs, and where `npm run init-stack` reads each.
// Which are required is the validator's answer (components/validation/validate.ts), not a second
// list: the stack file is validated without its secrets, and every secret key it then names is
// one the stack cannot go without.

import { isPlainObject, type RawObject } from "../components/config/reader";
import { SECRET_KEYS, validateStackConfig } from "../components/validation/validate";

export type SecretKey = (typeof SECRET_KEYS)[number];

export interface SecretSpec {
  key: SecretKey;
  /** The environment variable init-stack reads the value from (never a command-line argument). */
  env: string;
  /** What the value is, for prompts and messages. */
  what: string;
}

export const STACK_SECRETS: readonly SecretSpec[] = [
  { key: "slackWebhookUrl", env: "VEZA_SLACK_WEBHOOK_URL", what: "Slack incoming-webhook URL for warnings" },
  { key: "pagerdutyRoutingKey", env: "VEZA_PAGERDUTY_ROUTING_KEY", what: "PagerDuty Events v2 routing key for pages" },
  { key: "heartbeatWebhookUrl", env: "VEZA_HEARTBEAT_WEBHOOK_URL", what: "dead man's switch URL Alertmanager pings every minute" },
  { key: "sshPrivateKey", env: "VEZA_SSH_PRIVATE_KEY", what: "private key for the ssh:// Docker hosts (optional: an SSH agent works too)" },
];

/** The secret keys this stack config cannot go without (empty for dev). */
export function requiredSecretKeys(raw: RawObject): SecretKey[] {
  const withoutSecrets = Object.fromEntries(Object.entries(raw).filter(([key]) => !(SECRET_KEYS as readonly string[]).includes(key)));
  const result = validateStackConfig(withoutSecrets, { lenient: true });
  if (result.ok) return [];
  const named = new Set(result.problems.map((p) => p.key));
  return SECRET_KEYS.filter((key) => named.has(key));
}

/** Keys held as `secure:` values in a stack file's `config:` (namespace stripped). */
export function secureKeysInFile(config: Record<string, unknown> | undefined, project: string): string[] {
  return Object.entries(config ?? {})
    .filter(([, value]) => isPlainObject(value) && Object.keys(value).length === 1 && "secure" in value)
    .map(([fullKey]) => (fullKey.includes(":") ? fullKey.split(":", 2) : [project, fullKey]))
    .filter(([namespace]) => namespace === project)
    .map(([, key]) => key);
}
