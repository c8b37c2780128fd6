import type { SynthOptions, SynthOutcome, SynthResult } from "../../scripts/lib/synth";

// Each fresh copy of the Pulumi runtime adds its own process exit listeners.
process.setMaxListeners(100);

/**
 * Runs the program under mocks with a fresh copy of the Pulumi runtime (its state is module
 * global), so one test file can compare several configs.
 */
export async function synthFresh(stack = "dev", overrides: string[] = [], options: SynthOptions = {}): Promise<SynthOutcome> {
  let outcome: SynthOutcome | undefined;
  await jest.isolateModulesAsync(async () => {
    const { synthesize } = await import("../../scripts/lib/synth");
    outcome = await synthesize(stack, overrides, options);
  });
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

export function uploadContent(container: Resource, file: string): string {
  const uploads = container.inputs.uploads as Array<{ file: string; content: string }>;
  const upload = uploads.find((u) => u.file === file);
  if (!upload) throw new Error(`${container.name} has no upload ${file}`);
  return upload.content;
}

export function label(container: Resource, name: string): string | undefined {
  const labels = container.inputs.labels as Array<{ label: string; value: string }> | undefined;
  return labels?.find((l) => l.label === `veza.${name}`)?.value;
}
