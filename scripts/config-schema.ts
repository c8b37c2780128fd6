// npm run config:schema [-- --check]
// Writes docs/stack-config.schema.json, the JSON Schema of Pulumi.<stack>.yaml, from the zod
// schema (components/config/schema.ts). --check only reports whether the file differs (exit 1),
// as tests/unit/configSchema.test.ts does.
import { JSON_SCHEMA_FILE, renderStackFileJsonSchema } from "../components/config/jsonSchema";
import { runRegenerateCommand } from "./lib/generatedFile";
import { projectName } from "../lib/stackFiles";

runRegenerateCommand("config:schema", JSON_SCHEMA_FILE, "the JSON Schema editors check Pulumi.<stack>.yaml with", "components/config/schema.ts", () => renderStackFileJsonSchema(projectName()));
