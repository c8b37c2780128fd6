// npm run config:schema [-- --check]
// Writes docs/stack-config.schema.json, the JSON Schema of Pulumi.<stack>.yaml, from the zod
// schema (components/config/schema.ts). --check only reports whether the file differs (exit 1),
// as tests/unit/configSchema.test.ts does.
import * as fs from "node:fs";
import * as path from "node:path";
import { JSON_SCHEMA_FILE, renderStackFileJsonSchema } from "../components/config/jsonSchema";
import { EXIT_FINDING, EXIT_OK, parseOrHelp, runMain, type CommandSpec } from "./lib/args";
import { projectName, PROJECT_ROOT } from "./lib/stackFiles";

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
  const file = path.join(PROJECT_ROOT, JSON_SCHEMA_FILE);
  const expected = renderStackFileJsonSchema(projectName());
  const current = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
  if (current === expected) {
    process.stdout.write(`config:schema: ${JSON_SCHEMA_FILE} matches the schema\n`);
    return EXIT_OK;
  }
  if (args.values.check) {
    process.stdout.write(`config:schema: ${JSON_SCHEMA_FILE} is ${current === undefined ? "missing" : "stale"}: run npm run config:schema\n`);
    return EXIT_FINDING;
  }
  fs.writeFileSync(file, expected);
  process.stdout.write(`config:schema: wrote ${JSON_SCHEMA_FILE}\n`);
  return EXIT_OK;
}

runMain("config:schema", main);
