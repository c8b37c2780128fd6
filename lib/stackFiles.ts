// Reads Pulumi.yaml / Pulumi.<stack>.yaml and applies `--config key=value` overrides the way
// `pulumi config set [--path]` would. No Pulumi CLI needed.

import * as fs from "node:fs";
import * as path from "node:path";
import YAML from "yaml";
import { FORBIDDEN_KEY_ALLOWED, isForbiddenKey, isPlainObject, setOwn, type RawObject } from "../components/config/reader";
import { requiredSecretKeys } from "./stackSecrets";

export const PROJECT_ROOT = path.resolve(__dirname, "..");

export function projectName(root = PROJECT_ROOT): string {
  const doc = YAML.parse(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) as { name?: string };
  if (!doc?.name) throw new Error("Pulumi.yaml has no name");
  return doc.name;
}

export function stackNames(root = PROJECT_ROOT): string[] {
  return fs
    .readdirSync(root)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => Boolean(s))
    .sort();
}

export interface StackConfigFile {
  /** This project's keys, namespace stripped. Secure values are replaced by a placeholder. */
  raw: RawObject;
  /**
   * Keys whose value was `secure:` in the file (encrypted; synth never decrypts them), and the
   * required secrets the file does not hold yet (`unsetSecretKeys`), both read as the placeholder.
   */
  secretKeys: string[];
  /**
   * Secrets the stack requires (the validator says which) that are not in the file: the shipped
   * prod stack has none, since a team sets its own with `npm run init-stack`. Synth, policy and
   * plan-diff read them as placeholders so PRs keep checking the plan; under the engine they are
   * really absent and the validator refuses the stack, naming each key.
   */
  unsetSecretKeys: string[];
}

/** Placeholder for `secure:` values: synth has no passphrase and must never see real secrets. */
export const SECRET_PLACEHOLDER = "synth-placeholder-secret";
/** The webhook secrets' placeholder: a URL, as the validator requires of their values. */
export const URL_SECRET_PLACEHOLDER = "https://synth-placeholder.invalid/secret";

/** What synth reads a secret as: a URL-shaped stand-in for the webhook URLs. */
export function secretPlaceholder(key: string): string {
  return key.endsWith("WebhookUrl") ? URL_SECRET_PLACEHOLDER : SECRET_PLACEHOLDER;
}

export function readStackConfigFile(stack: string, root = PROJECT_ROOT): StackConfigFile {
  const file = path.join(root, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(file)) {
    throw new Error(`no stack file ${path.basename(file)}; stacks here: ${stackNames(root).join(", ") || "none"}`);
  }
  const doc = (YAML.parse(fs.readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
  const project = projectName(root);
  const raw: RawObject = {};
  const secretKeys: string[] = [];
  for (const [fullKey, value] of Object.entries(doc.config ?? {})) {
    const [namespace, key] = fullKey.includes(":") ? fullKey.split(":", 2) : [project, fullKey];
    if (namespace !== project) continue;
    // setOwn: a key named __proto__ stays a key the validator names, not raw's prototype.
    if (isPlainObject(value) && Object.keys(value).length === 1 && "secure" in value) {
      setOwn(raw, key, secretPlaceholder(key));
      secretKeys.push(key);
    } else {
      setOwn(raw, key, value);
    }
  }
  const unsetSecretKeys = requiredSecretKeys(raw).filter((key) => raw[key] === undefined);
  for (const key of unsetSecretKeys) {
    setOwn(raw, key, secretPlaceholder(key));
    secretKeys.push(key);
  }
  return { raw, secretKeys, unsetSecretKeys };
}

/**
 * Applies `a.b.c=value` (and `hosts[1].address=value`) overrides to a copy of the config. Values
 * are read as YAML scalars, so `3` is a number, `true` a boolean, `noeviction` a string.
 */
export function applyOverrides(raw: RawObject, overrides: string[]): RawObject {
  const result = structuredClone(raw);
  for (const override of overrides) {
    const eq = override.indexOf("=");
    if (eq <= 0) throw new Error(`--config ${JSON.stringify(override)}: expected key=value, e.g. incident=redis-down or redis.memoryLimitMiB=1024`);
    const keyPath = override.slice(0, eq).replace(/^[^:.[]+:/, "");
    const value = parseScalar(override.slice(eq + 1));
    const parts = keyPath.split(/\.|\[(\d+)\]/).filter((p) => p !== undefined && p !== "");
    // Walking `__proto__` would reach Object.prototype and set the value on every object.
    const forbidden = parts.find(isForbiddenKey);
    if (forbidden !== undefined) throw new Error(`--config ${JSON.stringify(override)}: ${JSON.stringify(forbidden)} in the key path; allowed: ${FORBIDDEN_KEY_ALLOWED}`);
    let target: Record<string, unknown> = result;
    parts.forEach((part, index) => {
      const last = index === parts.length - 1;
      if (last) {
        setOwn(target, part, value);
        return;
      }
      const next = Object.prototype.hasOwnProperty.call(target, part) ? target[part] : undefined;
      if (typeof next !== "object" || next === null) setOwn(target, part, /^\d+$/.test(parts[index + 1]) ? [] : {});
      target = target[part] as Record<string, unknown>;
    });
  }
  return result;
}

function parseScalar(text: string): unknown {
  try {
    const parsed = YAML.parse(text);
    return parsed === null ? text : parsed;
  } catch {
    return text;
  }
}
