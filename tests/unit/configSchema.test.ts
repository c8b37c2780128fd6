// The zod schema is the one source of the config's keys and defaults. The JSON
// Schema editors use and the config table of docs/config.md are checked against it here, so neither can
// drift.
import * as fs from "node:fs";
import * as path from "node:path";
import { JSON_SCHEMA_FILE, renderStackFileJsonSchema, stackConfigJsonSchema } from "../../components/config/jsonSchema";
import { projectName, PROJECT_ROOT } from "../../lib/stackFiles";

type JsonSchema = { type?: string; properties?: Record<string, JsonSchema>; items?: JsonSchema; default?: unknown };

/** Every leaf key of the schema with its default: `hosts[].name`, `credentials.<user>.step`. */
function schemaKeys(schema: JsonSchema, prefix = ""): Map<string, unknown> {
  const keys = new Map<string, unknown>();
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    // One row per credential field, whichever user it is for.
    const key = prefix === "credentials" ? "credentials.<user>" : prefix ? `${prefix}.${name}` : name;
    if (property.properties) for (const [k, v] of schemaKeys(property, key)) keys.set(k, v);
    else if (property.items?.properties) for (const [k, v] of schemaKeys(property.items, `${key}[]`)) keys.set(k, v);
    else keys.set(key, property.default);
  }
  return keys;
}

interface TableRow {
  keys: string[];
  /** The default cell split like the key cell; undefined when it says one thing for all keys. */
  defaults?: string[];
}

/** The rows of the config table (docs/config.md): `a.b`, `.c` is a.b and a.c; `x` / `y` pairs defaults by /. */
function readmeConfigTable(): TableRow[] {
  const table = fs.readFileSync(path.join(PROJECT_ROOT, "docs", "config.md"), "utf8");
  return table
    .split("\n")
    .filter((line) => line.startsWith("| `"))
    .map((line) => {
      const [keyCell, defaultCell] = line
        .split(/(?<!\\)\|/)
        .slice(1, 3)
        .map((cell) => cell.trim());
      const separator = keyCell.includes(" / ") ? " / " : ", ";
      let parent = "";
      const keys = keyCell.split(separator).map((token) => {
        const name = token.replace(/`/g, "");
        if (name.startsWith(".")) return `${parent}${name}`;
        parent = name.slice(0, name.lastIndexOf("."));
        return name;
      });
      const defaults = defaultCell.split(separator);
      return { keys, defaults: defaults.length === keys.length ? defaults : undefined };
    });
}

/** A default as the table writes it: `text` in backticks, numbers and booleans bare, lists by commas. */
function formatDefault(value: unknown): string {
  if (Array.isArray(value)) return value.length === 0 ? "none" : value.map(formatDefault).join(", ");
  if (typeof value === "string") return `\`${value}\``;
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

describe("the config schema is the one source", () => {
  it(`${JSON_SCHEMA_FILE} is what the schema generates (npm run config:schema)`, () => {
    const committed = fs.readFileSync(path.join(PROJECT_ROOT, JSON_SCHEMA_FILE), "utf8");
    expect(committed).toBe(renderStackFileJsonSchema(projectName()));
  });

  it("the JSON Schema names every key under the project's namespace, refuses unknown ones and takes the strings pulumi config set writes", () => {
    const file = JSON.parse(renderStackFileJsonSchema("veza-redis"));
    const config = file.properties.config;
    expect(config.additionalProperties).toBe(false);
    expect(config.required).toEqual(["veza-redis:hosts"]);
    const redis = config.properties["veza-redis:redis"];
    expect(redis.additionalProperties).toBe(false);
    expect(redis.properties.memoryLimitMiB).toEqual({ default: 512, anyOf: [{ type: "integer", minimum: 64, maximum: 1048576 }, expect.objectContaining({ type: "string" })] });
    expect(config.properties["veza-redis:slackWebhookUrl"]).toMatchObject({ required: ["secure"] });
  });

  const keys = schemaKeys(stackConfigJsonSchema() as JsonSchema);
  const rows = readmeConfigTable();
  const documented = rows.flatMap((row) => row.keys);

  it("every key of the schema has a row in docs/config.md's table, and every key there is in the schema", () => {
    expect([...keys.keys()].filter((key) => !documented.includes(key))).toEqual([]);
    expect(documented.filter((key) => !keys.has(key))).toEqual([]);
  });

  it("the table's defaults are the schema's (where the schema has a fixed one)", () => {
    const mismatches = rows.flatMap((row) =>
      row.defaults === undefined
        ? []
        : row.keys.flatMap((key, i) => {
            const expected = keys.get(key);
            return expected === undefined || row.defaults![i] === formatDefault(expected) ? [] : [`${key}: docs/config.md says ${row.defaults![i]}, the schema ${formatDefault(expected)}`];
          }),
    );
    expect(mismatches).toEqual([]);
    // The check above must not pass by skipping: most keys have a fixed default checked there.
    expect(
      rows
        .filter((row) => row.defaults !== undefined)
        .flatMap((row) => row.keys)
        .filter((key) => keys.get(key) !== undefined).length,
    ).toBeGreaterThan(40);
  });
});
