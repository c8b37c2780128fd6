// The plan synth writes (plan.json): each resource as the engine would register it. Read by the
// commands, the drills (the engine's order) and the tests.

export interface PlannedResource {
  type: string;
  name: string;
  parent?: string;
  custom: boolean;
  /** Names of the resources this one waits for (explicit dependsOn and input dependencies). */
  dependsOn: string[];
  /**
   * For each top-level input that takes a value from other resources, their names: what the
   * engine looks at to decide whether replacing one resource replaces its dependents
   * (pulumi/pulumi step_generator.go calculateDependentReplacements). Optional in fixtures.
   */
  propertyDependencies?: Record<string, string[]>;
  options: ResourceOptions;
  /** Inputs with every secret replaced by "[secret]". */
  inputs: Record<string, unknown>;
}

/** The resource options the engine acts on, as the SDK sent them in RegisterResourceRequest. */
export interface ResourceOptions {
  protect: boolean;
  retainOnDelete: boolean;
  /** null: not set, the provider decides (the engine only overrides it when the option is defined). */
  deleteBeforeReplace: boolean | null;
  ignoreChanges: string[];
  replaceOnChanges: string[];
  aliases: Alias[];
  /** Name of the explicit provider resource, if any (the SDK waits for it before registering). */
  provider?: string;
  /** Resources whose replacement replaces this one too (the engine's replaceWith); absent when none. */
  replaceWith?: string[];
}

/** An alias as the SDK sends it: a full URN, or a spec whose empty parts mean "same as now". */
export type Alias = { urn: string } | { name?: string; type?: string; stack?: string; project?: string; parent?: string | null };

export interface Plan {
  stack: string;
  resources: PlannedResource[];
  outputs: Record<string, unknown>;
}
