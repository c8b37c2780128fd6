// Runs the CrossGuard policies in-process over a synth plan, the way the engine's analyzer would:
// props with secrets unwrapped, unknown values behind @pulumi/policy's own unknown-checking proxy
// (touching one is reported as advisory "can't run during preview", as the engine does).
import type { EnforcementLevel, PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { policies as packPolicies } from "../../policy/policies";
import { resolvePolicyConfig } from "./policyConfig";
import { UNKNOWN_MARK } from "./serialized";
import type { PlannedResource } from "./synth";

export interface Violation {
  policy: string;
  level: EnforcementLevel;
  resource: string;
  message: string;
}

type AnyPolicy = ResourceValidationPolicy | StackValidationPolicy;

// The engine's own unknown-value machinery; marked @internal in its typings, so typed here.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const proxy = require("@pulumi/policy/proxy") as {
  unknownCheckingProxy<T extends object>(value: T): T;
  UnknownValueError: new (...args: unknown[]) => Error;
  unknownStringValue: string;
};
const { unknownCheckingProxy, UnknownValueError, unknownStringValue } = proxy;

/**
 * The plan's props with "[unknown]" as the engine's unknown, rebuilt from fresh arrays and objects:
 * the proxy checks only values that are `instanceof Object` here, so an array from another realm
 * (jest's structuredClone makes those) would pass through unchecked, and `.map` would keep its realm.
 */
function restoreUnknowns(value: unknown): unknown {
  if (value === UNKNOWN_MARK) return unknownStringValue;
  if (Array.isArray(value)) return Array.from(value, restoreUnknowns);
  if (typeof value === "object" && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, restoreUnknowns(v)]));
  return value;
}

export function toPolicyResources(resources: PlannedResource[], project: string, stack: string): PolicyResource[] {
  const urnOf = (r: PlannedResource) => `urn:pulumi:${stack}::${project}::${r.type}::${r.name}`;
  const byName = new Map(resources.map((r) => [r.name, r]));
  const propsOf = (r: PlannedResource) => unknownCheckingProxy(restoreUnknowns(r.inputs) as Record<string, unknown>);
  const converted = resources.map(
    (r) =>
      ({
        type: r.type,
        name: r.name,
        urn: urnOf(r),
        props: propsOf(r),
        // The options synth recorded from the registration (what the engine hands the analyzer).
        opts: {
          protect: r.options?.protect ?? false,
          ignoreChanges: r.options?.ignoreChanges ?? [],
          ...(typeof r.options?.deleteBeforeReplace === "boolean" ? { deleteBeforeReplace: r.options.deleteBeforeReplace } : {}),
          aliases: (r.options?.aliases ?? []).map((alias) => ("urn" in alias ? alias.urn : JSON.stringify(alias))),
          additionalSecretOutputs: [],
          customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        },
        // Filled below, as the pack's server fills them from the engine's URNs (server.js analyzeStack).
        dependencies: [] as PolicyResource[],
        propertyDependencies: {} as Record<string, PolicyResource[]>,
        ...(r.options?.provider && byName.has(r.options.provider) ? { provider: providerOf(byName.get(r.options.provider)!) } : {}),
        isType: () => false,
        asType: () => undefined,
      }) as unknown as PolicyResource,
  );
  const policyResource = new Map(converted.map((p) => [p.name, p]));
  const resolve = (names: string[]) => names.map((name) => policyResource.get(name)).filter((p): p is PolicyResource => p !== undefined);
  resources.forEach((r, i) => {
    converted[i].dependencies = resolve(r.dependsOn ?? []);
    converted[i].propertyDependencies = Object.fromEntries(Object.entries(r.propertyDependencies ?? {}).map(([key, names]) => [key, resolve(names)]));
  });
  return converted;

  function providerOf(provider: PlannedResource) {
    return { type: provider.type, name: provider.name, urn: urnOf(provider), props: propsOf(provider) };
  }
}

/**
 * The pack's policies over a plan. `policyConfig` is a `--policy-pack-config` file's object: each
 * policy's getConfig returns its settings with the schema's defaults, as under the engine.
 */
export async function runPolicies(resources: PlannedResource[], project: string, stack: string, policies: AnyPolicy[] = packPolicies, policyConfig: unknown = {}): Promise<Violation[]> {
  const { settings, levels } = resolvePolicyConfig(policyConfig, policies);
  const violations: Violation[] = [];
  const policyResources = toPolicyResources(resources, project, stack);
  const stackTags = new Map<string, string>();
  for (const policy of policies) {
    const level = levels[policy.name] ?? policy.enforcementLevel ?? "advisory";
    const getConfig = () => settings[policy.name] as never;
    if (level === "disabled") continue;
    const guard = async (resourceName: string, run: (report: (message: string, urn?: string) => void) => Promise<void> | void) => {
      const report = (message: string, urn?: string) => violations.push({ policy: policy.name, level, resource: urn ? urn.split("::").pop()! : resourceName, message });
      try {
        await run(report);
      } catch (error) {
        if (error instanceof UnknownValueError) violations.push({ policy: policy.name, level: "advisory", resource: resourceName, message: `can't run during preview: ${error.message}` });
        else throw error;
      }
    };
    if ("validateResource" in policy && policy.validateResource) {
      const validations = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
      for (const resource of policyResources) {
        for (const validate of validations) {
          await guard(resource.name, (report) =>
            validate(
              {
                ...resource,
                stackTags,
                getConfig,
                notApplicable: () => {
                  throw new Error("not applicable");
                },
              } as never,
              report,
            ),
          );
        }
      }
    }
    if ("validateStack" in policy) {
      await guard("stack", (report) =>
        policy.validateStack(
          {
            resources: policyResources,
            stackTags,
            getConfig,
            notApplicable: () => {
              throw new Error("not applicable");
            },
          } as never,
          report,
        ),
      );
    }
  }
  return violations;
}

export function formatViolation(v: Violation): string {
  return `${v.level} ${v.policy} ${v.resource}: ${v.message}`;
}
