// npm run config:schema [-- --check]
// Writes docs/stack-config.schema.json, the JSON Schema of Pulumi.<stack>.yaml, from the zod
// schema (components/config/schema.ts). --check only reports whether the file differs (exit 1),
// as tests/unit/configSchema.test.ts does.
import { JSON_SCHEMA_FILE, renderStackFileJsonSchema } from "../components/config/jsonSchema";
import { EXIT_OK, parseOrHelp, runMain, type CommandSpec } from "./lib/args";
import { regenerate } from "./lib/generatedFile";
import { projectName } from "./lib/stackFiles";

const SPEC: CommandSpec = {
  name: "config:schema",
  invocation: "npm run config:schema --",
  summary: `Regenerates ${JSON_SCHEMA_FILE} (the JSON Schema editors check Pulumi.<stack>.yaml with) from components/config/schema.ts.`,
  options: { check: { type: "boolean", description: `change nothing; exit 1 when ${JSON_SCHEMA_FILE} differs from the schema` } },
  finding: `${JSON_SCHEMA_FILE} differs (--check)`,
};

function main(): number {
  const args = parseOrHelp(SPEC);
  if (!args) return EXIT_OK;
  return regenerate("config:schema", JSON_SCHEMA_FILE, renderStackFileJsonSchema(projectName()), args.values.check === true);
}

runMain("config:schema", main);
