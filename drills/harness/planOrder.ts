// The order in which the engine creates or replaces the Redis-family containers, read from
// synth's plan.json dependency graph (what the drills replay). The Node SDK registers a resource
// only once its dependsOn resources are done, and a deleteBeforeReplace resource is deleted
// right before its own create (pulumi/pulumi step_generator.go), so the containers go one at a
// time in dependency order.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT } from "../../scripts/lib/stackFiles";
import type { Plan, PlannedResource } from "../../scripts/lib/synth";

const CONTAINER = "docker:index/container:Container";

/** Synthesizes a stack in a child process (the Pulumi runtime is process-global). */
export function synthPlan(stack: string, overrides: string[], outDir: string): Plan {
  const result = spawnSync(path.join(PROJECT_ROOT, "node_modules", ".bin", "tsx"), [path.join(PROJECT_ROOT, "scripts", "synth.ts"), "--stack", stack, ...overrides.flatMap((o) => ["--config", o]), "--out", outDir], { cwd: PROJECT_ROOT, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`synth --stack ${stack} ${overrides.join(" ")} failed: ${result.stderr.trim()}`);
  return JSON.parse(fs.readFileSync(path.join(outDir, "plan.json"), "utf8")) as Plan;
}

/** Every resource a resource waits for, directly or through others. */
function transitiveDependencies(plan: Plan): Map<string, Set<string>> {
  const byName = new Map(plan.resources.map((r) => [r.name, r]));
  const memo = new Map<string, Set<string>>();
  const visit = (name: string): Set<string> => {
    const known = memo.get(name);
    if (known) return known;
    const all = new Set<string>();
    memo.set(name, all);
    for (const dependency of byName.get(name)?.dependsOn ?? []) {
      all.add(dependency);
      for (const further of visit(dependency)) all.add(further);
    }
    return all;
  };
  for (const resource of plan.resources) visit(resource.name);
  return memo;
}

/**
 * `names` in the order the engine handles them: a resource after everything it (transitively)
 * depends on. Throws when two of them could run at once: the rolling order would not hold.
 */
export function engineOrder(plan: Plan, names: string[]): string[] {
  const dependencies = transitiveDependencies(plan);
  const ordered = [...names].sort((a, b) => dependencies.get(a)!.size - dependencies.get(b)!.size);
  for (let i = 1; i < ordered.length; i++) {
    if (!dependencies.get(ordered[i])!.has(ordered[i - 1])) throw new Error(`${ordered[i - 1]} and ${ordered[i]} do not depend on each other: the engine may replace them at once`);
  }
  return ordered;
}

export const isRedisFamily = (r: PlannedResource) => r.type === CONTAINER && /^(redis|sentinel)-\d+-container$/.test(r.name);

/** The Redis-family containers whose inputs differ between the plans: each one is replaced (every container input but a few is ForceNew). */
export function replacedContainers(before: Plan, after: Plan): string[] {
  const old = new Map(before.resources.map((r) => [r.name, r]));
  return after.resources.filter(isRedisFamily).filter((r) => JSON.stringify(old.get(r.name)?.inputs.image) !== JSON.stringify(r.inputs.image)).map((r) => r.name);
}

/** redis-2-container -> redis-2 */
export const containerSlotName = (resourceName: string) => resourceName.replace(/-container$/, "");
