// The order in which `pulumi up` performs the changes plan-diff finds, as the engine does it:
//
// - A resource is registered only once every resource it depends on has finished its own step:
//   the Node SDK awaits the URNs of its dependencies and explicit provider (sdk/nodejs/runtime/
//   resource.ts prepareResource, dependsOn.ts getAllTransitivelyReferencedResourceURNs) and the
//   engine answers RegisterResource only when the step is done (pkg/resource/deploy/
//   source_eval.go, resmon.RegisterResource: "block waiting for the operation to finish"). So
//   changes run in dependency order and resources that do not depend on each other run at the
//   same time (up to the CLI's --parallel). Unchanged resources ("same" steps) cost nothing.
// - A delete-before-replace (step_generator.go, deleteBeforeReplace) is one chain: first the
//   dependents the replacement would also replace, in reverse dependency order
//   (calculateDependentReplacements: only dependents with an input that takes a value from the
//   replaced set and that forces a replacement; a plain dependsOn edge never does), then the old
//   resource, then its create. A dependent deleted that way is only created in its own turn.
// - Any other replacement creates the new resource in its turn and deletes the old one at the
//   end, with the removed resources, in reverse dependency order of the old graph, in parallel
//   where independent (step_generator.go ScheduleDeletes: antichains).
import { diffPlans, type PlanDiff, type ResourceDiff } from "./planDiff";
import { createWaitsForHealthy, deleteGraceSeconds } from "./providerSemantics";
import type { Plan, PlannedResource } from "./plan";

export interface Operation {
  op: "create" | "update" | "delete";
  name: string;
  type: string;
  /** delete: the provider is not called (retainOnDelete). */
  retained?: boolean;
  /** delete of a container: seconds between SIGTERM and SIGKILL, from the state being deleted. */
  graceSeconds?: number;
  /** create of a container with wait: the step ends only once it is healthy. */
  waitsForHealthy?: boolean;
}

export interface EngineStep {
  /** Each chain is one resource's work, run in order; the chains of a step run at the same time. */
  chains: Operation[][];
  parallel: boolean;
  /** The final phase: old copies of replaced resources and removed resources. */
  deletes: boolean;
}

/** Names of the resources `r` waits for: its dependencies and provider, components expanded to their custom children. */
function dependencies(r: PlannedResource, byName: Map<string, PlannedResource>, children: Map<string, PlannedResource[]>): string[] {
  const expand = (name: string): string[] => {
    const dep = byName.get(name);
    if (!dep) return [];
    return dep.custom ? [name] : (children.get(name) ?? []).flatMap((c) => expand(c.name));
  };
  return [...new Set([...r.dependsOn, ...(r.options.provider ? [r.options.provider] : [])].flatMap(expand))];
}

/** The plan's dependency graph: name -> names it depends on (custom resources only). */
export function dependencyGraph(plan: Plan): Map<string, string[]> {
  const byName = new Map(plan.resources.map((r) => [r.name, r]));
  const children = new Map<string, PlannedResource[]>();
  for (const r of plan.resources) if (r.parent) children.set(r.parent, [...(children.get(r.parent) ?? []), r]);
  return new Map(plan.resources.filter((r) => r.custom).map((r) => [r.name, dependencies(r, byName, children)]));
}

