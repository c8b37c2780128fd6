// The stack config's JSON Schema, generated from schema.ts, shaped like a Pulumi.<stack>.yaml so
// that an editor can check one (docs/stack-config.schema.json: npm run config:schema writes it).
// It carries the per-field types, ranges, patterns and defaults; the rules that span fields
// (sizing, quorum, ports, hosts distinct, rotation steps) are only in validate.ts.
import { z } from "zod";
import { READ_FROM_CONFIG_STRINGS } from "./fields";
import { SECRET_KEYS, stackConfigSchema } from "./schema";

export const JSON_SCHEMA_FILE = "docs/stack-config.schema.json";

type JsonSchema = Record<string, unknown>;

/** `pulumi config set` stores scalars as strings: "3" and "true" are what a stack file may hold. */
const NUMERIC_STRING = { type: "string", pattern: "^\\s*[-+]?(\\d+\\.?\\d*|\\.\\d+)([eE][-+]?\\d+)?\\s*$" };
const BOOLEAN_STRING = { type: "string", enum: ["true", "false"] };

function acceptConfigStrings(json: JsonSchema): void {
  const alternative = json.type === "integer" || json.type === "number" ? NUMERIC_STRING : json.type === "boolean" ? BOOLEAN_STRING : undefined;
  if (!alternative) return;
  const { default: defaultValue, description, ...typed } = json;
  for (const key of Object.keys(json)) delete json[key];
  Object.assign(json, description === undefined ? {} : { description }, defaultValue === undefined ? {} : { default: defaultValue }, { anyOf: [typed, alternative] });
}

/** The config object's schema: one property per key, namespace stripped. */
export function stackConfigJsonSchema(): JsonSchema {
  return z.toJSONSchema(stackConfigSchema, {
    io: "input",
    unrepresentable: "any",
    override: ({ zodSchema, jsonSchema }) => {
      const def = zodSchema._zod.def;
      // zod drops a default whose inner type is a preprocess pipe (the numbers and booleans).
      if (def.type === "default" && jsonSchema.default === undefined) jsonSchema.default = (def as unknown as { defaultValue: unknown }).defaultValue;
      // The unknown-key catchall (never) means: no other keys.
      if (JSON.stringify(jsonSchema.additionalProperties) === JSON.stringify({ not: {} })) jsonSchema.additionalProperties = false;
      if (READ_FROM_CONFIG_STRINGS.has(zodSchema)) acceptConfigStrings(jsonSchema as JsonSchema);
    },
  }) as JsonSchema;
}

/** The schema of a whole Pulumi.<stack>.yaml: this project's keys under `config:` as `<project>:<key>`. */
export function stackFileJsonSchema(project: string): JsonSchema {
  const { $schema, properties, required } = stackConfigJsonSchema() as { $schema: string; properties: Record<string, JsonSchema>; required?: string[] };
  const secret = {
    type: "object",
    properties: { secure: { type: "string" } },
    required: ["secure"],
    additionalProperties: false,
    description: "a secret: pulumi config set --secret (npm run init-stack)",
  };
  const namespaced = Object.fromEntries(Object.entries(properties).map(([key, schema]) => [`${project}:${key}`, (SECRET_KEYS as readonly string[]).includes(key) ? secret : schema]));
  const escapedProject = project.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return {
    $schema,
    title: `Pulumi.<stack>.yaml of ${project}`,
    description: `Generated from components/config/schema.ts by npm run config:schema; do not edit. Per-field checks only: pulumi preview runs the full validation.`,
    type: "object",
    properties: {
      config: {
        type: "object",
        properties: namespaced,
        required: (required ?? []).map((key) => `${project}:${key}`),
        // Other namespaces (docker:, pulumi:) are not this schema's business; an unknown key of
        // this project's is (a typo would otherwise be ignored by the editor).
        patternProperties: { [`^(?!${escapedProject}:)`]: {} },
        additionalProperties: false,
      },
    },
  };
}

/** The file's text, as committed. */
export function renderStackFileJsonSchema(project: string): string {
  return `${JSON.stringify(stackFileJsonSchema(project), null, 2)}\n`;
}
