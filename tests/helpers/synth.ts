import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { SynthOptions, SynthOutcome, SynthResult } from "../../scripts/lib/synth";
import { configCarrierFor } from "../../components/base/hardening";

// Each fresh copy of the Pulumi runtime adds its own process exit listeners.
process.setMaxListeners(100);

/**
 * Where this run's outcome of a synth with these arguments is kept (jest's globalSetup makes the
 * directory per run: the code cannot change meanwhile). None for an option that is a function
 * (previewCreates): it has no stable key.
 */
function cacheFile(stack: string, overrides: string[], options: SynthOptions): string | undefined {
  const dir = process.env.VEZA_SYNTH_CACHE;
  if (!dir || Object.values(options).some((value) => typeof value === "function")) return undefined;
  return path.join(
    dir,
    `${createHash("sha256")
      .update(JSON.stringify([stack, overrides, options]))
      .digest("hex")}.json`,
  );
}

// secretPaths is a Map: kept as its entries.
const toJson = (outcome: SynthOutcome) => JSON.stringify(outcome, (_key, value: unknown) => (value instanceof Map ? { mapEntries: [...value] } : value));
const fromJson = (text: string) =>
  JSON.parse(text, (_key, value: { mapEntries?: unknown[] } | unknown) =>
    value && typeof value === "object" && "mapEntries" in value ? new Map(value.mapEntries as Array<[string, string[]]>) : value,
  ) as SynthOutcome;

/**
 * Runs the program under mocks with a fresh copy of the Pulumi runtime (its state is module
 * global), so one test file can compare several configs. Each caller gets its own copy.
 */
export async function synthFresh(stack = "dev", overrides: string[] = [], options: SynthOptions = {}): Promise<SynthOutcome> {
  const cached = cacheFile(stack, overrides, options);
  if (cached && fs.existsSync(cached)) return fromJson(fs.readFileSync(cached, "utf8"));
  let outcome: SynthOutcome | undefined;
  await jest.isolateModulesAsync(async () => {
    const { synthesize } = await import("../../scripts/lib/synth");
    outcome = await synthesize(stack, overrides, options);
  });
  if (cached) {
    // Beside it, then renamed: the other worker may read it at any moment.
    fs.writeFileSync(`${cached}.${process.pid}`, toJson(outcome!));
    fs.renameSync(`${cached}.${process.pid}`, cached);
    return fromJson(fs.readFileSync(cached, "utf8"));
  }
  return outcome!;
}

export async function synthOk(stack = "dev", overrides: string[] = [], options: SynthOptions = {}): Promise<SynthResult> {
  const outcome = await synthFresh(stack, overrides, options);
  if (!outcome.ok) throw new Error(`expected a valid config, got: ${JSON.stringify(outcome.problems)}`);
  return outcome.result;
}

export type Resource = SynthResult["unmasked"][number];

export function byName(resources: Resource[], name: string): Resource {
  const found = resources.find((r) => r.name === name);
  if (!found) throw new Error(`no resource ${name}; have ${resources.map((r) => r.name).join(", ")}`);
  return found;
}

export function ofType(resources: Resource[], type: string): Resource[] {
  return resources.filter((r) => r.type === type);
}

export const CONTAINER = "docker:index/container:Container";

/** The config carrier a container's files are uploaded to (components/host/hardenedContainer.ts). */
export function configCarrierOf(resources: Resource[], container: Resource): Resource | undefined {
  return resources.find((r) => r.type === CONTAINER && configCarrierFor(r.inputs.labels) === container.inputs.name);
}

/** A container's files: its carrier's uploads (none when it has no carrier). */
export function uploadsOf(resources: Resource[], container: Resource): Array<{ file: string; content: string }> {
  return (configCarrierOf(resources, container)?.inputs.uploads ?? []) as Array<{ file: string; content: string }>;
}

export function uploadContent(resources: Resource[], container: Resource, file: string): string {
  const upload = uploadsOf(resources, container).find((u) => u.file === file);
  if (!upload) throw new Error(`${container.name} has no file ${file} in its config carrier`);
  return upload.content;
}

export function label(container: Resource, name: string): string | undefined {
  const labels = container.inputs.labels as Array<{ label: string; value: string }> | undefined;
  return labels?.find((l) => l.label === `veza.${name}`)?.value;
}
