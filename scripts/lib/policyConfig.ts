// The policy pack's settings, as `pulumi up --policy-pack-config <file>` takes them: a JSON
// object of policy name -> { setting: value } (or an enforcement level). Each policy declares its
// settings with a configSchema; this checks a file against them (ajv, JSON Schema as the CLI
// applies it), fills the defaults, and names the policy, the setting, the value and what is
// allowed for every problem, before any policy runs.
import type { EnforcementLevel, PolicyConfigSchema, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import Ajv, { type ErrorObject } from "ajv";

type AnyPolicy = ResourceValidationPolicy | StackValidationPolicy;

export interface ResolvedPolicyConfig {
  /** Each policy's settings, defaults filled. */
  settings: Record<string, Record<string, unknown>>;
  /** Enforcement levels the file sets. */
  levels: Record<string, EnforcementLevel>;
}

const LEVELS: EnforcementLevel[] = ["advisory", "mandatory", "remediate", "disabled"];

function describeError(policy: string, error: ErrorObject, value: unknown): string {
  const key = error.instancePath.replace(/^\//, "").replaceAll("/", ".") || (error.params as { additionalProperty?: string }).additionalProperty || "";
  const shown = JSON.stringify(key && typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key.split(".")[0]] : value);
  if (error.keyword === "additionalProperties") return `${policy}.${key}: no such setting`;
  return `${policy}.${key}: ${shown} is not allowed: ${error.message ?? "it does not match the setting's schema"}`;
}

/** Throws one error listing every problem; returns the settings every policy gets otherwise. */
export function resolvePolicyConfig(raw: unknown, policies: AnyPolicy[]): ResolvedPolicyConfig {
  const problems: string[] = [];
  const byName = new Map(policies.map((p) => [p.name, p]));
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new Error(`policy config: expected a JSON object of policy name -> settings, got ${JSON.stringify(raw)}`);
  const levels: Record<string, EnforcementLevel> = {};
  const given: Record<string, Record<string, unknown>> = {};
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    if (name === "all") {
      if (LEVELS.includes(value as EnforcementLevel)) for (const p of policies) levels[p.name] = value as EnforcementLevel;
      else problems.push(`all: ${JSON.stringify(value)} is not allowed: must be one of ${LEVELS.join(", ")}`);
      continue;
    }
    if (!byName.has(name)) {
      problems.push(`${name}: no such policy in this pack (policies: ${[...byName.keys()].join(", ")})`);
      continue;
    }
    if (typeof value === "string") {
      if (LEVELS.includes(value as EnforcementLevel)) levels[name] = value as EnforcementLevel;
      else problems.push(`${name}: ${JSON.stringify(value)} is not allowed: must be one of ${LEVELS.join(", ")}, or an object of settings`);
      continue;
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      problems.push(`${name}: ${JSON.stringify(value)} is not allowed: must be an object of settings or an enforcement level`);
      continue;
    }
    const { enforcementLevel, ...settings } = value as Record<string, unknown>;
    if (enforcementLevel !== undefined) {
      if (LEVELS.includes(enforcementLevel as EnforcementLevel)) levels[name] = enforcementLevel as EnforcementLevel;
      else problems.push(`${name}.enforcementLevel: ${JSON.stringify(enforcementLevel)} is not allowed: must be one of ${LEVELS.join(", ")}`);
    }
    given[name] = settings;
  }
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true });
  const resolved: Record<string, Record<string, unknown>> = {};
  for (const policy of policies) {
    const schema: PolicyConfigSchema = policy.configSchema ?? { properties: {} };
    const settings = structuredClone(given[policy.name] ?? {});
    if (Object.keys(settings).length > 0 && Object.keys(schema.properties).length === 0) {
      problems.push(`${policy.name}: takes no settings (given ${Object.keys(settings).join(", ")})`);
      continue;
    }
    const validate = ajv.compile({ type: "object", properties: schema.properties, required: schema.required ?? [], additionalProperties: false });
    if (!validate(settings)) {
      const settingNames = Object.keys(schema.properties).join(", ");
      for (const error of validate.errors ?? []) problems.push(`${describeError(policy.name, error, settings)}${error.keyword === "additionalProperties" ? ` (settings: ${settingNames})` : ""}`);
      continue;
    }
    resolved[policy.name] = settings;
  }
  if (problems.length > 0) throw new Error(`policy config: ${problems.join("; ")}`);
  return { settings: resolved, levels };
}
