import type { SynthOptions, SynthOutcome, SynthResult } from "../../scripts/lib/synth";
import { configCarrierFor } from "../../components/topology/hardening";

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