/** Names in dependency order (dependencies first), ties in plan order. */
function topologicalOrder(graph: Map<string, string[]>): string[] {
  const order: string[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (name: string) => {
    if (state.get(name) === "done") return;
    if (state.get(name) === "visiting") throw new Error(`dependency cycle through ${name}`);
    state.set(name, "visiting");
    for (const dep of graph.get(name) ?? []) visit(dep);
    state.set(name, "done");
    order.push(name);
  };
  for (const name of graph.keys()) visit(name);
  return order;
}

/**
 * calculateDependentReplacements for a delete-before-replace of `root`: the transitive dependents
 * in the old graph, in dependency order, that are replaced through a value from root or from one
 * already in the set.
 */
function dependentReplacements(root: string, oldGraph: Map<string, string[]>, diffs: Map<string, ResourceDiff>): string[] {
  const replaceSet = new Set([root]);
  const found: string[] = [];
  for (const name of topologicalOrder(oldGraph)) {
    // replacedBecauseOf holds direct dependencies only, so this also makes `name` a dependent of the set.
    if (name === root || !diffs.get(name)?.replacedBecauseOf.some((cause) => replaceSet.has(cause))) continue;
    replaceSet.add(name);
    found.push(name);
  }
  return found;
}

export function engineOrder(diff: PlanDiff, before: Plan, after: Plan): EngineStep[] {
  const diffs = new Map(diff.resources.map((r) => [r.name, r]));
  const oldByName = new Map(before.resources.map((r) => [r.name, r]));
  const newByName = new Map(after.resources.map((r) => [r.name, r]));
  const graph = dependencyGraph(after);
  const oldGraph = dependencyGraph(before);
  const hasWork = (name: string) => ["create", "update", "replace"].includes(diffs.get(name)?.action ?? "");

  const deleteOp = (r: PlannedResource): Operation => {
    const grace = deleteGraceSeconds(r.type, r.inputs);
    return { op: "delete", name: r.name, type: r.type, ...(r.options.retainOnDelete ? { retained: true } : {}), ...(grace !== undefined ? { graceSeconds: grace } : {}) };
  };
  const createOp = (r: PlannedResource): Operation => ({ op: "create", name: r.name, type: r.type, ...(createWaitsForHealthy(r.type, r.inputs) ? { waitsForHealthy: true } : {}) });

  // Turn of each resource: one more than the latest turn among what it waits for.
  const turn = new Map<string, number>();
  for (const name of topologicalOrder(graph)) {
    const latest = Math.max(0, ...(graph.get(name) ?? []).map((d) => turn.get(d) ?? 0));
    turn.set(name, latest + (hasWork(name) ? 1 : 0));
  }

  const deletedEarly = new Set<string>();
  const deleteAtEnd: string[] = [];
  const steps: EngineStep[] = [];
  const lastTurn = Math.max(0, ...turn.values());
  for (let t = 1; t <= lastTurn; t++) {
    const chains: Operation[][] = [];
    for (const name of graph.keys()) {
      if (turn.get(name) !== t || !hasWork(name)) continue;
      const d = diffs.get(name)!;
      const now = newByName.get(name)!;
      const old = oldByName.get(d.renamedFrom ?? name);
      if (d.action === "update") chains.push([{ op: "update", name, type: now.type }]);
      else if (d.action === "create") chains.push([createOp(now)]);
      else if (d.deleteBeforeReplace) {
        const condemned = [...dependentReplacements(old!.name, oldGraph, diffs).reverse(), old!.name].filter((n) => !deletedEarly.has(n));
        condemned.forEach((n) => deletedEarly.add(n));
        chains.push([...condemned.map((n) => deleteOp(oldByName.get(n)!)), createOp(now)]);
      } else {
        chains.push([createOp(now)]);
        deleteAtEnd.push(old!.name);
      }
    }
    if (chains.length > 0) steps.push({ chains, parallel: chains.length > 1, deletes: false });
  }

  const removed = diff.resources.filter((r) => r.action === "delete").map((r) => r.name);
  for (const antichain of scheduleDeletes(
    [...deleteAtEnd, ...removed].filter((n) => !deletedEarly.has(n) && oldByName.get(n)?.custom),
    oldGraph,
  )) {
    steps.push({ chains: antichain.map((n) => [deleteOp(oldByName.get(n)!)]), parallel: antichain.length > 1, deletes: true });
  }
  return steps;
}

/** ScheduleDeletes: peel off the condemned resources that depend on no other condemned one, then reverse. */
function scheduleDeletes(condemned: string[], oldGraph: Map<string, string[]>): string[][] {
  const left = new Set(condemned);
  const antichains: string[][] = [];
  while (left.size > 0) {
    const free = [...left].filter((n) => !(oldGraph.get(n) ?? []).some((d) => left.has(d)));
    if (free.length === 0) throw new Error(`dependency cycle among ${[...left].join(", ")}`);
    free.forEach((n) => left.delete(n));
    antichains.push(free);
  }
  return antichains.reverse();
}

/** The engine's order for the change from `before` to `after`, for plan-diff and for the drills to replay. */
export function replacementOrder(before: Plan, after: Plan): EngineStep[] {
  return engineOrder(diffPlans(before, after), before, after);
}

function describe(o: Operation): string {
  const details = [
    o.retained ? "retained: not deleted on the host" : undefined,
    o.graceSeconds !== undefined ? (o.graceSeconds > 0 ? `stop grace ${o.graceSeconds} s` : "killed at once: no destroyGraceSeconds") : undefined,
    o.waitsForHealthy ? "waits until healthy" : undefined,
  ].filter(Boolean);
  return `${o.op} ${o.name}${details.length > 0 ? ` [${details.join("; ")}]` : ""}`;
}

export function formatEngineOrder(steps: EngineStep[]): string {
  if (steps.length === 0) return "engine order: nothing to do";
  const lines = ["engine order (one step after the other; chains within a step run in parallel):"];
  steps.forEach((step, i) => {
    const label = `  step ${i + 1}${step.deletes ? " (deletes at the end)" : ""}`;
    if (!step.parallel) lines.push(`${label}: ${step.chains[0].map(describe).join(" -> ")}`);
    else lines.push(`${label}, in parallel:`, ...step.chains.map((chain) => `      ${chain.map(describe).join(" -> ")}`));
  });
  return lines.join("\n");
}
